"""Results and Python's cyclic garbage collector.

The dicts and lists of a result (an assessment, its trace, an error entry, a
comparison) are untracked: the collector never walks them. A result holds no reference
cycle, and walking its thousands of containers at each collection cost more than a
third of `evaluate_many`'s time. What stays tracked is what a caller builds on: the
list `evaluate_many` returns, and a result dict into which a container is put (CPython
tracks such a dict again by itself). A result list a caller appends to is not tracked
again: a reference cycle closed through it is never collected (see the last test).
"""

import gc
import shutil
import weakref
from decimal import Decimal

import jiuzhu
from conftest import RULES, example, plain


def containers(x):
    """x and every dict and list inside it."""
    if isinstance(x, (dict, list)):
        yield x
        for v in x.values() if isinstance(x, dict) else x:
            yield from containers(v)


class Node:
    """A plain object a caller might link a result with (weakly referable)."""


def test_an_assessment_and_its_trace_are_untracked(engine):
    a = engine.evaluate(example("tekun"), trace=True)
    sub = a["programs"]["subsistence"]
    for c in [
        a,
        a["derived"]["members"]["m1"],
        a["programs"],
        sub["reasons"],
        sub["reasons"][0],
        sub["reasons"][0]["values"],
        sub["details"]["covered_members"],
        a["programs"]["medical"]["members"],
        a["trace"],
        a["trace"][0],
    ]:
        assert not gc.is_tracked(c)
    assert not any(gc.is_tracked(c) for c in containers(a))


def test_evaluate_many_gives_a_tracked_list_of_untracked_results(engine, population):
    results = engine.evaluate_many(population[:20] + ["{not json"], threads=1)
    # the caller's list: it may be appended to, even made into a cycle
    assert gc.is_tracked(results)
    error = results[-1]
    assert error["index"] == 20 and not gc.is_tracked(error) and not gc.is_tracked(error["errors"])
    for r in results[:-1]:
        assert not gc.is_tracked(r["programs"]["subsistence"]["reasons"])
        assert not any(gc.is_tracked(c) for c in containers(r))


def test_decimals_are_untracked_too(engine):
    """A Decimal is collected from Python 3.13 on (heap types): ours are not tracked."""
    a = engine.evaluate(example("household"))
    amounts = [a["totals"]["monthly"], a["derived"]["per_capita_income"], a["programs"]["subsistence"]["amount"]]
    assert all(isinstance(m, Decimal) and not gc.is_tracked(m) for m in amounts)


def test_a_scripts_trace_values_are_untracked(tmp_path):
    """A script's step("label", value): its maps and arrays become untracked dicts and lists."""
    pack = tmp_path / "rules"
    shutil.copytree(RULES, pack, ignore=shutil.ignore_patterns("tests"))
    script = pack / "programs" / "employment.rhai"
    script.write_text('step("probe", #{ ids: ["a", "b"], nested: #{ n: [1, 2] } });\n' + script.read_text(encoding="utf-8"), encoding="utf-8")
    a = jiuzhu.Engine.from_dir(pack).evaluate(example("tekun"), trace=True)
    [probe] = [t for t in a["trace"] if t["kind"] == "step" and t["label"] == "probe"]
    assert probe["value"] == {"ids": ["a", "b"], "nested": {"n": [1, 2]}}
    assert not any(gc.is_tracked(c) for c in containers(probe))


def test_a_comparisons_figures_are_untracked(engine):
    reform = engine.with_parameters({"subsistence.standard": "1500"})
    result = jiuzhu.compare(engine, reform, [example("tekun"), example("household")])
    sub = result["programs"]["subsistence"]
    for c in [result["programs"], sub, sub["cost"], sub["recipients"], result["top_changes"], result["top_changes"][0]]:
        assert not gc.is_tracked(c)


def test_a_result_dict_given_a_container_is_tracked_again(engine):
    """CPython's own rule (a dict of plain values starts untracked; putting a container
    in it tracks it), which keeps a cycle made through a result dict collectable."""
    a = engine.evaluate(example("tekun"))
    totals = a["totals"]
    totals["note"] = "checked"
    assert not gc.is_tracked(totals)
    totals["seen_by"] = ["clerk"]
    assert gc.is_tracked(totals)
    reasons = a["programs"]["medical"]["reasons"]
    reasons[0]["extra"] = {}
    assert gc.is_tracked(reasons[0])

    # a cycle closed by putting the other end in the result dict: found and freed
    programs = a["programs"]
    node = Node()
    node.programs = programs
    programs["owner"] = node
    gone = weakref.ref(node)
    del a, totals, reasons, programs, node
    gc.collect()
    assert gone() is None


def test_nothing_for_the_collector_after_evaluate_many(engine, population):
    expected = [plain(engine.evaluate(h)) for h in population]
    gc.collect()
    tracked_before = len(gc.get_objects())
    results = engine.evaluate_many(population, threads=1)
    # only the outer list is new to the collector (the 200 assessments are not)
    assert len(gc.get_objects()) - tracked_before <= 1
    assert gc.collect() == 0
    assert plain(results) == expected
    # the outer list is the caller's to build on: a cycle through it is collected
    node = Node()
    node.results = results
    results.append(node)
    gone = weakref.ref(node)
    del results, node
    gc.collect()
    assert gone() is None


def test_what_untracking_costs_a_cycle_through_a_result_list_is_not_found(engine):
    """A result list is not tracked again when appended to: a cycle closed through it
    outlives its last outside reference (a leak of that result) until it is broken."""
    reasons = engine.evaluate(example("tekun"))["programs"]["subsistence"]["reasons"]
    node = Node()
    node.reasons = reasons
    reasons.append(node)
    assert not gc.is_tracked(reasons)
    kept = weakref.ref(node)
    del reasons, node
    gc.collect()
    assert kept() is not None
    kept().reasons.clear()  # break the cycle: then both go at once
    assert kept() is None
