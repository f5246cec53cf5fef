#!/usr/bin/env bash
# Runs every test of the workspace. Installs what is missing first (idempotent).
# Used by .ci/run; safe to run again and again on a developer machine.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (https://rustup.rs) first" >&2
    exit 2
fi

log "build"
cargo build --workspace --all-targets --locked 2>&1 | tail -n 3

jiuzhu="${CARGO_TARGET_DIR:-target}/debug/jiuzhu"

log "check the default rule pack (load, compile, lint)"
"$jiuzhu" check rules

log "rule-pack tests (rules/tests/*.yaml)"
"$jiuzhu" test rules | tail -n 20

log "cargo test --workspace"
cargo test --workspace --locked 2>&1 | tee /tmp/jiuzhu-cargo-test.log | grep -E '^(test result|running|failures:|---- |thread )' || true
# the exit status of cargo test decides
if grep -q '^test result: FAILED' /tmp/jiuzhu-cargo-test.log || ! grep -q '^test result: ok' /tmp/jiuzhu-cargo-test.log; then
    tail -n 60 /tmp/jiuzhu-cargo-test.log
    exit 1
fi
passed=$(grep -E '^test result: ok' /tmp/jiuzhu-cargo-test.log | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s += $1} END {print s}')
echo
echo "rust: ${passed} passed, 0 failed"
