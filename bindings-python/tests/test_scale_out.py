"""Scale-out: an engine pickles (its pack's files and overrides travel; the worker
compiles them again), so `evaluate_frame` runs as the function of Dask's
`map_partitions` on a cluster of worker processes and gives the single-process figures."""

import pickle
from decimal import Decimal

import pandas as pd
import pytest

import jiuzhu
from conftest import RULES, example


def test_an_engine_pickles(engine):
    again = pickle.loads(pickle.dumps(engine))
    assert isinstance(again, jiuzhu.Engine)
    assert again.pack == engine.pack
    assert again.evaluate(example("tekun")) == engine.evaluate(example("tekun"))


def test_the_embedded_pack_travels_as_a_name():
    state = jiuzhu.Engine().__reduce__()[1][0]
    assert state == {"pack": "embedded", "overrides": []}
    assert len(pickle.dumps(jiuzhu.Engine())) < 200


def test_a_reform_pickles_with_its_overrides(engine):
    reform = engine.with_parameters({"subsistence.standard": "1500"})
    again = pickle.loads(pickle.dumps(reform))
    assert again.overrides == [("subsistence.standard", "1500")]
    assert again.evaluate(example("tekun"))["programs"]["subsistence"]["amount"] == Decimal("3100.00")


def test_a_pack_from_a_folder_travels_as_its_files(tmp_path):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(RULES, pack)
    engine = jiuzhu.Engine.from_dir(pack).with_parameters({"110000:subsistence.standard": "1500"})
    data = pickle.dumps(engine)
    shutil.rmtree(pack)  # the worker has no such folder
    again = pickle.loads(data)
    state = again.__reduce__()[1][0]
    assert "pack.toml" in state["pack"] and "programs/subsistence.rhai" in state["pack"]
    assert again.pack == engine.pack
    assert again.evaluate(example("tekun")) == engine.evaluate(example("tekun"))


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as c:
        with Client(c) as client:
            yield client


def test_map_partitions_on_a_dask_cluster(cluster, engine, population):
    import dask.dataframe as dd

    df = pd.DataFrame({"household": population + ["{not json"]})
    local = engine.evaluate_frame(df)

    ddf = dd.from_pandas(df, npartitions=4).map_partitions(engine.evaluate_frame)  # no meta=: inferred
    assert list(ddf.columns) == list(local.columns)
    result = ddf.compute()

    assert len(result) == len(df) == 201
    assert result.household_id.tolist() == local.household_id.tolist()
    # Exact Decimal totals, equal to the single-process ones to the cent.
    for column in ["total_monthly", "total_one_off", "total_annual"] + [f"{p}_amount" for p in engine.programs]:
        assert result[column].dropna().sum() == local[column].dropna().sum()
        assert all(isinstance(x, Decimal) for x in result[column].dropna())
    assert result.error.notna().sum() == 1
    assert (result.subsistence_status == "eligible").sum() == (local.subsistence_status == "eligible").sum()
    assert result.equals(local)
    # The workers ran it: both were given partitions.
    assert len(cluster.scheduler_info()["workers"]) == 2


def test_a_reform_on_the_cluster(cluster, engine, population):
    import dask.dataframe as dd

    reform = engine.with_parameters({"subsistence.standard": "1500"})
    df = pd.DataFrame({"household": population})
    ddf = dd.from_pandas(df, npartitions=3)
    base = ddf.map_partitions(engine.evaluate_frame).total_monthly.compute().sum()
    new = ddf.map_partitions(reform.evaluate_frame).total_monthly.compute().sum()
    expected = jiuzhu.compare(engine, reform, population)
    periods = {p: r["period"] for p, r in engine.evaluate(example("household"))["programs"].items()}
    monthly = [p for p in engine.programs if periods[p] == "monthly"]
    assert new - base == sum(
        expected["programs"][p]["cost"]["reform"] - expected["programs"][p]["cost"]["baseline"] for p in monthly
    )
    assert isinstance(new - base, Decimal) and new > base
