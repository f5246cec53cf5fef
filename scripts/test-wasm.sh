#!/usr/bin/env bash
# The WebAssembly door's tests: builds bindings-wasm/pkg and pkg-node, then runs
# bindings-wasm/tests/node.test.mjs (the Node package against the spec's figures and the
# `jiuzhu` command line) and bindings-wasm/tests/browser.test.mjs (the calculator page in
# headless Chromium). Installs what is missing first (idempotent): the wasm32 target and
# the wasm-bindgen CLI (by build.sh), Chromium (apt-get), the npm packages (npm ci).
# The last line is node's test summary: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

log() { printf '\n== %s\n' "$*" >&2; }

for tool in cargo node npm python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "test-wasm.sh: $tool not found" >&2
        exit 2
    fi
done

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
    log "installing chromium (apt-get)"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium >/dev/null
fi

log "bindings-wasm/build.sh"
start=$(date +%s)
bash bindings-wasm/build.sh
echo "build.sh took $(( $(date +%s) - start )) s" >&2

log "npm packages (bindings-wasm/package-lock.json)"
(cd bindings-wasm && if [ -d node_modules/playwright-core ] && [ -d node_modules/typescript ] \
        && [ node_modules/.package-lock.json -nt package-lock.json ]; then
    echo "up to date" >&2
else
    npm ci --no-audit --no-fund --loglevel=error
fi)

log "the jiuzhu command line (compared byte for byte)"
cargo build -p jiuzhu-cli --locked --quiet

log "node --test tests/node.test.mjs tests/browser.test.mjs"
cd bindings-wasm
set +e
CHROMIUM="$chromium" JIUZHU_CLI="$root/target/debug/jiuzhu" \
    node --test --test-reporter=spec tests/node.test.mjs tests/pack-cases.test.mjs tests/browser.test.mjs 2>&1 | tee /tmp/jiuzhu-wasm-test.log
status=${PIPESTATUS[0]}
set -e
passed=$(sed -n 's/^ℹ pass \([0-9]*\).*/\1/p' /tmp/jiuzhu-wasm-test.log | tail -n 1)
failed=$(sed -n 's/^ℹ fail \([0-9]*\).*/\1/p' /tmp/jiuzhu-wasm-test.log | tail -n 1)
echo
echo "wasm: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
