"""The training run of the profile-guided Python extension (scripts/build-python.sh).

    python scripts/pgo-train.py HOUSEHOLDS.jsonl EXAMPLE.json

Runs the paths an analyst's session takes, with an instrumented build of the package
installed, so that the counts say which code is hot: `evaluate_many` on JSON texts (both
languages), on dicts, `evaluate` of one household with its trace, and `compare` with a
reform. The households are `jiuzhu synth 20000 --seed 7`: not the benchmark's seed 42.
"""
import json
import sys

import jiuzhu


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = [line for line in f.read().splitlines() if line]
    with open(sys.argv[2], encoding="utf-8") as f:
        example = json.load(f)
    engine = jiuzhu.Engine()
    done = len(engine.evaluate_many(lines, threads=1))
    done += len(engine.evaluate_many(lines[:2000], threads=1, lang="en"))
    done += len(engine.evaluate_many([json.loads(line) for line in lines[:2000]], threads=1))
    for lang in ("zh", "en"):
        engine.evaluate(example, lang=lang, trace=True)
    reform = engine.with_parameters({"subsistence.standard": "1600.00"})
    jiuzhu.compare(engine, reform, lines[:2000])
    print(f"pgo-train: {done} assessments")


if __name__ == "__main__":
    main()
