"""Shared fixtures: the repository's examples, the `jiuzhu` command (built if need be)
and a synthetic population made by `jiuzhu synth`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from decimal import Decimal
from pathlib import Path

import pytest

import jiuzhu

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
RULES = ROOT / "rules"


def example(name: str) -> dict:
    """examples/<name>.json as a dict."""
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def on_threads(work, n):
    """Runs `work(k)` for k in 0..n, each on a thread of its own, all at once; returns
    what they raised (an empty list when none did)."""
    failures = []

    def run(k):
        try:
            work(k)
        except Exception as e:  # noqa: BLE001 - returned to the test
            failures.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def plain(x):
    """An assessment with every Decimal written as its string: the JSON the CLI prints."""
    if isinstance(x, Decimal):
        return str(x)
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [plain(v) for v in x]
    return x


@pytest.fixture(scope="session")
def engine() -> jiuzhu.Engine:
    return jiuzhu.Engine()


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `jiuzhu` binary of this checkout (cargo builds it, or finds it up to date)."""
    cargo = shutil.which("cargo")
    assert cargo, "cargo is needed to build the jiuzhu command the tests compare with"
    subprocess.run([cargo, "build", "--quiet", "-p", "jiuzhu-cli"], cwd=ROOT, check=True)
    target = ROOT / os.environ.get("CARGO_TARGET_DIR", "target")  # cargo resolves it from ROOT too
    path = target / "debug" / "jiuzhu"
    assert path.exists()
    return path


@pytest.fixture(scope="session")
def population(cli) -> list:
    """200 synthetic households (JSON texts): `jiuzhu synth 200 --seed 7`."""
    out = subprocess.run([cli, "synth", "200", "--seed", "7"], check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()
    assert len(lines) == 200
    return lines


@pytest.fixture(scope="session")
def population_file(tmp_path_factory, population) -> Path:
    path = tmp_path_factory.mktemp("pop") / "households.jsonl"
    path.write_text("\n".join(population) + "\n", encoding="utf-8")
    return path
