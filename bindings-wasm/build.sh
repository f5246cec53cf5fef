#!/usr/bin/env bash
# Builds the WebAssembly packages of jiuzhu:
#   bindings-wasm/pkg/       --target web     (an ES module + .d.ts, for browsers and bundlers)
#   bindings-wasm/pkg-node/  --target nodejs  (CommonJS, for Node)
# Installs what is missing first (the wasm32 target, the wasm-bindgen CLI of exactly the
# version the crate pins, the npm packages of bindings-wasm/ for wasm-opt). Idempotent:
# run it again and it rebuilds only what changed.
#
# wasm-opt -O3 (binaryen) makes the module smaller and faster (docs/performance.md). It is
# `wasm-opt` on PATH when that is binaryen 116 or later (Debian's 108 silently breaks the
# output), else the npm package `binaryen` of bindings-wasm/package.json. Its result is
# cached by the input's sha256 under target/wasm-opt-cache/. JIUZHU_WASM_OPT=0 skips it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

trap 'rm -rf "$here"/.pkg-*' EXIT
log() { printf '== %s\n' "$*" >&2; }

target=wasm32-unknown-unknown
profile=wasm-release
version="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$here/Cargo.toml")"
if [ -z "$version" ]; then
    echo "build.sh: cannot read the pinned wasm-bindgen version from bindings-wasm/Cargo.toml" >&2
    exit 2
fi

if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    log "installing the Rust target $target"
    rustup target add "$target"
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
    log "installing wasm-bindgen-cli $version (a few minutes, once)"
    cargo install wasm-bindgen-cli --version "$version"
fi

# Profile-guided: the core is compiled with the counts of the native command's training
# runs (scripts/build-pgo.sh --profile, about a minute once its instrumented build is
# cached): an evaluation ~7 % faster in V8 for ~7 % more bytes gzipped
# (docs/performance.md). `--no-pgo` (or JIUZHU_WASM_PGO=0) builds without, e.g. while
# iterating; JIUZHU_WASM_PROFDATA=FILE uses a profile made before. If the profile cannot
# be made (no llvm-profdata), the build goes on without it and says so.
targetdir="${CARGO_TARGET_DIR:-$root/target}"
profdata="${JIUZHU_WASM_PROFDATA:-}"
if [ "${1:-}" = --no-pgo ]; then JIUZHU_WASM_PGO=0; fi
if [ -z "$profdata" ] && [ "${JIUZHU_WASM_PGO:-1}" != 0 ]; then
    made="$root/target/pgo-work/merged.profdata"
    # A profile newer than every source it was taken from is kept: a new one (the counts
    # differ a little from run to run) would rebuild every crate of the wasm build.
    if [ -s "$made" ] && [ -z "$(find "$root/core" "$root/rules" "$root/cli" "$root/Cargo.lock" -newer "$made" -type f -not -path '*/target/*' -print -quit)" ]; then
        log "the PGO profile of the same sources: $made"
        profdata="$made"
    else
        log "the PGO profile (scripts/build-pgo.sh --profile)"
        if bash "$root/scripts/build-pgo.sh" --profile; then
            profdata="$made"
        else
            log "WARNING: no PGO profile; building without it"
        fi
    fi
fi
log "cargo build -p jiuzhu-wasm --target $target --profile $profile${profdata:+ (PGO: $profdata)}"
pgo_env=()
if [ -n "$profdata" ]; then
    targetdir="$targetdir/wasm-pgo"
    pgo_env=(RUSTFLAGS="-Cprofile-use=$profdata -Cllvm-args=-no-pgo-warn-mismatch")
fi
env "${pgo_env[@]}" cargo build -p jiuzhu-wasm --target "$target" --profile "$profile" --locked --target-dir "$targetdir"
wasm="$targetdir/$target/$profile/jiuzhu_wasm.wasm"

# wasm-opt: a native one of binaryen >= 116, else the npm package (installed if missing).
wasm_opt=()
if [ "${JIUZHU_WASM_OPT:-1}" != 0 ]; then
    native="$(wasm-opt --version 2>/dev/null | sed -n 's/.*version \([0-9]*\).*/\1/p' || true)"
    if [ -n "$native" ] && [ "$native" -ge 116 ]; then
        wasm_opt=(wasm-opt)
    else
        if [ ! -f "$here/node_modules/binaryen/bin/wasm-opt" ] && command -v npm >/dev/null 2>&1; then
            log "npm ci in bindings-wasm (binaryen for wasm-opt)"
            (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
        fi
        if [ -f "$here/node_modules/binaryen/bin/wasm-opt" ]; then
            wasm_opt=(node "$here/node_modules/binaryen/bin/wasm-opt")
        else
            log "no wasm-opt (binaryen): the module stays unoptimised"
        fi
    fi
fi
# The features rustc enables for wasm32-unknown-unknown, and simd128, which src/text.rs
# uses in functions of its own (wasm-opt must keep them). --low-memory-unused: nothing
# lives in the first 1 KB (the bottom of the 1 MB stack), so wasm-opt may fold added
# constants into load and store offsets (≈ 1 % fewer instructions).
features=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
    --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-simd)
opt_flags=(-O3 --low-memory-unused "${features[@]}")

# wasm-dis and wasm-as of the same binaryen as wasm-opt.
binaryen_tool() { # name args...
    local name="$1"; shift
    if [ "${wasm_opt[0]}" = wasm-opt ]; then "$name" "$@"; else node "$here/node_modules/binaryen/bin/$name" "$@"; fi
}

# Every memory.copy and memory.fill becomes a call to js/memmove.wat (small copies without V8's call out
# to C; see there), through the text format.
lower_memory_copy() { # in out
    local wat="$1.wat"
    binaryen_tool wasm-dis "$1" -o "$wat"
    sed -i -e 's/^\( *\)(memory\.copy$/\1(call $jiuzhu_memmove/' -e 's/^\( *\)(memory\.fill$/\1(call $jiuzhu_memfill/' "$wat"
    # the function goes before the module's closing parenthesis, its last line of its own
    local close
    close="$(grep -n '^)$' "$wat" | tail -n 1 | cut -d: -f1)"
    sed -i "${close}d" "$wat"
    { cat "$here/js/memmove.wat"; echo ")"; } >> "$wat"
    binaryen_tool wasm-as "$wat" "${features[@]}" -o "$2"
    rm -f "$wat"
}

# Runs wasm-opt on a wasm-bindgen output in place, from the cache when it ran before.
optimise() {
    local file="$1" key cached
    [ ${#wasm_opt[@]} -gt 0 ] || return 0
    key="$( (cat "$file" "$here/js/memmove.wat"; echo "${opt_flags[*]}"; "${wasm_opt[@]}" --version) | sha256sum | cut -c1-32)"
    cached="$root/target/wasm-opt-cache/$key.wasm"
    if [ ! -f "$cached" ]; then
        log "wasm-opt ${opt_flags[0]} (about a minute and a half with the npm binaryen)"
        mkdir -p "$root/target/wasm-opt-cache"
        lower_memory_copy "$file" "$cached.in"
        "${wasm_opt[@]}" "$cached.in" "${opt_flags[@]}" -o "$cached.tmp"
        rm -f "$cached.in"
        mv "$cached.tmp" "$cached"
    fi
    cp "$cached" "$file"
}

pkgversion="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)"
build_pkg() { # dir wasm-bindgen-target module-type
    local dir="$1" bgtarget="$2" type="$3" tmp
    tmp="$(mktemp -d "$here/.pkg-XXXXXX")"
    chmod 755 "$tmp"
    wasm-bindgen "$wasm" --out-dir "$tmp" --out-name jiuzhu --target "$bgtarget"
    optimise "$tmp/jiuzhu_bg.wasm"
    # jiuzhu.js is the generated module with the text path of js/fast.js installed on
    # its Engine; the generated one becomes jiuzhu_impl.js (jiuzhu.d.ts types both).
    mv "$tmp/jiuzhu.js" "$tmp/jiuzhu_impl.js"
    if [ "$type" = module ]; then
        { printf '%s\n' 'import * as impl from "./jiuzhu_impl.js";' 'export * from "./jiuzhu_impl.js";' \
            'export { default } from "./jiuzhu_impl.js";' ''
          cat "$here/js/fast.js"; printf '\n%s\n' 'installTextPath(impl);'; } > "$tmp/jiuzhu.js"
    else
        { printf '%s\n' '"use strict";' 'const impl = require("./jiuzhu_impl.js");' ''
          cat "$here/js/fast.js"; printf '\n%s\n' 'installTextPath(impl);' 'module.exports = impl;'; } > "$tmp/jiuzhu.js"
    fi
    cat > "$tmp/package.json" <<EOF
{
  "name": "jiuzhu",
  "version": "$pkgversion",
  "description": "jiuzhu rules engine for community social assistance, in WebAssembly (default rule pack embedded)",
  "license": "Apache-2.0",
  "type": "$type",
  "main": "jiuzhu.js",
  "types": "jiuzhu.d.ts",
  "files": ["jiuzhu.js", "jiuzhu_impl.js", "jiuzhu.d.ts", "jiuzhu_bg.wasm", "jiuzhu_bg.wasm.d.ts"],
  "sideEffects": ["./jiuzhu.js"]
}
EOF
    rm -rf "$here/$dir"
    mv "$tmp" "$here/$dir"
}
build_pkg pkg web module
build_pkg pkg-node nodejs commonjs

raw=$(wc -c < "$here/pkg/jiuzhu_bg.wasm")
gz=$(gzip -9 -c "$here/pkg/jiuzhu_bg.wasm" | wc -c)
log "pkg/jiuzhu_bg.wasm: $raw bytes raw, $gz bytes gzip -9"
if [ "$gz" -gt 1572864 ]; then
    echo "build.sh: the wasm is over its budget of 1.5 MB gzip ($gz bytes)" >&2
    exit 1
fi
