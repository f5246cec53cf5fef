"""The rule pack's own tests (rules/tests/*.yaml, the cases `jiuzhu test rules` passes):
Python gives exactly the CLI's statuses, categories, amounts, reason codes and totals
for every case, and the very same assessment as `jiuzhu batch` for every household."""

from __future__ import annotations

import datetime
import json
import subprocess
from decimal import Decimal, InvalidOperation

import pytest
import yaml

import jiuzhu
from conftest import RULES, plain

TESTS = RULES / "tests"
PROGRAM_KEYS = {"status", "category", "amount", "period", "codes", "codes_include", "codes_exclude", "members"}
CASE_KEYS = {"name", "description", "household", "household_file", "as_of", "lang", "expect", "expect_error"}


def exact(x, path: str = "household"):
    """YAML's scalars made household-ready: a `datetime.date` becomes its ISO text; a
    float (an unquoted 0.1, which YAML reads inexactly) fails the test at once."""
    if isinstance(x, float):
        pytest.fail(f"{path}: the float {x!r} crept into a case; quote money in rules/tests/*.yaml")
    if isinstance(x, datetime.datetime):
        pytest.fail(f"{path}: a timestamp {x!r} is not a date")
    if isinstance(x, datetime.date):
        return x.isoformat()
    if isinstance(x, dict):
        return {str(k): exact(v, f"{path}.{k}") for k, v in x.items()}
    if isinstance(x, list):
        return [exact(v, f"{path}[{i}]") for i, v in enumerate(x)]
    return x


def load_cases() -> list:
    """Every case of every rules/tests/*.yaml (sorted, like `jiuzhu test`), ready to run:
    {"file", "name", "household", "as_of", "lang", "expect", "expect_error"}."""
    cases = []
    for path in sorted(TESTS.glob("*.y*ml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(doc) == {"cases"}, f"{path.name}: only `cases` at the top"
        for case in doc["cases"]:
            name = case["name"]
            unknown = set(case) - CASE_KEYS
            assert not unknown, f"{path.name} {name}: unknown keys {sorted(unknown)}"
            assert ("household" in case) != ("household_file" in case), f"{name}: household or household_file"
            if "household_file" in case:
                household = json.loads((path.parent / case["household_file"]).read_text(encoding="utf-8"))
            else:
                household = case["household"]
            as_of = exact(case.get("as_of"), f"{name}.as_of")
            cases.append(
                {
                    "file": path.name,
                    "name": name,
                    "household": exact(household, f"{name}.household"),
                    "as_of": as_of,
                    "lang": case.get("lang"),
                    "expect": case.get("expect") or {},
                    "expect_error": case.get("expect_error"),
                }
            )
    return cases


CASES = load_cases()


def test_the_pack_has_its_cases():
    assert len(CASES) >= 80
    assert len(CASES) == 213  # rules/tests/*.yaml today; update along with the pack
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names), "case names are the test ids: they must be unique"
    assert any(c["expect_error"] for c in CASES)


def money(x, where: str) -> Decimal:
    if isinstance(x, float):
        pytest.fail(f"{where}: the float {x!r} in an expectation; quote money")
    return Decimal(str(x))


def same(want, got) -> bool:
    """As `jiuzhu test` compares a member's field: numbers by value ("2970" is "2970.00"), the rest as text."""
    try:
        return Decimal(str(want)) == Decimal(str(got))
    except (InvalidOperation, ValueError):
        return str(want) == str(got)


def check(a: dict, expect: dict) -> list:
    """The mismatches of an assessment against a case's `expect`, one line each."""
    out = []
    for key, e in expect.items():
        if key == "totals":
            for period, want in e.items():
                assert period in ("monthly", "one_off", "annual"), f"totals.{period}: unknown period"
                got = a["totals"][period]
                if money(want, f"totals.{period}") != got:
                    out.append(f"totals.{period}: expected {want}, got {got}")
            continue
        unknown = set(e) - PROGRAM_KEYS
        assert not unknown, f"{key}: unknown expectations {sorted(unknown)}"
        p = a["programs"].get(key)
        if p is None:
            out.append(f"programs.{key}: no such program")
            continue
        codes = [r["code"] for r in p["reasons"]]
        if "status" in e and e["status"] != p["status"]:
            out.append(f"{key}.status: expected {e['status']}, got {p['status']}")
        if "category" in e:
            want = None if e["category"] in (None, "(none)") else e["category"]
            if want != p.get("category"):
                out.append(f"{key}.category: expected {e['category']}, got {p.get('category')}")
        if "amount" in e:
            assert isinstance(p["amount"], Decimal)
            if money(e["amount"], f"{key}.amount") != p["amount"]:
                out.append(f"{key}.amount: expected {e['amount']}, got {p['amount']}")
        if "period" in e and e["period"] != p["period"]:
            out.append(f"{key}.period: expected {e['period']}, got {p['period']}")
        if "codes" in e and list(e["codes"]) != codes:
            out.append(f"{key}.codes: expected {e['codes']}, got {codes}")
        for want in e.get("codes_include") or []:
            if want not in codes:
                out.append(f"{key}.codes: expected to include {want}, got {codes}")
        for bad in e.get("codes_exclude") or []:
            if bad in codes:
                out.append(f"{key}.codes: expected not to include {bad}, got {codes}")
        for mid, fields in (e.get("members") or {}).items():
            got_member = (p.get("members") or {}).get(mid) or {}
            for k, want in fields.items():
                got = got_member.get(k, "(absent)")
                if not same(want, got):
                    out.append(f"{key}.members.{mid}.{k}: expected {want}, got {got}")
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(engine, case):
    """One case of the pack's tests: the expectations `jiuzhu test rules` checks, in Python."""
    run = lambda: engine.evaluate(case["household"], as_of=case["as_of"], lang=case["lang"])  # noqa: E731
    if case["expect_error"] is not None:
        with pytest.raises(jiuzhu.JiuzhuError) as e:
            run()
        assert case["expect_error"] in str(e.value), f"{case['file']}: {str(e.value)!r}"
        return
    a = run()
    assert case["expect"], f"{case['name']}: a case without expectations"
    failures = check(a, case["expect"])
    assert not failures, f"{case['file']} {case['name']}:\n  " + "\n  ".join(failures)


def test_every_case_gives_the_clis_assessment(engine, cli, tmp_path):
    """Every case household (its as_of written into it) through `jiuzhu batch` once per
    language: each Python assessment is the CLI's line once Decimals are strings, and a
    case expected to fail fails in both with the same errors."""
    langs = sorted({c["lang"] or "zh" for c in CASES})
    for lang in langs:
        cases = [c for c in CASES if (c["lang"] or "zh") == lang]
        households = []
        for c in cases:
            h = dict(c["household"])
            if c["as_of"] is not None:
                h["as_of"] = c["as_of"]
            households.append(h)
        src, out = tmp_path / f"cases-{lang}.jsonl", tmp_path / f"assessments-{lang}.jsonl"
        src.write_text("".join(json.dumps(h, ensure_ascii=False) + "\n" for h in households), encoding="utf-8")
        run = subprocess.run([cli, "batch", src, "-o", out, "--lang", lang], capture_output=True, text=True)
        errors_expected = any(c["expect_error"] is not None for c in cases)
        # `jiuzhu batch` exits 1 when a record failed: only the expect_error cases may.
        assert run.returncode == (1 if errors_expected else 0), run.stderr
        lines = out.read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(cases)
        for i, (c, h, line) in enumerate(zip(cases, households, lines), start=1):
            want = json.loads(line)
            if c["expect_error"] is not None:
                with pytest.raises(jiuzhu.JiuzhuError) as e:
                    engine.evaluate(h, lang=lang)
                assert want["line"] == i and "errors" in want, c["name"]
                assert want["errors"] == e.value.errors, c["name"]
                assert c["expect_error"] in json.dumps(want["errors"], ensure_ascii=False), c["name"]
                continue
            got = engine.evaluate(h, as_of=c["as_of"], lang=c["lang"])
            assert plain(got) == want, c["name"]
            assert json.dumps(plain(got), ensure_ascii=False) == json.dumps(want, ensure_ascii=False), c["name"]
