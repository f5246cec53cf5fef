#!/usr/bin/env bash
# Builds the Python package (bindings-python) and installs it into a venv,
# profile-guided:
#
#   bash scripts/build-python.sh [--no-pgo] [VENV]    # VENV: bindings-python/.venv
#
# VENV must have maturin (scripts/test-python.sh makes it so). Steps:
#   1. an instrumented build (rustc -Cprofile-generate) installed into VENV;
#   2. the training run, scripts/pgo-train.py: `jiuzhu synth 20000 --seed 7` through
#      evaluate_many (texts, dicts, both languages), evaluate with its trace, compare;
#   3. the counts merged (llvm-profdata, the rustup component llvm-tools);
#   4. the optimised build (rustc -Cprofile-use) installed into VENV.
#
# Why the package's own training and not scripts/build-pgo.sh's profile: in the
# extension the hot code includes the making of Python objects, which the command never
# runs; with the command's profile that code counted as cold and the extension ran 1-2 %
# more instructions, with its own ~8 % fewer (docs/performance.md, 2026-12-05). Outputs
# are the same; only inlining and code layout change. Each build has its own target
# folder under target/pgo-work/ (RUSTFLAGS differ), so none rebuilds the others'.
#
# --no-pgo, or no llvm-profdata to be had: one plain build, as `pip install
# ./bindings-python` makes it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '== %s\n' "$*" >&2; }

pgo=1
if [ "${1:-}" = --no-pgo ]; then pgo=0; shift; fi
VENV=${1:-bindings-python/.venv}
export PATH="$ROOT/$VENV/bin:$PATH"   # maturin of the venv
install() { # extra environment for the build, as NAME=VALUE words
  env "$@" "$VENV/bin/python" -m pip --disable-pip-version-check install --no-build-isolation --no-deps \
    --force-reinstall ./bindings-python
}

TARGET=$(rustc -vV | sed -n 's/^host: //p')
profdata=$(rustc --print sysroot)/lib/rustlib/$TARGET/bin/llvm-profdata
if [ "$pgo" = 1 ] && [ ! -x "$profdata" ]; then
  log "installing the rustup component llvm-tools (llvm-profdata)"
  rustup component add llvm-tools || { log "WARNING: no llvm-profdata: building without a profile"; pgo=0; }
fi
if [ "$pgo" = 0 ]; then
  log "build and install bindings-python (no profile)"
  install
  exit 0
fi

WORK=$ROOT/target/pgo-work
mkdir -p "$WORK"
# A profile newer than every source it was taken from is kept: a new one (the counts
# differ a little from run to run) would rebuild every crate of the optimised build.
if [ -s "$WORK/py.profdata" ] && [ -z "$(find core rules bindings-python Cargo.lock scripts/pgo-train.py \
    -newer "$WORK/py.profdata" -type f -not -path '*/.venv/*' -not -path '*/target/*' -not -name '*.pyc' -print -quit)" ]; then
  log "the profile of the same sources: $WORK/py.profdata"
else
  log "instrumented build"
  install RUSTFLAGS="-Cprofile-generate=$WORK/py-build-profiles" CARGO_TARGET_DIR="$WORK/py-gen"

  log "training run"
  if [ ! -s "$WORK/py-train.jsonl" ]; then
    cargo run -q -p jiuzhu-cli --locked -- synth 20000 --seed 7 -o "$WORK/py-train.jsonl"
  fi
  rm -rf "$WORK/py-profiles"
  LLVM_PROFILE_FILE="$WORK/py-profiles/train-%p.profraw" \
    "$VENV/bin/python" scripts/pgo-train.py "$WORK/py-train.jsonl" examples/household.json
  "$profdata" merge -o "$WORK/py.profdata.new" "$WORK/py-profiles"
  # The same counts as last time leave the file (and so the optimised build) untouched.
  if cmp -s "$WORK/py.profdata.new" "$WORK/py.profdata"; then rm "$WORK/py.profdata.new"; else mv "$WORK/py.profdata.new" "$WORK/py.profdata"; fi
fi

log "optimised build"
install RUSTFLAGS="-Cprofile-use=$WORK/py.profdata -Cllvm-args=-no-pgo-warn-mismatch" CARGO_TARGET_DIR="$WORK/py-use"
log "installed into $VENV (profile-guided)"
