#!/usr/bin/env bash
# Compares `jiuzhu` binaries on the same households, interleaved round by round, so that
# the drift of a shared VM (up to 30 % between minutes here) falls on all of them alike.
#
#   bash bench/ab.sh [--rounds N] [--threads T] [--out OUT] FILE BIN [BIN...]
#
# FILE: households, one per line (e.g. bench/out/synth-100000.jsonl from bench/run.sh).
# Each round runs `BIN batch FILE -o OUT --threads T` once per binary, in the
# order given, and prints one line: per binary, its CPU seconds (user + system) and,
# after a slash, households per second of wall time. Compare binaries within a line;
# lines differ by the machine's mood. Defaults: 5 rounds, 1 thread (CPU time is then the
# engine's cost per household times N; with --threads 2 read the households/s), output
# to /dev/null (give --out bench/out/ab.jsonl to time writing a file, as bench/run.sh does).
#
# Used for the steps of docs/performance.md from the seventh session on, e.g.
#   git worktree add /tmp/base 84be1ad && cargo build --release --manifest-path /tmp/base/Cargo.toml
#   bash bench/ab.sh bench/out/synth-100000.jsonl /tmp/base/target/release/jiuzhu target/release/jiuzhu
set -euo pipefail
rounds=5
threads=1
out=/dev/null
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
file=$1
shift
n=$(wc -l <"$file")
t=$(mktemp)
trap 'rm -f "$t"' EXIT
printf '# %s households, %s thread(s), output to %s; per binary: CPU s / households per s\n' "$n" "$threads" "$out"
printf '# %s\n' "$@"
for _ in $(seq "$rounds"); do
  line=""
  for b in "$@"; do
    /usr/bin/time -o "$t" -f "%U %S %e" "$b" batch "$file" -o "$out" --threads "$threads" >/dev/null 2>&1
    line="$line $(awk -v n="$n" '{printf "%.2f/%.0f", $1 + $2, n / ($3 > 0 ? $3 : 0.001)}' "$t")"
  done
  echo "$line"
done
