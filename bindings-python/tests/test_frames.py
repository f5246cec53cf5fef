"""Frames: `engine.evaluate_frame(df)` turns a column of households into one flat row
each, in a frame of the same kind (pandas or Arrow), with exact money columns."""

import json
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

import jiuzhu
from conftest import example

COLUMNS = [
    "household_id",
    "subsistence_status",
    "subsistence_category",
    "subsistence_amount",
    "temporary_status",
    "temporary_amount",
    "medical_status",
    "medical_amount",
    "student_status",
    "student_amount",
    "employment_status",
    "employment_amount",
    "total_monthly",
    "total_one_off",
    "total_annual",
    "error",
]


def households():
    bad = example("tekun")
    bad["id"] = "BAD"
    bad["members"][0]["incomes"][0]["monthly"] = "-5"
    return [json.dumps(example("household")), json.dumps(example("tekun")), json.dumps(bad), "{oops"]


def test_the_columns_are_fixed_by_the_pack(engine):
    assert [name for name, _ in engine.frame_columns()] == COLUMNS
    kinds = dict(engine.frame_columns())
    assert kinds["subsistence_amount"] == kinds["total_annual"] == "money"
    assert kinds["subsistence_status"] == kinds["error"] == "text"


def test_pandas_in_pandas_out(engine):
    df = pd.DataFrame({"household": households(), "district": ["a", "b", "c", "d"]}, index=[10, 11, 12, 13])
    out = engine.evaluate_frame(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == COLUMNS
    assert list(out.index) == [10, 11, 12, 13]  # the input's rows, so it joins back
    row = out.loc[10]
    assert row.household_id == "SUB-dibao-work-cost-and-excluded-kinds-region-110105"
    assert row.subsistence_status == "eligible" and row.subsistence_category == "dibao"
    assert row.subsistence_amount == Decimal("2245.00") and isinstance(row.subsistence_amount, Decimal)
    assert row.student_amount == Decimal("500.00")
    assert row.total_annual == Decimal("500.00")
    assert row.error is None
    assert out.loc[11].medical_amount == Decimal("3500.00")
    assert all(out[c].dtype == object for c in COLUMNS)


def test_a_bad_row_has_an_error_and_nothing_else(engine):
    out = engine.evaluate_frame(pd.DataFrame({"household": households()}))
    bad = out.iloc[2]
    assert bad.error == 'members[0].incomes[0].monthly: negative amount "-5"'
    assert all(bad[c] is None for c in COLUMNS if c != "error")
    assert out.iloc[3].error and out.iloc[3].household_id is None
    # Exact sums over the good rows: Decimal + Decimal.
    assert out.total_monthly.dropna().sum() == Decimal("2245.00") + Decimal("2970.00")


def test_dicts_are_households_too(engine):
    df = pd.DataFrame({"household": [example("tekun"), None]})
    out = engine.evaluate_frame(df)
    assert out.subsistence_amount[0] == Decimal("2970.00")
    assert out.error[1] is not None


def test_an_empty_frame_gives_an_empty_frame_of_the_same_shape(engine):
    full = engine.evaluate_frame(pd.DataFrame({"household": households()}))
    empty = engine.evaluate_frame(pd.DataFrame({"household": pd.Series([], dtype=object)}))
    assert len(empty) == 0
    assert list(empty.columns) == COLUMNS
    assert (empty.dtypes == full.dtypes).all()


def test_arrow_in_arrow_out_with_decimal128(engine):
    table = pa.table({"household": households()})
    out = engine.evaluate_frame(table)
    assert isinstance(out, pa.Table)
    assert out.column_names == COLUMNS
    assert out.schema.field("subsistence_amount").type == pa.decimal128(18, 2)
    assert out.schema.field("total_monthly").type == pa.decimal128(18, 2)
    assert out.schema.field("subsistence_status").type == pa.string()
    assert out.column("subsistence_amount").to_pylist() == [Decimal("2245.00"), Decimal("2970.00"), None, None]
    assert out.column("error").null_count == 2
    # Arrow compute sums decimals exactly.
    import pyarrow.compute as pc

    assert pc.sum(out.column("total_monthly")).as_py() == Decimal("5215.00")


def test_arrow_record_batches_and_empty_tables(engine):
    batch = pa.RecordBatch.from_pydict({"household": households()})
    out = engine.evaluate_frame(batch)
    assert isinstance(out, pa.RecordBatch) and out.num_rows == 4
    empty = engine.evaluate_frame(pa.table({"household": pa.array([], type=pa.string())}))
    assert empty.num_rows == 0
    assert empty.schema == engine.evaluate_frame(pa.table({"household": households()})).schema


def test_same_figures_as_evaluate(engine, population):
    out = engine.evaluate_frame(pd.DataFrame({"household": population}))
    for h, (_, row) in zip(population, out.iterrows()):
        a = engine.evaluate(h)
        assert row.household_id == a["household_id"]
        for p in engine.programs:
            assert row[f"{p}_status"] == a["programs"][p]["status"]
            assert row[f"{p}_amount"] == a["programs"][p]["amount"]
        assert row.subsistence_category == a["programs"]["subsistence"]["category"]
        assert row.total_monthly == a["totals"]["monthly"]


def test_another_column_name_and_more_categories(engine):
    df = pd.DataFrame({"profile": [json.dumps(example("tekun"))]})
    out = engine.evaluate_frame(df, column="profile", categories=["subsistence", "medical"])
    assert "medical_category" in out.columns
    with pytest.raises(jiuzhu.UsageError):
        engine.evaluate_frame(df)  # no column "household"
    with pytest.raises(jiuzhu.UsageError):
        engine.evaluate_frame(df, column="profile", categories=["housing"])
    with pytest.raises(jiuzhu.UsageError):
        engine.evaluate_frame([1, 2, 3])
