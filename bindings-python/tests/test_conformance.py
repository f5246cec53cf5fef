"""The shared conformance corpus (tests/conformance): Python gives exactly the expected
assessment of every household, as the Rust core and the wasm door do — byte for byte
once Decimals are written back as strings."""

import json

from conftest import ROOT, plain

CORPUS = ROOT / "tests" / "conformance"


def corpus():
    households = (CORPUS / "households.jsonl").read_text(encoding="utf-8").splitlines()
    expected = (CORPUS / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(households) == len(expected) == 44
    return households, expected


def compact(assessment) -> str:
    return json.dumps(plain(assessment), ensure_ascii=False, separators=(",", ":"))


def test_evaluate_gives_the_expected_assessments(engine):
    households, expected = corpus()
    for i, (h, want) in enumerate(zip(households, expected), start=1):
        got = engine.evaluate(h)
        assert plain(got) == json.loads(want), f"line {i}"
        assert compact(got) == want, f"line {i}"


def test_dicts_and_evaluate_many_give_them_too(engine):
    households, expected = corpus()
    results = engine.evaluate_many([json.loads(h) for h in households])
    assert [compact(r) for r in results] == expected
