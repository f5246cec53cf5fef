#!/usr/bin/env bash
# Builds `jiuzhu` with profile-guided optimisation (PGO) into target/pgo/jiuzhu.
#
#   bash scripts/build-pgo.sh            # about twice a release build
#   bash scripts/build-pgo.sh --profile  # only the profile, target/pgo-work/merged.profdata
#
# The profile serves the wasm build too (bindings-wasm/build.sh compiles the core for
# wasm32 with it: the counts apply to every function whose code is the same on both
# targets, the core's). The Python extension has a training run of its own
# (scripts/build-python.sh): with this profile its object-making code, which the command
# never runs, counted as cold.
#
# Why: the engine is an interpreter of rule scripts; which branches are hot (the
# compiled evaluator's node kinds, the JSON reader and writer) is known only from runs.
# rustc's PGO builds an instrumented binary, runs it on a training workload, and
# rebuilds with the counts: on a 2-core Xeon, `jiuzhu batch` takes ~15 % less time and
# 14 % fewer instructions (docs/performance.md). The output is byte for byte the same;
# only code layout and inlining change.
#
# Training (deterministic): `jiuzhu synth 20000 --seed 7` (not the benchmark's seed 42)
# through `batch` on 1 and 2 threads, in Chinese and English, `compare`
# with a reform, and `evaluate` of the example household.
#
# Needs `llvm-profdata` of the toolchain's LLVM: the rustup component `llvm-tools`
# (installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=$(rustc -vV | sed -n 's/^host: //p')
WORK=$ROOT/target/pgo-work
OUT=$ROOT/target/pgo
log() { printf '== %s\n' "$*" >&2; }

sysroot=$(rustc --print sysroot)
profdata=$sysroot/lib/rustlib/$TARGET/bin/llvm-profdata
if [ ! -x "$profdata" ]; then
  log "installing the rustup component llvm-tools (llvm-profdata)"
  rustup component add llvm-tools
fi

rm -rf "$WORK/profiles"
mkdir -p "$WORK/profiles" "$OUT"

# `--target` keeps build scripts and proc macros out of the instrumentation.
log "instrumented build"
RUSTFLAGS="-Cprofile-generate=$WORK/profiles" \
  cargo build --release -p jiuzhu-cli --locked --target "$TARGET" --target-dir "$WORK/gen"
gen=$WORK/gen/$TARGET/release/jiuzhu

log "training runs"
"$gen" synth 20000 --seed 7 -o "$WORK/train.jsonl"
head -n 2000 "$WORK/train.jsonl" >"$WORK/train-2k.jsonl"
"$gen" batch "$WORK/train.jsonl" --threads 1 >/dev/null 2>&1
"$gen" batch "$WORK/train.jsonl" --threads 2 >/dev/null 2>&1
"$gen" batch "$WORK/train-2k.jsonl" --threads 1 --lang en >/dev/null 2>&1
"$gen" compare "$WORK/train-2k.jsonl" --set subsistence.standard=1600.00 >/dev/null 2>&1 || true
for _ in 1 2 3; do "$gen" evaluate examples/household.json >/dev/null; done

log "merging the profiles"
"$profdata" merge -o "$WORK/merged.profdata" "$WORK/profiles"
if [ "${1:-}" = --profile ]; then
  log "profile: $WORK/merged.profdata"
  exit 0
fi

log "optimised build"
RUSTFLAGS="-Cprofile-use=$WORK/merged.profdata" \
  cargo build --release -p jiuzhu-cli --locked --target "$TARGET" --target-dir "$WORK/use"
cp "$WORK/use/$TARGET/release/jiuzhu" "$OUT/jiuzhu"
log "built $OUT/jiuzhu"
