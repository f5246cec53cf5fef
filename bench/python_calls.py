"""The Python calls analysts and services make, per household (µs), in one round:

    PYTHON bench/python_calls.py [FILE.jsonl]      # default bench/out/synth-10000.jsonl

* many_text_1t_cpu: `evaluate_many(texts, threads=1)`, CPU time;
* many_text_default_wall: `evaluate_many(texts)` with its default threads, wall time;
* many_dict_1t_cpu: `evaluate_many(dicts, threads=1)` (the texts parsed by `json.loads`
  beforehand), CPU time;
* one_text_wall, one_dict_wall: `evaluate(h)` one call a household (3,000 of them);
* frame_default_wall: `evaluate_frame(DataFrame({"household": texts}))`, wall time.

Each the best of 3. To compare two builds, install them into two venvs and run their
pythons in turn, a few rounds (docs/performance.md, ninth session).
"""
import gc
import json
import sys
import time

import jiuzhu
import pandas as pd

path = sys.argv[1] if len(sys.argv) > 1 else "bench/out/synth-10000.jsonl"
lines = [l for l in open(path, encoding="utf-8").read().splitlines() if l]
dicts = [json.loads(l) for l in lines]
df = pd.DataFrame({"household": lines})
engine = jiuzhu.Engine()
engine.evaluate_many(lines[:300])
engine.evaluate_frame(df.head(300))
n = len(lines)


def best(f, clock, count=n):
    b = float("inf")
    for _ in range(3):
        gc.collect()
        start = clock()
        r = f()
        b = min(b, clock() - start)
        del r
    return b / count * 1e6


one = min(3000, n)
out = {
    "many_text_1t_cpu": best(lambda: engine.evaluate_many(lines, threads=1), time.process_time),
    "many_text_default_wall": best(lambda: engine.evaluate_many(lines), time.perf_counter),
    "many_dict_1t_cpu": best(lambda: engine.evaluate_many(dicts, threads=1), time.process_time),
    "one_text_wall": best(lambda: [engine.evaluate(l) for l in lines[:one]], time.perf_counter, one),
    "one_dict_wall": best(lambda: [engine.evaluate(d) for d in dicts[:one]], time.perf_counter, one),
    "frame_default_wall": best(lambda: engine.evaluate_frame(df), time.perf_counter),
}
print(" ".join(f"{k}={v:.1f}" for k, v in out.items()))
