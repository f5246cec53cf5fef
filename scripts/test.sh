#!/usr/bin/env bash
# Runs every test of the project, installing what is missing first (idempotent):
#   1. Rust: build, `jiuzhu check` and `jiuzhu test` on the default pack, `cargo test --workspace`
#   2. Python: scripts/test-python.sh (venv, maturin build, pytest, a Dask cluster)
#   3. WebAssembly: scripts/test-wasm.sh (wasm build, Node tests, the calculator in headless Chromium)
# Used by .ci/run. `JIUZHU_SKIP=python,wasm` skips doors on a machine without them.
# The last line totals every suite: "all: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }
skip() { [[ ",${JIUZHU_SKIP:-}," == *",$1,"* ]]; }

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (https://rustup.rs) first" >&2
    exit 2
fi

total_passed=0
total_failed=0
failed_suites=()
record() { # suite passed failed status
    total_passed=$((total_passed + $2))
    total_failed=$((total_failed + $3))
    if [ "$4" -ne 0 ] || [ "$3" -ne 0 ]; then failed_suites+=("$1"); fi
}

# ---- Rust ---------------------------------------------------------------------
log "build"
if ! cargo build --workspace --all-targets --locked 2>&1 | tail -n 3; then :; fi
jiuzhu="${CARGO_TARGET_DIR:-target}/debug/jiuzhu"

log "check the default rule pack (load, compile, lint)"
"$jiuzhu" check rules
record "pack check" 0 0 $?

log "rule-pack tests (rules/tests/*.yaml)"
"$jiuzhu" test rules > /tmp/jiuzhu-pack-test.log 2>&1
status=$?
tail -n 20 /tmp/jiuzhu-pack-test.log
p=$(sed -n 's/^pack tests: \([0-9]*\) passed.*/\1/p' /tmp/jiuzhu-pack-test.log)
f=$(sed -n 's/^pack tests: [0-9]* passed, \([0-9]*\) failed.*/\1/p' /tmp/jiuzhu-pack-test.log)
record "pack tests" "${p:-0}" "${f:-1}" "$status"

log "cargo test --workspace"
cargo test --workspace --locked > /tmp/jiuzhu-cargo-test.log 2>&1
status=$?
grep -E '^(test result|running|failures:|---- |thread )' /tmp/jiuzhu-cargo-test.log
[ "$status" -ne 0 ] && tail -n 60 /tmp/jiuzhu-cargo-test.log
p=$(grep -E '^test result:' /tmp/jiuzhu-cargo-test.log | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s += $1} END {print s + 0}')
f=$(grep -E '^test result:' /tmp/jiuzhu-cargo-test.log | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s += $1} END {print s + 0}')
echo "rust: ${p} passed, ${f} failed"
record "cargo test" "$p" "$f" "$status"

# ---- Python -------------------------------------------------------------------
if ! skip python; then
    log "Python (scripts/test-python.sh)"
    bash scripts/test-python.sh 2>&1 | tee /tmp/jiuzhu-python-test.log
    status=${PIPESTATUS[0]}
    summary=$(grep -E '^[=]* ?[0-9]+ (passed|failed)' /tmp/jiuzhu-python-test.log | tail -n 1)
    p=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+'); f=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+')
    record "python" "${p:-0}" "${f:-0}" "$status"
fi

# ---- WebAssembly --------------------------------------------------------------
if ! skip wasm; then
    log "WebAssembly (scripts/test-wasm.sh)"
    bash scripts/test-wasm.sh > /tmp/jiuzhu-wasm-all.log 2>&1
    status=$?
    tail -n 25 /tmp/jiuzhu-wasm-all.log
    summary=$(grep -E '^wasm: ' /tmp/jiuzhu-wasm-all.log | tail -n 1)
    p=$(sed -nE 's/^wasm: ([0-9]+) passed.*/\1/p' <<<"$summary"); f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$summary")
    record "wasm" "${p:-0}" "${f:-0}" "$status"
fi

echo
if [ "${#failed_suites[@]}" -ne 0 ]; then
    echo "FAILED: ${failed_suites[*]}"
    [ "$total_failed" -eq 0 ] && total_failed=1
fi
echo "all: ${total_passed} passed, ${total_failed} failed"
[ "${#failed_suites[@]}" -eq 0 ]
