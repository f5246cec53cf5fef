"""Python's object memory while many results are made (src/prefault.rs).

The results of `evaluate_many` are ≈ 8.5 KB of new Python objects a household, kept by
the caller, so CPython takes fresh arenas for them; the kernel would hand out their
pages one fault at a time. While `evaluate_many` (or the core of `evaluate_frame`) runs,
CPython's arena allocator is wrapped so that each new arena's pages come at once. The
wrapper is CPython's own allocator plus that request: an arena made by either may be
freed by either. Outside those calls the allocator is exactly what it was, and another
library's allocator is never replaced. These tests read the allocator through ctypes.
"""

import ctypes
import sys

import pytest

import jiuzhu
from conftest import on_threads

LINUX = sys.platform == "linux"


class ArenaAllocator(ctypes.Structure):
    """CPython's PyObjectArenaAllocator: a context and two functions."""

    _fields_ = [("ctx", ctypes.c_void_p), ("alloc", ctypes.c_void_p), ("free", ctypes.c_void_p)]


def arena_allocator():
    a = ArenaAllocator()
    ctypes.pythonapi.PyObject_GetArenaAllocator(ctypes.byref(a))
    return (a.ctx, a.alloc, a.free)


def set_arena_allocator(ctx, alloc, free):
    ctypes.pythonapi.PyObject_SetArenaAllocator(ctypes.byref(ArenaAllocator(ctx, alloc, free)))


def watched(households, seen):
    """The households, noting the arena allocator in force as each is taken."""
    for h in households:
        seen.append(arena_allocator())
        yield h


def test_arenas_are_wrapped_only_while_results_are_made(engine, population):
    before = arena_allocator()
    seen = []
    out = engine.evaluate_many(watched(population, seen), threads=1)
    assert len(out) == 200 and all("programs" in a for a in out)
    assert arena_allocator() == before
    assert len(set(seen)) == 1
    if LINUX:
        ctx, alloc, free = seen[0]
        assert (alloc, free) != before[1:]  # the wrapper's functions
    else:
        assert seen[0] == before


def test_a_frames_columns_wrap_them_too(engine, population):
    # evaluate_frame's engine call, given a generator to watch it by
    before = arena_allocator()
    seen = []
    columns = engine._core.evaluate_columns(watched(population[:50], seen), [], 1, None, "2025-03-01")
    assert all(len(c) == 50 for c in columns)
    assert len(set(seen)) == 1
    assert (seen[0] != before) == LINUX
    assert arena_allocator() == before


def test_the_results_are_those_of_an_unwrapped_call(engine, population):
    # one household at a time (`evaluate`) never wraps the allocator: a single result
    # is a few pages, and populating a whole new arena for it would cost more
    wrapped = engine.evaluate_many(population, threads=1)
    one_by_one = [engine.evaluate(h) for h in population]
    assert wrapped == one_by_one


def test_a_call_inside_a_call_keeps_it_until_the_outer_one_ends(engine, population):
    before = arena_allocator()
    inner_seen, outer_seen = [], []

    def households():
        for i, h in enumerate(population[:40]):
            if i == 20:
                inner = engine.evaluate_many(watched(population[:5], inner_seen), threads=1)
                assert len(inner) == 5
            outer_seen.append(arena_allocator())
            yield h

    out = engine.evaluate_many(households(), threads=1)
    assert len(out) == 40
    assert len(set(inner_seen + outer_seen)) == 1  # the same wrapper throughout
    assert arena_allocator() == before


def test_it_is_given_back_when_the_call_fails(engine, population):
    before = arena_allocator()

    def failing():
        yield from population[:10]
        raise KeyError("the caller's own error")

    with pytest.raises(KeyError):
        engine.evaluate_many(failing(), threads=1)
    assert arena_allocator() == before


def test_another_librarys_allocator_is_left_alone(engine, population):
    before = arena_allocator()
    # CPython's own functions under another context pointer (they ignore it): to the
    # wrapper, an allocator some other library installed
    foreign = (0x1, before[1], before[2])
    set_arena_allocator(*foreign)
    try:
        seen = []
        out = engine.evaluate_many(watched(population[:50], seen), threads=1)
        assert len(out) == 50
        assert set(seen) == {foreign}
        assert arena_allocator() == foreign
    finally:
        set_arena_allocator(*before)
    assert arena_allocator() == before


def test_threads_at_once_leave_it_as_it_was(engine, population):
    before = arena_allocator()
    expected = engine.evaluate_many(population, threads=1)
    results = {}

    def run(k):
        for _ in range(3):
            results[k] = engine.evaluate_many(population, threads=1 + k % 2)

    assert on_threads(run, 4) == []
    assert all(results[k] == expected for k in range(4))
    assert arena_allocator() == before
