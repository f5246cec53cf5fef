"""Python `evaluate_many` against the core, per household, on the same households.

    bindings-python/.venv/bin/python bench/bindings.py FILE.jsonl [JIUZHU]

FILE.jsonl: households from `jiuzhu synth N --seed 42`; JIUZHU: the release command
(default target/release/jiuzhu). Both sides use one thread and are timed in CPU time
(user + system), the best of ROUNDS (default 7) runs each, interleaved. Each round of
either side runs in a fresh process: the speed of a process on this VM varies with where
its memory lands (per-process bests of 25.6 to 28.9 µs for the same Python call), and a
best of rounds inside one process kept that spread (docs/performance.md, tenth session).

* core: `jiuzhu batch FILE --threads 1 -o /dev/null` (JSON text in, JSON text out);
* Python: `Engine().evaluate_many(lines, threads=1)` (JSON text in, Python objects out,
  money as Decimal), after the engine is built, the file read and a first call on 500
  of the households (`bench/bindings.py --round FILE`, run by the main script);
* the collection the call leaves behind: a `gc.collect()` right after the call, less a
  `gc.collect()` on its own just before (the interpreter's own objects). The objects of
  the result that Python's cyclic collector tracks are walked by every collection while
  the result lives (the first one comes with the next few hundred allocations); a full
  collection walks each of them once.

MESSAGES=0 in the environment measures both without reason messages (`--no-messages`,
`messages=False`).

WALL=1 measures what an analyst waits for instead: the wall time of `evaluate_many(lines)`
with its default threads (every core) against `jiuzhu batch FILE -o /dev/null` with its
default threads (every core; less an empty run), best of ROUNDS each, and prints
`python_wall_us core_wall_us ratio`.

DICTS=1 gives `evaluate_many` the households as dicts (`json.loads` of each line, made
before the call and not timed; amounts stay `str`) instead of texts. With CORE=many the
core then takes parsed `serde_json::Value`s (`jiuzhu-native-bench --many FILE 1 values`).

CORE=many measures the core doing the same job as `evaluate_many` instead of
`jiuzhu batch`: the core's own `Engine::evaluate_many(lines, threads 1)`, assessments
(Rust objects) out, kept until all are made and then dropped, timed inside
`jiuzhu-native-bench --many FILE` (bench/native; JIUZHU_NATIVE names the binary, default
target/release/jiuzhu-native-bench), one pass per round after one to warm up. Prints
`python_us core_us ratio` as above.

Prints one line: `python_us core_us ratio with_gc_us gc_us` (µs per household):
python_us the call alone, core_us the core's, ratio python_us / core_us (the first
three as before: other scripts read them), with_gc_us the call and the collection after
it, gc_us that collection alone.
"""
import gc
import json
import os
import resource
import subprocess
import sys
import time

import jiuzhu

ROUNDS = int(os.environ.get("ROUNDS", "7"))
WALL = os.environ.get("WALL", "0") == "1"
MESSAGES = os.environ.get("MESSAGES", "1") != "0"
CORE = os.environ.get("CORE", "batch")
DICTS = os.environ.get("DICTS", "0") == "1"


def core_cpu(jz, path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    flags = [] if MESSAGES else ["--no-messages"]
    subprocess.run([jz, "batch", path, "--threads", "1", "-o", os.devnull, *flags], check=True, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def core_many(native, path):
    """The core's evaluate_many, µs per household, as bench/native times it."""
    flags = ["1" if MESSAGES else "0"] + (["values"] if DICTS else [])
    out = subprocess.run([native, "--many", path, *flags], check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def core_wall(jz, path):
    start = time.perf_counter()
    subprocess.run([jz, "batch", path, "-o", os.devnull], check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def python_wall(engine, lines):
    gc.collect()
    start = time.perf_counter()
    out = engine.evaluate_many(lines)
    took = time.perf_counter() - start
    assert len(out) == len(lines)
    return took


def python_cpu(engine, lines):
    """(the call, the full collection right after it less one on its own), in CPU s."""
    gc.collect()
    start = time.process_time()
    gc.collect()
    alone = time.process_time() - start
    start = time.process_time()
    out = engine.evaluate_many(lines, threads=1, messages=MESSAGES)
    called = time.process_time()
    gc.collect()
    collected = time.process_time()
    assert len(out) == len(lines)
    return called - start, (collected - called) - alone


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [l for l in f.read().splitlines() if l]


def one_round(path, wall):
    """`--round`: one Python measurement in this fresh interpreter, printed in seconds:
    the wall time of the default call (`--wall`), or the call's CPU time and the
    collection's."""
    lines = read_lines(path)
    if DICTS:
        lines = [json.loads(l) for l in lines]
    engine = jiuzhu.Engine()
    # the first call fills the engine's tables of keys, words and figures
    engine.evaluate_many(lines[:500], threads=None if wall else 1, messages=MESSAGES)
    if wall:
        print(python_wall(engine, lines))
    else:
        print(*python_cpu(engine, lines))


def python_round(path, wall=False):
    flags = ["--wall"] if wall else []
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--round", path, *flags], check=True, capture_output=True, text=True).stdout
    return [float(x) for x in out.split()]


def main():
    if sys.argv[1] == "--round":
        return one_round(sys.argv[2], "--wall" in sys.argv[3:])
    path = sys.argv[1]
    jz = sys.argv[2] if len(sys.argv) > 2 else "target/release/jiuzhu"
    lines = read_lines(path)
    # the command's run includes building the engine (a few ms): subtract an empty run
    empty = os.path.join(os.path.dirname(os.path.abspath(path)), "empty.jsonl")
    open(empty, "w").close()
    n = len(lines)
    if CORE == "many":
        native = os.environ.get("JIUZHU_NATIVE", "target/release/jiuzhu-native-bench")
        core, py = [], []
        for _ in range(ROUNDS):
            core.append(core_many(native, path))
            py.append(python_round(path)[0] / n * 1e6)
        print(f"{min(py):.1f} {min(core):.1f} {min(py) / min(core):.2f}")
        return
    if WALL:
        base, core, py = [], [], []
        for _ in range(ROUNDS):
            base.append(core_wall(jz, empty))
            core.append(core_wall(jz, path))
            py.append(python_round(path, wall=True)[0])
        core_us = (min(core) - min(base)) / n * 1e6
        py_us = min(py) / n * 1e6
        print(f"{py_us:.1f} {core_us:.1f} {py_us / core_us:.2f}")
        return
    core, py, base, with_gc, gc_only = [], [], [], [], []
    for _ in range(ROUNDS):
        base.append(core_cpu(jz, empty))
        core.append(core_cpu(jz, path))
        call, collect = python_round(path)
        py.append(call)
        with_gc.append(call + collect)
        gc_only.append(collect)
    core_us = (min(core) - min(base)) / n * 1e6
    py_us = min(py) / n * 1e6
    print(f"{py_us:.1f} {core_us:.1f} {py_us / core_us:.2f} {min(with_gc) / n * 1e6:.1f} {min(gc_only) / n * 1e6:.1f}")


if __name__ == "__main__":
    main()
