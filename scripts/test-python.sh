#!/usr/bin/env bash
# Tests the Python door (bindings-python): makes the venv bindings-python/.venv if it is
# missing, installs the pinned tools if they changed, builds and installs the package
# the way a user does (`pip install ./bindings-python`), then runs pytest.
# Idempotent; the last line is pytest's summary. Exit status: pytest's, and
# "no tests ran" (pytest's 5) counts as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }

PY_DIR=bindings-python
VENV="$PY_DIR/.venv"
REQS="$PY_DIR/requirements-dev.txt"
PYTHON="${PYTHON:-python3}"

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (https://rustup.rs) first" >&2
    exit 2
fi

if [ ! -x "$VENV/bin/python" ]; then
    log "create $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
export PATH="$PWD/$VENV/bin:$PATH"   # the venv's maturin for the build

# The tools, once per change of the pins (a copy of the pins marks what is installed).
if ! cmp -s "$REQS" "$VENV/.requirements-dev.txt"; then
    log "install the pinned tools ($REQS)"
    "${PIP[@]}" install --quiet -r "$REQS"
    cp "$REQS" "$VENV/.requirements-dev.txt"
fi

# The package, profile-guided (scripts/build-python.sh: an instrumented build, a
# training run, the optimised build; JIUZHU_PYTHON_PGO=0 makes one plain build, as
# `pip install ./bindings-python` does), with the venv's pinned maturin.
log "build and install $PY_DIR"
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
pgo_arg=()
if [ "${JIUZHU_PYTHON_PGO:-1}" = 0 ]; then pgo_arg=(--no-pgo); fi
if ! bash scripts/build-python.sh "${pgo_arg[@]}" "$VENV" >"$build_log" 2>&1; then
    tail -n 60 "$build_log" >&2
    echo "error: building the Python package failed" >&2
    exit 1
fi
grep '^== \|^pgo-train' "$build_log" >&2 || true

log "pytest $PY_DIR/tests"
status=0
"$VENV/bin/python" -m pytest -p no:cacheprovider -q "$PY_DIR/tests" || status=$?
if [ "$status" -eq 5 ]; then
    echo "error: pytest ran no tests" >&2
    exit 1
fi
exit "$status"
