// The wasm package (Node) against the core, per household, on the same households.
//
//   node bench/bindings.mjs FILE.jsonl [JIUZHU]
//
// core: CPU time of `jiuzhu batch FILE --threads 1 -o /dev/null` (minus an empty run), to the
// millisecond;
// wasm: wall time of `engine.evaluateJson(line)` in a loop over every line (JSON text in,
// JSON text out, the same bytes), after the engine is built. Best of ROUNDS (default 7), interleaved.
// MESSAGES=0 in the environment measures both without reason messages (`--no-messages`,
// `{messages: false}`). OBJECTS=1 times `engine.evaluate(object)` instead (each household
// parsed beforehand; an object in, an object out: what a calculator page calls).
// CORE=wasm times the same engine inside the same wasm module as the reference instead of
// `jiuzhu batch`: each household's UTF-8 bytes (made beforehand) copied into the engine's
// input buffer and evaluated through the package's internal buffer calls, the output left
// in wasm memory as the engine wrote it (UTF-16). What the package's own JavaScript adds
// (text in and out, JSON.stringify and JSON.parse for objects) is then apart from what
// V8's code for the engine costs against the native build. Interleaved with the measured
// loop, best of ROUNDS each.
// CORE=native times the core's own call for the same job, natively, as the reference:
// `jiuzhu-native-bench --one FILE` (bench/native; JIUZHU_NATIVE names the binary, default
// target/release/jiuzhu-native-bench) runs `Engine::evaluate_value` (a parsed value in, an
// `Assessment` out) against OBJECTS=1 and `Engine::evaluate_json` (text in and out)
// against `evaluateJson`, one household at a time on one thread, interleaved with the
// measured loop, best of ROUNDS each. Shown beside the target, which is read against
// CORE=wasm: the same engine in the package's own runtime (docs/performance.md, "Reading
// the bindings' target").
// Prints one line: `wasm_us core_us ratio` (µs per household).
import { readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { Engine, __memory } = require(join(here, "../bindings-wasm/pkg-node/jiuzhu.js"));

const path = resolve(process.argv[2]);
const jz = process.argv[3] ?? join(here, "../target/release/jiuzhu");
const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.length > 0);
const empty = join(dirname(path), "empty.jsonl");
writeFileSync(empty, "");

const messages = process.env.MESSAGES !== "0";
const flags = messages ? [] : ["--no-messages"];
const options = messages ? undefined : { messages: false };
const objects = process.env.OBJECTS === "1" ? lines.map((l) => JSON.parse(l)) : null;
const inWasm = process.env.CORE === "wasm";
const native = process.env.CORE === "native" ? (process.env.JIUZHU_NATIVE ?? join(here, "../target/release/jiuzhu-native-bench")) : null;
const encoded = inWasm ? lines.map((l) => Buffer.from(l, "utf8")) : null;

// The command's CPU time (user + system) in milliseconds, from bash's `time`: /usr/bin/time
// prints hundredths of a second, a step of 1 µs a household on 10,000 households (the
// core then read 15.0 or 16.0 µs and nothing between, 6 % apart; Python's bench reads
// getrusage to the microsecond).
function coreCpuTimed(file) {
  const script = 'TIMEFORMAT="CPU %3U %3S"; time "$@" >/dev/null 2>&1';
  const r = spawnSync("bash", ["-c", script, "bash", jz, "batch", file, "--threads", "1", "-o", "/dev/null", ...flags], {
    encoding: "utf8",
  });
  const m = /CPU ([0-9.]+) ([0-9.]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`jiuzhu batch failed: ${r.stderr}`);
  return Number(m[1]) + Number(m[2]);
}

// The core's own call for the same job (CORE=native), µs per household.
function coreNative() {
  const r = spawnSync(native, ["--one", path, ...(messages ? [] : ["0"])], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${native} --one failed: ${r.stderr}`);
  const [objectsUs, textUs] = r.stdout.trim().split(/\s+/).map(Number);
  return objects ? objectsUs : textUs;
}

const engine = new Engine();

// The engine in wasm on its own (CORE=wasm): the calls js/fast.js makes, without its
// text handling. Seconds of wall time for one pass.
function engineInWasm() {
  engine.__parseOptions(options);
  const memory = __memory();
  const start = process.hrtime.bigint();
  let units = 0;
  for (const b of encoded) {
    const at = engine.__inputBuffer(b.length);
    new Uint8Array(memory.buffer, at, b.length).set(b);
    units += engine.__evaluateBufferParsed(b.length);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (units === 0) throw new Error("no output");
  return seconds;
}
const wasm = [];
const core = [];
const base = [];
const rounds = Number(process.env.ROUNDS ?? 7);
const n = lines.length;
for (let round = 0; round < rounds; round++) {
  if (inWasm) core.push(engineInWasm());
  else if (native) core.push((coreNative() * n) / 1e6);
  else {
    base.push(coreCpuTimed(empty));
    core.push(coreCpuTimed(path));
  }
  const start = process.hrtime.bigint();
  let bytes = 0;
  if (objects) for (const o of objects) bytes += engine.evaluate(o, options).programs ? 1 : 0;
  else for (const l of lines) bytes += engine.evaluateJson(l, options).length;
  wasm.push(Number(process.hrtime.bigint() - start) / 1e9);
  if (bytes === 0) throw new Error("no output");
}
const coreUs = ((Math.min(...core) - (inWasm || native ? 0 : Math.min(...base))) / n) * 1e6;
const wasmUs = (Math.min(...wasm) / n) * 1e6;
console.log(`${wasmUs.toFixed(1)} ${coreUs.toFixed(1)} ${(wasmUs / coreUs).toFixed(2)}`);
