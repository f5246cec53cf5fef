"""Reforms: `engine.with_parameters({...})` is the same pack with other parameters;
`jiuzhu.compare(baseline, reform, households)` gives the figures of `jiuzhu compare`."""

import json
import subprocess
from decimal import Decimal

import pandas as pd
import pytest

import jiuzhu
from conftest import example, plain

REFORM = {"subsistence.standard": "1500", "110000:medical.annual_cap": "80000"}


def test_a_higher_standard_pays_more(engine):
    # Beijing's standard 1450 -> 1500: tekun 1.3 x 1500 x 2 - 800 = 3100.00.
    reform = engine.with_parameters({"subsistence.standard": "1500"})
    assert reform.evaluate(example("tekun"))["programs"]["subsistence"]["amount"] == Decimal("3100.00")
    assert engine.evaluate(example("tekun"))["programs"]["subsistence"]["amount"] == Decimal("2970.00")
    assert reform.overrides == [("subsistence.standard", "1500")]
    assert engine.overrides == []


def test_overrides_by_region_and_as_texts(engine):
    beijing_only = engine.with_parameters(["110000:subsistence.standard=1500"])
    assert beijing_only.evaluate(example("tekun"))["programs"]["subsistence"]["amount"] == Decimal("3100.00")
    h = example("tekun")
    h["region"] = "310000"  # Shanghai: untouched
    assert beijing_only.evaluate(h) == engine.evaluate(h)
    # Values may be int or Decimal too; overrides add up.
    both = engine.with_parameters({"subsistence.standard": 1500}).with_parameters({"110000:medical.annual_cap": Decimal("80000")})
    assert both.overrides == [("subsistence.standard", "1500"), ("110000:medical.annual_cap", "80000")]


def test_the_trace_names_an_override(engine):
    a = engine.with_parameters({"subsistence.standard": "1500"}).evaluate(example("tekun"), trace=True)
    read = [t for t in a["trace"] if t["kind"] == "parameter" and t["name"] == "subsistence.standard"][0]
    assert read["value"] == "1500" and read["source"] == "override"


def test_compare_gives_the_figures_of_the_cli(engine, cli, population, population_file):
    reform = engine.with_parameters(REFORM)
    result = jiuzhu.compare(engine, reform, population)
    args = [cli, "compare", population_file]
    for k, v in REFORM.items():
        args += ["--set", f"{k}={v}"]
    expected = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    assert plain(result) == expected
    assert list(result["programs"]) == engine.programs
    sub = result["programs"]["subsistence"]
    assert isinstance(sub["recipients"]["baseline"], int) and isinstance(sub["cost"]["reform"], Decimal)
    assert sub["gainers"] + sub["losers"] + sub["unchanged"] == result["households"] == 200
    top = result["top_changes"][0]
    assert top["change"] == top["reform"] - top["baseline"]


def test_compare_counts_bad_records_as_errors(engine):
    reform = engine.with_parameters({"subsistence.standard": "1500"})
    result = jiuzhu.compare(engine, reform, [example("tekun"), "{oops", {"id": "x"}])
    assert result["households"] == 1 and result["errors"] == 2
    sub = result["programs"]["subsistence"]
    assert sub["cost"] == {"baseline": Decimal("2970.00"), "reform": Decimal("3100.00")}
    assert sub["gainers"] == 1
    assert result["top_changes"][0] == {
        "household_id": "SUB-tekun-basic",
        "program": "subsistence",
        "baseline": Decimal("2970.00"),
        "reform": Decimal("3100.00"),
        "change": Decimal("130.00"),
    }


def test_compare_takes_a_frame_and_gives_a_frame(engine, population):
    reform = engine.with_parameters(REFORM)
    df = pd.DataFrame({"household": population})
    result = jiuzhu.compare(engine, reform, df)
    assert result == jiuzhu.compare(engine, reform, population)
    frame = jiuzhu.compare_frame(result)
    assert list(frame.index) == engine.programs
    row = frame.loc["subsistence"]
    p = result["programs"]["subsistence"]
    assert row.cost_baseline == p["cost"]["baseline"] and isinstance(row.cost_baseline, Decimal)
    assert row.cost_change == p["cost"]["reform"] - p["cost"]["baseline"]
    assert row.recipients_change == p["recipients"]["reform"] - p["recipients"]["baseline"]
    assert frame.gainers.dtype == "int64"
    assert result.to_frame().equals(frame)


def test_compare_reads_households_as_it_goes(engine, population):
    """The households are converted as the comparison takes them, a chunk at a time: a
    generator gives what its list gives, and an exception it raises comes out of the
    call (with no result)."""
    reform = engine.with_parameters(REFORM)
    households = population * 30  # 6,000: several of the core's chunks
    assert jiuzhu.compare(engine, reform, (h for h in households)) == jiuzhu.compare(engine, reform, households)

    def failing():
        yield from households[:5000]
        raise RuntimeError("the source failed")

    with pytest.raises(RuntimeError, match="the source failed"):
        jiuzhu.compare(engine, reform, failing())
    # a household Python cannot even convert stops it too
    class Unprintable(Decimal):
        def __str__(self):
            raise ValueError("no str")

    with pytest.raises(ValueError, match="no str"):
        jiuzhu.compare(engine, reform, [population[0], {"id": "x", "size": Unprintable(1)}])
