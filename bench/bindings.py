"""Python `evaluate_many` against the core, per household, on the same households.

    bindings-python/.venv/bin/python bench/bindings.py FILE.jsonl [JIUZHU]

FILE.jsonl: households from `jiuzhu synth N --seed 42`; JIUZHU: the release command
(default target/release/jiuzhu). Both sides use one thread and are timed in CPU time
(user + system), the best of ROUNDS (default 7) runs each, interleaved:

* core: `jiuzhu batch FILE --threads 1 -o /dev/null` (JSON text in, JSON text out);
* Python: `Engine().evaluate_many(lines, threads=1)` (JSON text in, Python objects out,
  money as Decimal), after the engine is built and the file read.

Prints one line: `python_us core_us ratio` (µs per household).
"""
import os
import resource
import subprocess
import sys
import time

import jiuzhu

ROUNDS = int(os.environ.get("ROUNDS", "7"))


def core_cpu(jz, path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([jz, "batch", path, "--threads", "1", "-o", os.devnull], check=True, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def python_cpu(engine, lines):
    start = time.process_time()
    out = engine.evaluate_many(lines, threads=1)
    took = time.process_time() - start
    assert len(out) == len(lines)
    return took


def main():
    path = sys.argv[1]
    jz = sys.argv[2] if len(sys.argv) > 2 else "target/release/jiuzhu"
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if l]
    engine = jiuzhu.Engine()
    # the command's run includes building the engine (a few ms): subtract an empty run
    empty = os.path.join(os.path.dirname(os.path.abspath(path)), "empty.jsonl")
    open(empty, "w").close()
    core, py, base = [], [], []
    for _ in range(ROUNDS):
        base.append(core_cpu(jz, empty))
        core.append(core_cpu(jz, path))
        py.append(python_cpu(engine, lines))
    n = len(lines)
    core_us = (min(core) - min(base)) / n * 1e6
    py_us = min(py) / n * 1e6
    print(f"{py_us:.1f} {core_us:.1f} {py_us / core_us:.2f}")


if __name__ == "__main__":
    main()
