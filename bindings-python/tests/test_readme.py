"""The README's tour runs as written (all its Python blocks but the Spark one, in order)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_tour_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = [b for b in blocks() if not b.startswith("# spark")]
    assert len(code) >= 5
    namespace: dict = {}
    for block in code:
        exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "eligible tekun 2970.00" in out
    assert "members[0].incomes[0].monthly" in out
    assert (tmp_path / "cost-by-region.png").exists()


def test_the_spark_example_is_valid_python():
    [spark] = [b for b in blocks() if b.startswith("# spark")]
    compile(spark, "spark-example", "exec")
    assert "mapInPandas" in spark
