//! Every validation rule of household.md, one test each, checking the JSON path.

mod common;
use common::*;
use serde_json::json;

fn assert_error(h: serde_json::Value, expected: &str) {
    let errs = errors_of(&h);
    assert!(errs.iter().any(|e| e.starts_with(expected)), "expected an error starting with {expected:?}, got {errs:#?}");
}

#[test]
fn a_valid_household_evaluates() {
    let a = evaluate(&engine(), &base_household()).unwrap();
    assert_eq!(a.household_id, "T-1");
}

#[test]
fn id_is_required_and_1_to_64_chars() {
    let mut h = base_household();
    h.as_object_mut().unwrap().remove("id");
    assert_error(h, "id: required field is missing");
    let mut h = base_household();
    h["id"] = json!("");
    assert_error(h, "id: must be 1 to 64 characters, found 0");
    let mut h = base_household();
    h["id"] = json!("x".repeat(65));
    assert_error(h, "id: must be 1 to 64 characters, found 65");
}

#[test]
fn region_must_be_six_digits() {
    let mut h = base_household();
    h["region"] = json!("11000");
    assert_error(h, "region: not a 6-digit administrative division code: \"11000\"");
    let mut h = base_household();
    h["region"] = json!(110000);
    assert_error(h, "region: expected a string, found a number");
}

#[test]
fn region_unknown_to_the_pack_names_it_and_the_known_regions() {
    let mut h = base_household();
    h["region"] = json!("120000");
    let errs = errors_of(&h);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("region: region 120000 is not covered by rule pack cn-social-assistance"), "{}", errs[0]);
    assert!(errs[0].contains("110000, 310000, 410100, 440100"), "{}", errs[0]);
}

#[test]
fn area_is_urban_or_rural() {
    let mut h = base_household();
    h["area"] = json!("suburban");
    assert_error(h, "area: unknown value \"suburban\" (expected one of: urban, rural)");
}

#[test]
fn as_of_must_be_a_calendar_date() {
    let mut h = base_household();
    h["as_of"] = json!("2025-02-30");
    assert_error(h, "as_of: not a calendar date YYYY-MM-DD: \"2025-02-30\"");
}

#[test]
fn members_between_1_and_30() {
    let mut h = base_household();
    h["members"] = json!([]);
    assert_error(h, "members: at least one member is required");
    let mut h = base_household();
    let many: Vec<_> = (0..31)
        .map(|i| json!({"id": format!("m{i}"), "relation": if i == 0 {"head"} else {"other"}, "birth_date": "1990-01-01", "sex": "male"}))
        .collect();
    h["members"] = json!(many);
    assert_error(h, "members: 31 entries, at most 30 allowed");
    let mut h = base_household();
    h.as_object_mut().unwrap().remove("members");
    assert_error(h, "members: required field is missing");
}

#[test]
fn member_ids_are_unique() {
    let mut h = base_household();
    h["members"][1]["id"] = json!("m1");
    assert_error(h, "members[1].id: duplicate member id \"m1\"");
}

#[test]
fn exactly_one_head() {
    let mut h = base_household();
    h["members"][0]["relation"] = json!("spouse");
    assert_error(h, "members: exactly one member must have relation \"head\", found 0");
    let mut h = base_household();
    h["members"][1]["relation"] = json!("head");
    assert_error(h, "members: exactly one member must have relation \"head\", found 2");
}

#[test]
fn birth_date_not_after_as_of() {
    let mut h = base_household();
    h["members"][1]["birth_date"] = json!("2025-03-02");
    assert_error(h, "members[1].birth_date: 2025-03-02 is after the assessment date 2025-03-01");
    // the day itself is fine (a newborn)
    let mut h = base_household();
    h["members"][1]["birth_date"] = json!("2025-03-01");
    assert!(evaluate(&engine(), &h).is_ok());
}

#[test]
fn no_member_older_than_130() {
    let mut h = base_household();
    h["members"][1]["birth_date"] = json!("1894-02-28");
    assert_error(h, "members[1].birth_date: 1894-02-28 makes the member older than 130 on 2025-03-01");
    let mut h = base_household();
    h["members"][1]["birth_date"] = json!("1895-03-01"); // exactly 130: allowed
    assert!(evaluate(&engine(), &h).is_ok());
}

#[test]
fn relation_and_sex_are_known_words() {
    let mut h = base_household();
    h["members"][1]["relation"] = json!("cousin");
    assert_error(h, "members[1].relation: unknown value \"cousin\"");
    let mut h = base_household();
    h["members"][1]["sex"] = json!("F");
    assert_error(h, "members[1].sex: unknown value \"F\" (expected one of: female, male)");
}

#[test]
fn disability_grade_is_1_to_4() {
    let mut h = base_household();
    h["members"][1]["disability_grade"] = json!(5);
    assert_error(h, "members[1].disability_grade: grade 5 is not 1 to 4");
    let mut h = base_household();
    h["members"][1]["disability_grade"] = json!(0);
    assert_error(h, "members[1].disability_grade: grade 0 is not 1 to 4");
}

#[test]
fn work_capacity_and_employment_status_are_known_words() {
    let mut h = base_household();
    h["members"][0]["work_capacity"] = json!("some");
    assert_error(h, "members[0].work_capacity: unknown value \"some\"");
    let mut h = base_household();
    h["members"][0]["employment"]["status"] = json!("busy");
    assert_error(h, "members[0].employment.status: unknown value \"busy\"");
    let mut h = base_household();
    h["members"][0]["employment"]["refused_offers"] = json!(-1);
    assert_error(h, "members[0].employment.refused_offers: expected a whole number not below 0, found -1");
}

#[test]
fn student_level_must_be_known_but_age_is_not_checked() {
    let mut h = base_household();
    h["members"][1]["student"] = json!({"level": "kindergarten"});
    assert_error(h, "members[1].student.level: unknown value \"kindergarten\"");
    // a 9-year-old undergraduate is allowed: the rules decide
    let mut h = base_household();
    h["members"][1]["student"] = json!({"level": "undergraduate"});
    assert!(evaluate(&engine(), &h).is_ok());
}

#[test]
fn income_kind_must_be_known() {
    let mut h = base_household();
    h["members"][0]["incomes"][0]["kind"] = json!("salary");
    assert_error(h, "members[0].incomes[0].kind: unknown value \"salary\"");
}

#[test]
fn negative_amount() {
    let mut h = base_household();
    h["members"][0]["incomes"][0]["monthly"] = json!("-5");
    assert_error(h, "members[0].incomes[0].monthly: negative amount \"-5\"");
}

#[test]
fn more_than_two_decimal_places() {
    let mut h = base_household();
    h["members"][0]["incomes"][0]["monthly"] = json!("1500.001");
    assert_error(h, "members[0].incomes[0].monthly: more than 2 decimal places in \"1500.001\"");
}

#[test]
fn nan_infinity_and_words_are_not_amounts() {
    for bad in ["NaN", "Infinity", "-inf", "abc", "1,500.00", ""] {
        let mut h = base_household();
        h["assets"] = json!({"deposits": bad});
        assert_error(h, "assets.deposits: not a decimal amount");
    }
    let mut h = base_household();
    h["assets"] = json!({"deposits": true});
    assert_error(h, "assets.deposits: expected an amount");
}

#[test]
fn huge_amounts_are_refused() {
    let text = base_household().to_string().replace("\"1500.00\"", "1e30");
    let err = engine().evaluate_str(&text, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("members[0].incomes[0].monthly: amount \"1e+30\" is too large"), "{err}");
}

#[test]
fn money_from_json_numbers_is_exact() {
    // 0.1 has no exact binary form; the counted income must still be exactly 1800.10 - 300
    let text = base_household().to_string().replace("\"1500.00\"", "1800.10");
    let a = engine().evaluate_str(&text, &Default::default()).unwrap();
    assert_eq!(a.derived.counted_income.0.to_string(), "1500.10");
}

#[test]
fn unknown_fields_are_errors_with_a_suggestion() {
    let mut h = base_household();
    h["members"][1]["disabilty_grade"] = json!(2);
    assert_error(h, "members[1].disabilty_grade: unknown field (did you mean `disability_grade`?)");
    let mut h = base_household();
    h["colour"] = json!("red");
    assert_error(h, "colour: unknown field");
    let mut h = base_household();
    h["history"] = json!({"temporary_aid_grants": 1});
    assert_error(h, "history.temporary_aid_grants: unknown field (did you mean `temporary_aid_grants_12m`?)");
}

#[test]
fn event_dates_not_after_as_of_and_compensation_may_exceed_loss() {
    let mut h = base_household();
    h["events"] = json!([{"kind": "fire", "date": "2025-03-02", "loss": "100"}]);
    assert_error(h, "events[0].date: 2025-03-02 is after the assessment date 2025-03-01");
    let mut h = base_household();
    h["events"] = json!([{"kind": "fire", "date": "2025-03-01", "loss": "100", "compensation": "500"}]);
    assert!(evaluate(&engine(), &h).is_ok());
    let mut h = base_household();
    h["events"] = json!([{"kind": "meteor", "date": "2025-03-01", "loss": "100"}]);
    assert_error(h, "events[0].kind: unknown value \"meteor\"");
}

#[test]
fn vehicle_kind_must_be_known() {
    let mut h = base_household();
    h["assets"] = json!({"vehicles": [{"kind": "boat", "value": "100"}]});
    assert_error(h, "assets.vehicles[0].kind: unknown value \"boat\"");
}

#[test]
fn all_errors_are_reported_at_once() {
    let mut h = base_household();
    h["region"] = json!("x");
    h["members"][0]["sex"] = json!("?");
    h["members"][1]["incomes"] = json!([{"kind": "wage", "monthly": "-1"}, {"kind": "award", "monthly": "0.001"}]);
    h["expenses"] = json!({"medical": "abc"});
    let errs = errors_of(&h);
    assert_eq!(errs.len(), 5, "{errs:#?}");
    assert!(errs.contains(&"members[1].incomes[0].monthly: negative amount \"-1\"".to_string()));
    assert!(errs.contains(&"members[1].incomes[1].monthly: more than 2 decimal places in \"0.001\"".to_string()));
    assert!(errs.contains(&"expenses.medical: not a decimal amount \"abc\"".to_string()));
}

#[test]
fn malformed_documents() {
    let e = engine();
    for (text, expected) in [
        ("", "empty input"),
        ("   ", "empty input"),
        ("{\"id\": ", "not valid JSON"),
        ("[1, 2]", "expected an object, found an array"),
        ("null", "expected an object, found null"),
    ] {
        let err = e.evaluate_str(text, &Default::default()).unwrap_err();
        assert!(err.to_string().contains(expected), "{text:?}: {err}");
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = e.evaluate_str(&deep, &Default::default()).unwrap_err();
    assert!(err.to_string().contains("nested 100000 levels deep"), "{err}");
}

#[test]
fn missing_date_everywhere_is_an_error_naming_as_of() {
    let mut h = base_household();
    h.as_object_mut().unwrap().remove("as_of");
    assert_error(h, "as_of: no assessment date");
}

#[test]
fn a_missing_date_adds_no_spurious_age_error() {
    let mut h = base_household();
    h.as_object_mut().unwrap().remove("as_of");
    let errs = errors_of(&h);
    assert_eq!(errs.len(), 1, "{errs:#?}");
}
