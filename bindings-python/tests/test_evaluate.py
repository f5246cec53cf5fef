"""One household: `engine.evaluate(household)` gives the assessment as a dict, money as Decimal."""

import datetime
import json
import subprocess
from decimal import Decimal

import pytest

import jiuzhu
from conftest import EXAMPLES, RULES, example, plain


def test_a_dibao_household_with_a_pupil(engine):
    # examples/household.json (spec, examples.md): Beijing 110105, S = 1450.00,
    # p = 750 < S -> dibao 2100 + 145 supplement for the 9-year-old; student aid 500.
    a = engine.evaluate(example("household"))
    sub = a["programs"]["subsistence"]
    assert sub["status"] == "eligible"
    assert sub["category"] == "dibao"
    assert sub["amount"] == Decimal("2245.00")
    assert a["programs"]["student"]["amount"] == Decimal("500.00")
    assert a["totals"] == {"monthly": Decimal("2245.00"), "one_off": Decimal("0.00"), "annual": Decimal("500.00")}
    assert a["derived"]["per_capita_income"] == Decimal("750.00")
    assert a["derived"]["size"] == 3


def test_a_tekun_couple(engine):
    # examples/tekun.json: tekun 1.3 x 1450 x 2 - 800 = 2970.00; medical aid 3500.00.
    a = engine.evaluate(example("tekun"))
    assert a["programs"]["subsistence"]["category"] == "tekun"
    assert a["programs"]["subsistence"]["amount"] == Decimal("2970.00")
    assert a["programs"]["medical"]["amount"] == Decimal("3500.00")
    assert a["totals"]["one_off"] == Decimal("3500.00")


def test_a_review_amount_is_proposed_but_not_paid(engine):
    a = engine.evaluate(example("temporary-review"))
    assert a["programs"]["temporary"]["status"] == "review"
    assert a["programs"]["temporary"]["amount"] == Decimal("4950.00")
    assert a["totals"] == {"monthly": Decimal("150.00"), "one_off": Decimal("0.00"), "annual": Decimal("0.00")}


def test_every_money_value_is_a_decimal(engine):
    a = engine.evaluate(example("students"))
    assert a["programs"]["subsistence"]["amount"] == Decimal("5693.50")
    assert a["totals"]["annual"] == Decimal("13150.00")
    assert isinstance(a["derived"]["members"]["m1"]["counted_income"], Decimal)
    # The figures in reasons, per-member breakdowns and details are Decimals too…
    reason = a["programs"]["subsistence"]["reasons"][0]
    assert reason["values"]["standard"] == Decimal("1395.00")
    assert all(isinstance(m["share"], Decimal) for m in a["programs"]["subsistence"]["members"].values())
    # … while counts stay int and words stay str.
    assert reason["values"]["size"] == 5
    assert isinstance(reason["code"], str)

    def floats(x):
        if isinstance(x, float):
            return 1
        if isinstance(x, dict):
            return sum(floats(v) for v in x.values())
        if isinstance(x, list):
            return sum(floats(v) for v in x)
        return 0

    assert floats(engine.evaluate(example("students"), trace=True)) == 0


def test_json_text_and_dict_give_the_same_assessment(engine):
    text = (EXAMPLES / "tekun.json").read_text(encoding="utf-8")
    assert engine.evaluate(text) == engine.evaluate(json.loads(text)) == engine.evaluate(text.encode())


def test_money_in_may_be_str_int_or_decimal_never_float(engine):
    h = example("tekun")
    as_str = engine.evaluate(h)
    h["members"][1]["incomes"][0]["monthly"] = 300  # int
    assert engine.evaluate(h) == as_str
    h["members"][1]["incomes"][0]["monthly"] = Decimal("300.00")
    assert engine.evaluate(h) == as_str
    h["members"][1]["incomes"][0]["monthly"] = Decimal("3E+2")
    assert engine.evaluate(h) == as_str

    h["members"][1]["incomes"][0]["monthly"] = 300.0
    with pytest.raises(jiuzhu.ValidationError) as e:
        engine.evaluate(h)
    [err] = e.value.errors
    assert err["path"] == "members[1].incomes[0].monthly"
    assert "float" in err["message"] and "str" in err["message"] and "Decimal" in err["message"]


def test_every_float_is_reported_with_its_path(engine):
    h = example("tekun")
    h["members"][0]["medical"]["in_scope_cost"] = 10000.5
    h["assets"]["deposits"] = 0.1
    with pytest.raises(jiuzhu.ValidationError) as e:
        engine.evaluate(h)
    assert [x["path"] for x in e.value.errors] == ["members[0].medical.in_scope_cost", "assets.deposits"]


def test_a_decimal_with_three_places_is_refused_by_the_core(engine):
    h = example("tekun")
    h["members"][0]["incomes"][0]["monthly"] = Decimal("500.005")
    with pytest.raises(jiuzhu.ValidationError) as e:
        engine.evaluate(h)
    assert e.value.errors[0]["path"] == "members[0].incomes[0].monthly"
    assert "more than 2 decimal places" in e.value.errors[0]["message"]


def test_dates_may_be_datetime_dates(engine):
    h = example("tekun")
    h["as_of"] = datetime.date(2025, 3, 1)
    h["members"][0]["birth_date"] = datetime.date(1950, 6, 10)
    assert engine.evaluate(h) == engine.evaluate(example("tekun"))


def test_as_of_overrides_the_households_date(engine):
    # Before 2024-09-01 Beijing's standard was 1395.00: tekun 1.3 x 1395 x 2 - 800.
    a = engine.evaluate(example("tekun"), as_of="2024-08-31")
    assert a["as_of"] == "2024-08-31"
    assert a["programs"]["subsistence"]["amount"] == Decimal("2827.00")
    assert engine.evaluate(example("tekun"), as_of=datetime.date(2024, 8, 31)) == a


def test_without_any_date_today_is_used(engine):
    h = example("tekun")
    del h["as_of"]
    a = engine.evaluate(h)
    assert a["as_of"] == datetime.date.today().isoformat()


def test_messages_in_english(engine):
    a = engine.evaluate(example("household"), lang="en")
    assert a["programs"]["subsistence"]["reasons"][0]["code"] == "SUB_INCOME_BELOW_LINE"
    assert "subsistence standard of 1,450.00 yuan" in a["programs"]["subsistence"]["reasons"][0]["message"]
    zh = engine.evaluate(example("household"))
    assert "低保" in zh["programs"]["subsistence"]["reasons"][0]["message"]
    assert engine.languages == ["zh", "en"]


def test_trace_shows_every_parameter_read(engine):
    a = engine.evaluate(example("tekun"), trace=True)
    standard = [t for t in a["trace"] if t["kind"] == "parameter" and t["name"] == "subsistence.standard"][0]
    assert standard["region"] == "110000" and standard["value"] == "1450.00" and standard["from"] == "2024-09-01"
    result = [t for t in a["trace"] if t["kind"] == "result" and t["program"] == "subsistence"][0]
    assert result["amount"] == Decimal("2970.00")
    assert "trace" not in engine.evaluate(example("tekun"))


def test_the_assessment_keeps_the_order_of_the_json(engine):
    a = engine.evaluate(example("household"))
    assert list(a) == ["household_id", "as_of", "region", "rule_pack", "derived", "programs", "totals"]
    assert list(a["programs"]) == engine.programs == ["subsistence", "temporary", "medical", "student", "employment"]
    assert list(a["totals"]) == ["monthly", "one_off", "annual"]


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_same_data_as_the_cli(engine, cli, name, lang):
    """Python and the `jiuzhu evaluate` command give the same assessment, to the byte
    once Decimals are written as strings (trace included)."""
    path = EXAMPLES / f"{name}.json"
    out = subprocess.run([cli, "evaluate", path, "--trace", "--lang", lang], check=True, capture_output=True, text=True)
    expected = json.loads(out.stdout)
    got = plain(engine.evaluate(json.loads(path.read_text(encoding="utf-8")), lang=lang, trace=True))
    assert got == expected
    assert json.dumps(got, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)  # same key order


def test_the_embedded_pack_is_the_repositorys(engine):
    assert engine.pack["name"] == "cn-social-assistance"
    assert engine.pack == jiuzhu.Engine.from_dir(RULES).pack  # same digest: same files
    assert "110000" in engine.regions


def test_help_shows_the_docs():
    import pydoc

    text = pydoc.render_doc(jiuzhu.Engine)
    for name in ("evaluate", "evaluate_many", "evaluate_frame", "with_parameters", "from_dir"):
        assert name in text
    assert "decimal.Decimal" in jiuzhu.Engine.evaluate.__doc__
