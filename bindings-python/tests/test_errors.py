"""Errors are Python exceptions of jiuzhu, each naming where the problem is; nothing a
caller gives can crash the interpreter or leak a Rust panic."""

import json
import pickle
import shutil

import pytest

import jiuzhu
from conftest import RULES, example


def test_the_exception_family():
    for cls in (jiuzhu.ValidationError, jiuzhu.ParameterError, jiuzhu.RuleError, jiuzhu.PackError, jiuzhu.UsageError):
        assert issubclass(cls, jiuzhu.JiuzhuError)
    assert issubclass(jiuzhu.ValidationError, ValueError)


def test_a_bad_household_lists_every_problem_with_its_path(engine):
    h = example("household")
    h["members"][0]["incomes"][0]["monthly"] = "-5"
    h["members"][0]["disabilty_grade"] = 2
    with pytest.raises(jiuzhu.ValidationError) as e:
        engine.evaluate(h)
    errors = {x["path"]: x["message"] for x in e.value.errors}
    assert errors["members[0].incomes[0].monthly"] == 'negative amount "-5"'
    assert "did you mean `disability_grade`" in errors["members[0].disabilty_grade"]
    assert "members[0].incomes[0].monthly" in str(e.value)


def test_validation_errors_pickle(engine):
    with pytest.raises(jiuzhu.ValidationError) as e:
        engine.evaluate({"id": "x"})
    again = pickle.loads(pickle.dumps(e.value))
    assert type(again) is jiuzhu.ValidationError
    assert again.errors == e.value.errors and str(again) == str(e.value)


def test_unknown_region_names_the_known_ones(engine):
    h = example("tekun")
    h["region"] = "990000"
    with pytest.raises(jiuzhu.ValidationError) as e:
        engine.evaluate(h)
    assert e.value.errors[0]["path"] == "region"
    assert "110000" in e.value.errors[0]["message"]


def test_not_json(engine):
    with pytest.raises(jiuzhu.ValidationError):
        engine.evaluate("{not json")
    with pytest.raises(jiuzhu.ValidationError):
        engine.evaluate(b"\xff\xfe")


@pytest.mark.parametrize(
    "household",
    [42, 1.5, None, ["a", "list"], {"id": 1}, {1: "int key"}, {"id": {1, 2}}, {"id": object()}, {"id": "\ud800"}, "\ud800"],
    ids=["int", "float", "None", "list", "wrong-type", "int-key", "set", "object", "lone-surrogate", "surrogate-text"],
)
def test_wrong_types_are_validation_errors(engine, household):
    with pytest.raises(jiuzhu.ValidationError):
        engine.evaluate(household)


def test_an_object_that_cannot_even_print_itself(engine):
    class Nasty:
        def __repr__(self):
            raise RuntimeError("no")

    with pytest.raises(jiuzhu.ValidationError) as e:
        engine.evaluate({"id": "x", Nasty(): 1})
    assert "<unprintable>" in str(e.value)


def test_deep_nesting_is_refused_not_a_crash(engine):
    deep = {"id": "x"}
    for _ in range(100_000):
        deep = {"a": deep}
    with pytest.raises(jiuzhu.ValidationError) as e:
        engine.evaluate(deep)
    assert "nested more than 64 levels" in str(e.value)
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(jiuzhu.ValidationError):
        engine.evaluate(text)
    loop = {"id": "x"}
    loop["self"] = loop  # a cycle is just very deep
    with pytest.raises(jiuzhu.ValidationError):
        engine.evaluate(loop)


def test_huge_strings_are_refused(engine):
    h = example("tekun")
    h["id"] = "x" * 50_000_000
    with pytest.raises(jiuzhu.ValidationError) as e:
        engine.evaluate(h)
    assert len(str(e.value)) < 10_000  # the message does not echo the string
    with pytest.raises(jiuzhu.ValidationError):
        engine.evaluate(json.dumps(h))
    h = example("tekun")
    h["members"][0]["incomes"][0]["monthly"] = "9" * 10_000
    with pytest.raises(jiuzhu.ValidationError):
        engine.evaluate(h)


def test_a_huge_int_is_not_an_amount(engine):
    h = example("tekun")
    h["members"][0]["incomes"][0]["monthly"] = 10**40
    with pytest.raises(jiuzhu.ValidationError) as e:
        engine.evaluate(h)
    assert "too large" in e.value.errors[0]["message"]


def test_nan_and_infinity_are_not_amounts(engine):
    from decimal import Decimal

    for bad in (Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), "NaN"):
        h = example("tekun")
        h["members"][0]["incomes"][0]["monthly"] = bad
        with pytest.raises(jiuzhu.ValidationError) as e:
            engine.evaluate(h)
        assert e.value.errors[0]["path"] == "members[0].incomes[0].monthly"


def test_bad_arguments_are_usage_errors(engine):
    with pytest.raises(jiuzhu.UsageError):
        engine.evaluate(example("tekun"), lang="fr")
    with pytest.raises(jiuzhu.UsageError):
        engine.evaluate(example("tekun"), as_of="1 March 2025")
    with pytest.raises(jiuzhu.UsageError):
        engine.evaluate_many([example("tekun")], threads=-1)


def test_a_panic_becomes_a_jiuzhu_error():
    from jiuzhu import _jiuzhu

    with pytest.raises(jiuzhu.JiuzhuError) as e:
        _jiuzhu._panic_for_test()
    assert "a deliberate panic" in str(e.value)
    assert type(e.value) is jiuzhu.JiuzhuError  # not pyo3's PanicException (a BaseException)


def test_a_broken_pack_is_a_pack_error_with_files(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(RULES, pack)
    (pack / "programs" / "medical.rhai").write_text("let x = ;\n", encoding="utf-8")
    with pytest.raises(jiuzhu.PackError) as e:
        jiuzhu.Engine.from_dir(pack)
    assert any(x["path"] == "programs/medical.rhai" for x in e.value.errors)
    with pytest.raises(jiuzhu.PackError):
        jiuzhu.Engine.from_dir(tmp_path / "nowhere")


def test_a_failing_script_is_a_rule_error(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(RULES, pack)
    (pack / "programs" / "medical.rhai").write_text("let x = 1 / 0;\nx\n", encoding="utf-8")
    engine = jiuzhu.Engine.from_dir(pack)
    with pytest.raises(jiuzhu.RuleError) as e:
        engine.evaluate(example("tekun"))
    assert "medical" in str(e.value)
    assert e.value.errors[0]["path"] == "programs.medical"


def test_a_runaway_script_stops(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(RULES, pack)
    (pack / "programs" / "student.rhai").write_text("loop { }\n", encoding="utf-8")
    with pytest.raises(jiuzhu.RuleError):
        jiuzhu.Engine.from_dir(pack).evaluate(example("tekun"))


def test_an_unknown_override_is_a_parameter_error(engine):
    with pytest.raises(jiuzhu.ParameterError) as e:
        engine.with_parameters({"subsistence.standrd": "1500"})
    assert "subsistence.standrd" in str(e.value)
    with pytest.raises(jiuzhu.ParameterError):
        engine.with_parameters({"subsistence.standard": "a lot"})
    with pytest.raises(jiuzhu.ParameterError):
        engine.with_parameters({"subsistence.standard": 1500.0})  # float: not exact
    with pytest.raises(jiuzhu.ParameterError):
        engine.with_parameters({"99:subsistence.standard": "1500"})
