// The Node package (pkg-node/, wasm-bindgen --target nodejs) against the spec's figures
// and the `jiuzhu` command line, byte for byte. Run: node --test tests/node.test.mjs
// (after build.sh). Needs ./target/debug/jiuzhu; builds it with cargo when missing.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmDir = path.resolve(here, "..");
const root = path.resolve(wasmDir, "..");
const require = createRequire(import.meta.url);
const { Engine } = require(path.join(wasmDir, "pkg-node", "jiuzhu.js"));

const EXAMPLES = ["household.json", "tekun.json", "temporary-review.json", "students.json"];
const exampleText = (name) => fs.readFileSync(path.join(root, "examples", name), "utf8");
const example = (name) => JSON.parse(exampleText(name));
const KINDS = ["validation", "parameter", "rule", "pack", "usage"];

const engine = new Engine();

/** Calls fn, expecting a JiuzhuError; returns it. */
function throwsJiuzhu(fn, kind) {
  let caught;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, "expected an error");
  assert.ok(caught instanceof Error, `an Error, not ${caught}`);
  assert.equal(caught.name, "JiuzhuError", caught.stack);
  if (kind) assert.equal(caught.kind, kind, caught.message);
  assert.ok(Array.isArray(caught.errors) && caught.errors.length > 0, "errors: a non-empty list");
  for (const e of caught.errors) {
    assert.equal(typeof e.path, "string");
    assert.equal(typeof e.message, "string");
  }
  return caught;
}

/** Every number in an assessment is a whole number (counts, ages): money is text. */
function assertNoFractionalNumbers(v, where = "") {
  if (typeof v === "number") assert.ok(Number.isSafeInteger(v), `${where}: a number ${v} in the output`);
  else if (Array.isArray(v)) v.forEach((x, i) => assertNoFractionalNumbers(x, `${where}[${i}]`));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) assertNoFractionalNumbers(x, `${where}.${k}`);
}
const MONEY = /^-?\d+\.\d{2}$/;

// ---------------------------------------------------------------------------------------

describe("the spec's worked examples", () => {
  test("household.json: dibao 2245.00, student 500.00", () => {
    const a = engine.evaluate(example("household.json"));
    assert.equal(a.programs.subsistence.status, "eligible");
    assert.equal(a.programs.subsistence.category, "dibao");
    assert.equal(a.programs.subsistence.amount, "2245.00");
    assert.equal(a.programs.student.amount, "500.00");
    assert.deepEqual(a.totals, { monthly: "2245.00", one_off: "0.00", annual: "500.00" });
    assert.equal(a.derived.per_capita_income, "750.00");
  });

  test("tekun.json: tekun 2970.00, medical 3500.00", () => {
    const a = engine.evaluate(example("tekun.json"));
    assert.equal(a.programs.subsistence.category, "tekun");
    assert.equal(a.programs.subsistence.amount, "2970.00");
    assert.equal(a.programs.medical.amount, "3500.00");
    assert.deepEqual(a.totals, { monthly: "2970.00", one_off: "3500.00", annual: "0.00" });
  });

  test("temporary-review.json: temporary aid for review, 4950.00 proposed, not in the totals", () => {
    const a = engine.evaluate(example("temporary-review.json"));
    assert.equal(a.programs.temporary.status, "review");
    assert.equal(a.programs.temporary.amount, "4950.00");
    assert.equal(a.programs.subsistence.amount, "150.00");
    assert.deepEqual(a.totals, { monthly: "150.00", one_off: "0.00", annual: "0.00" });
  });

  test("students.json: the 2024 standard, 5693.50 monthly and 13150.00 annual", () => {
    const a = engine.evaluate(example("students.json"));
    assert.equal(a.as_of, "2024-08-31");
    assert.equal(a.programs.subsistence.amount, "5693.50");
    assert.equal(a.programs.student.amount, "13150.00");
    assert.equal(a.totals.annual, "13150.00");
  });

  test("money is a decimal string everywhere, never a JS number", () => {
    for (const name of EXAMPLES) {
      const a = engine.evaluate(example(name), { trace: true });
      assertNoFractionalNumbers(a, name);
      for (const [id, p] of Object.entries(a.programs)) assert.match(p.amount, MONEY, `${name} ${id}`);
      for (const v of Object.values(a.totals)) assert.match(v, MONEY);
      for (const k of ["counted_income", "per_capita_income", "subsistence_income", "rigid_medical_deduction"]) {
        assert.match(a.derived[k], MONEY);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------

/** The command line, built (or brought up to date) with cargo; JIUZHU_CLI names another. */
function cliBinary() {
  if (process.env.JIUZHU_CLI) return process.env.JIUZHU_CLI;
  const r = spawnSync("cargo", ["build", "-p", "jiuzhu-cli", "--quiet"], { cwd: root, stdio: "inherit", timeout: 30 * 60 * 1000 });
  assert.equal(r.status, 0, "cargo build -p jiuzhu-cli");
  return path.join(root, "target", "debug", process.platform === "win32" ? "jiuzhu.exe" : "jiuzhu");
}

/** Equal texts, or a failure that shows where they part (not two whole assessments). */
function sameText(actual, expected, what) {
  if (actual === expected) return;
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  const around = (s) => JSON.stringify(s.slice(Math.max(0, i - 80), i + 80));
  assert.fail(`${what}: differs at character ${i}\n  wasm: ${around(actual)}\n  cli:  ${around(expected)}`);
}

describe("the same bytes as the command line", () => {
  const bin = cliBinary();
  const cli = (args) => {
    const r = spawnSync(bin, args, { cwd: root, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };

  for (const name of EXAMPLES) {
    test(`${name}: evaluate and evaluateJson equal \`jiuzhu evaluate\``, () => {
      const file = path.join("examples", name);
      const expected = cli(["evaluate", file]);
      sameText(engine.evaluateJson(exampleText(name)) + "\n", expected, "evaluateJson(text)");
      sameText(engine.evaluateJson(example(name)) + "\n", expected, "evaluateJson(object)");
      sameText(JSON.stringify(engine.evaluate(example(name))) + "\n", expected, "evaluate(object)");
      // in English, with the trace, at another date
      const en = cli(["evaluate", file, "--lang", "en", "--trace", "--as-of", "2025-06-30"]);
      const got = engine.evaluate(exampleText(name), { lang: "en", trace: true, asOf: "2025-06-30" });
      sameText(JSON.stringify(got) + "\n", en, "evaluate(text, {lang: en, trace, asOf})");
    });
  }

  test("messages: false leaves out each reason's message, as `jiuzhu evaluate --no-messages`", () => {
    for (const name of EXAMPLES) {
      const file = path.join("examples", name);
      const full = engine.evaluate(example(name), { lang: "en" });
      const bare = engine.evaluate(example(name), { lang: "en", messages: false });
      let reasons = 0;
      for (const p of Object.values(full.programs)) {
        for (const r of p.reasons) {
          assert.ok(r.message.length > 0);
          delete r.message;
          reasons += 1;
        }
      }
      assert.ok(reasons >= 5, `${name}: ${reasons}`);
      assert.deepEqual(bare, full);
      for (const p of Object.values(bare.programs)) {
        for (const r of p.reasons) assert.deepEqual(Object.keys(r), ["code", "basis", "values"]);
      }
      const cliText = cli(["evaluate", file, "--lang", "en", "--no-messages"]);
      sameText(engine.evaluateJson(exampleText(name), { lang: "en", messages: false }) + "\n", cliText, "evaluateJson(text, {messages: false})");
      assert.equal(engine.evaluate(example(name), { messages: true }).programs.subsistence.reasons[0].message.length > 0, true);
    }
  });

  test("an options object changed between calls is read again", () => {
    const text = exampleText("household.json");
    const file = path.join("examples", "household.json");
    const zh = cli(["evaluate", file]);
    const en = cli(["evaluate", file, "--lang", "en"]);
    const enBare = cli(["evaluate", file, "--lang", "en", "--no-messages"]);
    const traced = cli(["evaluate", file, "--lang", "en", "--trace"]);
    const o = { lang: "en" };
    sameText(engine.evaluateJson(text, o) + "\n", en, "lang en");
    sameText(engine.evaluateJson(text, o) + "\n", en, "lang en, the same object again");
    o.lang = "zh";
    sameText(engine.evaluateJson(text, o) + "\n", zh, "lang changed in place");
    o.lang = "en";
    o.messages = false;
    sameText(engine.evaluateJson(text, o) + "\n", enBare, "a key added");
    delete o.messages;
    o.trace = "yes";
    const e = throwsJiuzhu(() => engine.evaluateJson(text, o), "usage");
    assert.equal(e.errors[0].path, "options.trace");
    throwsJiuzhu(() => engine.evaluateJson(text, o), "usage"); // still refused, not remembered
    o.trace = true;
    sameText(engine.evaluateJson(text, o) + "\n", traced, "a bad value made good");
    // a second engine keeps its own; the first is not disturbed by it
    const other = new Engine();
    const p = { lang: "zh" };
    sameText(other.evaluateJson(text, p) + "\n", zh, "other engine");
    sameText(engine.evaluateJson(text, o) + "\n", traced, "first engine, its own options");
    sameText(engine.evaluateJson(text, { ...o }) + "\n", traced, "an equal new object");
    sameText(engine.evaluateJson(text) + "\n", zh, "no options");
    sameText(JSON.stringify(engine.evaluate(text, { lang: "en", messages: false })) + "\n", enBare, "evaluate(text)");
    other.free();
  });

  // The ids come back in the assessment: escaped by the JSON writer and converted to
  // UTF-16, whose wasm SIMD paths go 16 bytes a step. Escapes, ASCII, two-, three- and
  // four-byte characters at every offset of such a step, and runs of Chinese of each length.
  test("ids of every kind of text come back as the command line writes them", () => {
    const pieces = ["\"", "\\", "\n", "\u0001", "\u001f", "\u007f", "é", "家", "😀", "a"];
    const ids = [];
    for (let k = 0; k < 20; k++) for (const p of pieces) ids.push("x".repeat(k) + p + "庭".repeat(k % 7) + "y".repeat(20 - k));
    for (let k = 1; k <= 21; k++) ids.push("家".repeat(k), "a" + "家".repeat(k) + "\"", "家".repeat(k) + "é" + "庭".repeat(21 - k), "😀".repeat(k % 16 + 1) + "家");
    const base = example("household.json");
    const lines = ids.map((id, i) => {
      const h = structuredClone(base);
      h.id = id;
      return JSON.stringify(h);
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jiuzhu-ids-"));
    try {
      const file = path.join(dir, "ids.jsonl");
      fs.writeFileSync(file, lines.join("\n") + "\n");
      cli(["batch", file, "--threads", "1", "-o", path.join(dir, "out.jsonl")]);
      const expected = fs.readFileSync(path.join(dir, "out.jsonl"), "utf8").split("\n");
      lines.forEach((l, i) => sameText(engine.evaluateJson(l), expected[i], `id ${JSON.stringify(ids[i])}`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the pack digest is the command line's", () => {
    const a = JSON.parse(cli(["evaluate", "examples/household.json"]));
    assert.deepEqual(a.rule_pack, engine.packInfo);
  });
});

describe("the shared conformance corpus (tests/conformance)", () => {
  const dir = path.join(root, "tests", "conformance");
  const households = fs.readFileSync(path.join(dir, "households.jsonl"), "utf8").split("\n").filter(Boolean);
  const expected = fs.readFileSync(path.join(dir, "expected.jsonl"), "utf8").split("\n").filter(Boolean);

  test(`every household gives exactly the expected assessment (${households.length} lines)`, () => {
    assert.equal(households.length, expected.length);
    assert.ok(households.length >= 44, `${households.length} lines`);
    households.forEach((h, i) => {
      sameText(engine.evaluateJson(h), expected[i], `line ${i + 1}, evaluateJson(text)`);
      sameText(JSON.stringify(engine.evaluate(JSON.parse(h))), expected[i], `line ${i + 1}, evaluate(object)`);
    });
  });
});

describe("household objects", () => {
  const dir = path.join(root, "tests", "conformance");
  const households = fs.readFileSync(path.join(dir, "households.jsonl"), "utf8").split("\n").filter(Boolean);

  test("a plain object gives what its JSON text gives, with or without a prototype", () => {
    for (const h of households) {
      const text = engine.evaluateJson(h);
      const bare = Object.assign(Object.create(null), JSON.parse(h));
      sameText(engine.evaluateJson(bare), text, "evaluateJson(Object.create(null))");
      // undefined and function members are left out, as JSON.stringify leaves them
      const extra = { ...JSON.parse(h), note: undefined, helper: () => 1 };
      sameText(engine.evaluateJson(extra), text, "evaluateJson(with undefined and a function)");
    }
  });

  test("an enumerable key added to Object.prototype is not part of the household", () => {
    // JSON.stringify writes own keys only; the check before it also visits inherited
    // ones, and a value there that JSON cannot hold sends the household the slow way.
    const h = households[0];
    const text = engine.evaluateJson(h);
    for (const polluted of [NaN, () => 1, "x", { region: "110000" }]) {
      Object.prototype.polluted = polluted;
      try {
        sameText(engine.evaluateJson(JSON.parse(h)), text, `evaluateJson with Object.prototype.polluted = ${String(polluted)}`);
        assert.equal(JSON.stringify(engine.evaluate(JSON.parse(h))), text);
      } finally {
        delete Object.prototype.polluted;
      }
    }
  });

  test("what reads badly is still reported at its path", () => {
    const getter = example("household.json");
    Object.defineProperty(getter.members[0], "sex", { enumerable: true, get() { throw new Error("no access"); } });
    let e = throwsJiuzhu(() => engine.evaluate(getter), "validation");
    assert.equal(e.errors[0].path, "members[0]"); // the object being read
    assert.match(e.errors[0].message, /cannot read: no access/);
    const proxied = example("household.json");
    proxied.members = new Proxy(proxied.members, { get(t, k) { if (k === "0") throw new Error("trap"); return Reflect.get(t, k); } });
    e = throwsJiuzhu(() => engine.evaluateJson(proxied), "validation");
    assert.equal(e.errors[0].path, "members");
    const dated = example("household.json");
    dated.members[0].birth_date = new Date("1960-01-01T00:00:00Z"); // its toJSON text, which is not a date
    e = throwsJiuzhu(() => engine.evaluate(dated), "validation");
    assert.equal(e.errors[0].path, "members[0].birth_date");
  });

  test("an object costs about what its text does (no walk from Rust)", () => {
    const texts = households.slice(0, 40);
    const objects = texts.map((h) => JSON.parse(h));
    const best = (f) => {
      let b = Infinity;
      for (let r = 0; r < 5; r++) {
        const s = process.hrtime.bigint();
        for (let k = 0; k < 5; k++) f();
        b = Math.min(b, Number(process.hrtime.bigint() - s));
      }
      return b;
    };
    const text = best(() => texts.forEach((h) => engine.evaluateJson(h)));
    const object = best(() => objects.forEach((h) => engine.evaluateJson(h)));
    // a walk from Rust made it 6-7 times; JSON.stringify adds a fifth or so
    assert.ok(object < 3 * text, `object ${object} ns against text ${text} ns`);
  });
});

// ---------------------------------------------------------------------------------------

// A household object goes into wasm memory as words written by one walk in js/fast.js
// (jiuzhu_core::household::words), not as JSON.stringify's text: the walk and the
// engine's words reader must give exactly what the text gives, and give up (to the text
// path, which reports the problems) at anything else.
describe("household objects as words", () => {
  const dir = path.join(root, "tests", "conformance");
  const households = fs.readFileSync(path.join(dir, "households.jsonl"), "utf8").split("\n").filter(Boolean);

  /** An engine that counts how its households were read: words, or words given up on. */
  function counting() {
    const e = new Engine();
    e.counts = { words: 0, gaveUp: 0 };
    // evaluateJson reads words into the text (0xffffffff: gave up), evaluate into a tape (0)
    for (const [name, gaveUp] of [["__evaluateWordsParsed", 0xffffffff], ["__evaluateWordsObjectParsed", 0]]) {
      const read = e[name];
      e[name] = function (...args) {
        const r = read.apply(this, args);
        if (r === gaveUp) e.counts.gaveUp++;
        else e.counts.words++;
        return r;
      };
    }
    return e;
  }
  /** The result of f: its value, or the error's kind and problems. */
  function outcome(f) {
    try {
      return { value: f() };
    } catch (e) {
      return { kind: e.kind, errors: e.errors, message: e.message };
    }
  }
  /** Amount-looking strings as the numbers a form gives ("1800.50" -> 1800.5). */
  function asNumbers(v, key) {
    if (Array.isArray(v)) return v.map((x) => asNumbers(x));
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asNumbers(x, k)]));
    if (typeof v === "string" && key !== "id" && key !== "region" && /^\d+(\.\d+)?$/.test(v)) return Number(v);
    return v;
  }
  /** evaluateJson and evaluate of `h` as an object, against the same of its JSON text. */
  function sameAsText(e, h, options, what) {
    const text = JSON.stringify(h);
    assert.deepStrictEqual(outcome(() => e.evaluateJson(h, options)), outcome(() => e.evaluateJson(text, options)), what);
    assert.deepStrictEqual(outcome(() => e.evaluate(h, options)), outcome(() => e.evaluate(text, options)), what);
  }

  test("the conformance corpus and 300 synthetic households, amounts as strings and as numbers", () => {
    const bin = cliBinary();
    const synth = spawnSync(bin, ["synth", "300", "--seed", "11"], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
    assert.equal(synth.status, 0, synth.stderr);
    const lines = [...households, ...synth.stdout.split("\n").filter(Boolean)];
    const e = counting();
    for (const line of lines) {
      for (const h of [JSON.parse(line), asNumbers(JSON.parse(line))]) {
        for (const options of [undefined, { lang: "en", trace: true }]) sameAsText(e, h, options, line);
      }
    }
    // Every valid household was read as words (two calls each, two forms, two option
    // sets); the corpus's invalid ones were given up on, and the text path reported them.
    const valid = lines.filter((l) => outcome(() => e.evaluateJson(l)).value !== undefined).length;
    assert.ok(valid >= 330, `${valid} valid`);
    assert.equal(e.counts.words, 8 * valid);
  });

  test("texts of every kind: Chinese, emoji, quotes, control characters; a lone surrogate is given up on", () => {
    const e = counting();
    for (const id of ["家庭成员", "😀x", "a\"b", "back\\slash", "tab\t", "nul\u0000", "x".repeat(64), "x".repeat(65), "\ud800", "a\udc00b"]) {
      const h = example("household.json");
      h.members[1].id = id;
      h.id = id;
      sameAsText(e, h, undefined, JSON.stringify(id));
    }
    // two object calls each for the seven ids of up to 64 characters without a lone surrogate
    assert.equal(e.counts.words, 2 * 7);
  });

  test("numbers as JSON.stringify writes them: -0, fractions, large and tiny ones", () => {
    const e = counting();
    for (const x of [0, -0, 1, 1800.5, 1800.25, 0.1 + 0.2, 2 ** 31, 2 ** 31 - 1, 2 ** 53, 1e21, 1e-7, -1, -1800.5, 123456789012.34]) {
      const h = example("household.json");
      h.assets = { ...h.assets, deposits: x };
      h.members[0].incomes = [{ kind: "wage", monthly: x }];
      sameAsText(e, h, undefined, `amount ${x}`);
      const c = example("household.json");
      c.history = { ...c.history, temporary_aid_grants_12m: x };
      sameAsText(e, c, undefined, `count ${x}`);
    }
    // Two object calls each: the eight amounts that are valid (non-negative, plain, at
    // most two places, at most 10^12 yuan) and the three counts (0, -0, 1).
    assert.equal(e.counts.words, 2 * 8 + 2 * 3);
  });

  test("anything else takes the text path: unknown keys, classes, holes, null prototypes", () => {
    const e = counting();
    const cases = {
      "an unknown key": (h) => (h.note = "x"),
      "a key in the wrong place": (h) => (h.members[0].region = "110000"),
      "a Map": (h) => (h.assets = new Map()),
      "a hole": (h) => (h.members = [h.members[0], , h.members[1]]),
      "an array's own toJSON": (h) => (h.members.toJSON = () => []),
      "a wrong region": (h) => (h.region = "999999"),
      "too many members": (h) => (h.members = Array.from({ length: 31 }, (_, i) => ({ ...h.members[1], id: `m${i}` }))),
    };
    for (const [what, change] of Object.entries(cases)) {
      const h = example("household.json");
      change(h);
      sameAsText(e, h, undefined, what);
    }
    const bare = Object.assign(Object.create(null), example("household.json"));
    sameAsText(e, bare, undefined, "a null prototype");
    // A getter that evaluates another household while the walk reads it: both calls
    // take the text path (they share the words buffers) and give what their texts give.
    const inner = example("tekun.json");
    const reentrant = example("household.json");
    let innerResult;
    Object.defineProperty(reentrant.members[0], "sex", { enumerable: true, get() { innerResult = e.evaluate(inner); return "female"; } });
    const plain = { ...example("household.json") };
    plain.members = plain.members.map((m, i) => (i === 0 ? { ...m, sex: "female" } : m));
    assert.deepStrictEqual(e.evaluate(reentrant), e.evaluate(JSON.stringify(plain)));
    assert.deepStrictEqual(innerResult, e.evaluate(JSON.stringify(inner)));
    // The null prototype's two calls, and the two inner calls made by the text path of
    // the re-entered one (its plainness check and JSON.stringify read the getter again,
    // no longer during a walk). The wrong region was read as words, then refused as the
    // text is, so it is not counted.
    assert.equal(e.counts.words, 4);
  });
});

// ---------------------------------------------------------------------------------------

// evaluate() builds its object from a tape of the events the engine's JSON text is
// written from (src/sink.rs, the build in js/fast.js) instead of JSON.parse: it must be
// the object JSON.parse gives.
describe("the assessment object", () => {
  const bin = cliBinary();
  const synth = spawnSync(bin, ["synth", "300", "--seed", "7"], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(synth.status, 0, synth.stderr);
  const lines = synth.stdout.split("\n").filter(Boolean);
  const OPTION_SETS = [undefined, { lang: "en" }, { messages: false }, { trace: true, lang: "en" }];

  test("is JSON.parse of evaluateJson's text: 300 synthetic households, four option sets", () => {
    assert.equal(lines.length, 300);
    const fresh = new Engine();
    // every object from a tape, none from the fallback to the JSON text (the third word
    // of a tape's header is 1)
    const memory = require(path.join(wasmDir, "pkg-node", "jiuzhu.js")).__memory();
    let tapes = 0;
    for (const name of ["__evaluateBufferObject", "__evaluateBufferObjectParsed", "__evaluateWordsObjectParsed"]) {
      const method = fresh[name];
      fresh[name] = function (...args) {
        const at = method.apply(this, args);
        if (at !== 0 && new Int32Array(memory.buffer)[(at >>> 2) + 2] === 1) tapes++;
        return at;
      };
    }
    for (const options of OPTION_SETS) {
      lines.forEach((line, i) => {
        const expected = JSON.parse(fresh.evaluateJson(line, options));
        assert.deepStrictEqual(fresh.evaluate(JSON.parse(line), options), expected, `line ${i + 1}, options ${JSON.stringify(options)}`);
        assert.deepStrictEqual(fresh.evaluate(line, options), expected, `line ${i + 1} as text`);
      });
    }
    assert.equal(tapes, 2 * 4 * 300);
  });

  // Member ids are keys of derived.members: keys that are special to JavaScript objects.
  test("member ids that are special as keys come back as JSON.parse gives them", () => {
    const ids = ["__proto__", "toString", "constructor", "hasOwnProperty", "valueOf", "0", "10", "4294967295", "a\"b", "k\\n", "tab\t", "家庭成员", "😀", "x".repeat(60)];
    const fresh = new Engine();
    for (const id of ids) {
      const h = example("household.json");
      h.members[1].id = id;
      const text = JSON.stringify(h);
      const expected = JSON.parse(fresh.evaluateJson(text));
      const a = fresh.evaluate(h);
      assert.deepStrictEqual(a, expected, `member id ${JSON.stringify(id)}`);
      const members = a.derived.members;
      assert.equal(Object.getPrototypeOf(members), Object.prototype);
      assert.ok(Object.prototype.hasOwnProperty.call(members, id), `own key ${JSON.stringify(id)}`);
      assert.deepEqual(Object.keys(members), Object.keys(expected.derived.members));
      assert.equal(typeof members[id].age, "number");
    }
  });

  test("keys the engine forgot it sent are learnt again; thousands of distinct keys", () => {
    const fresh = new Engine();
    const h = example("household.json");
    const expected = JSON.parse(fresh.evaluateJson(h));
    assert.deepStrictEqual(fresh.evaluate(h), expected);
    // As if a build had stopped half-way: the keys sent before are sent again with their text.
    fresh.__fast.keys = { list: [], define: [], known: 0 };
    assert.deepStrictEqual(fresh.evaluate(h), expected);
    assert.ok(fresh.__fast.keys.known > 40, `${fresh.__fast.keys.known} keys learnt`);
    // Past the table's 4096 keys, new keys go as text.
    const base = example("household.json");
    for (let k = 0; k < 1400; k++) {
      const x = structuredClone(base);
      x.members.forEach((m, j) => (m.id = `p${k}-${j}`));
      const text = JSON.stringify(x);
      if (k % 100 === 0 || k > 1390) assert.deepStrictEqual(fresh.evaluate(x), JSON.parse(fresh.evaluateJson(text)), `household ${k}`);
      else fresh.evaluate(x);
    }
    assert.ok(fresh.__fast.keys.known >= 4096, `${fresh.__fast.keys.known} keys`);
  });

  test("a key Object.prototype has when it is first met is defined, not assigned", () => {
    let called = 0;
    Object.defineProperty(Object.prototype, "age", { configurable: true, get() { return -1; }, set() { called++; } });
    try {
      const fresh = new Engine();
      const h = example("household.json");
      const a = fresh.evaluate(h);
      assert.equal(called, 0);
      for (const m of Object.values(a.derived.members)) assert.equal(typeof Object.getOwnPropertyDescriptor(m, "age").value, "number");
    } finally {
      delete Object.prototype.age;
    }
  });
});

// ---------------------------------------------------------------------------------------

describe("the engine's facts", () => {
  test("programs, regions, languages, packInfo", () => {
    assert.deepEqual(engine.programs, ["subsistence", "temporary", "medical", "student", "employment"]);
    assert.ok(engine.regions.includes("110000") && engine.regions.every((r) => /^\d{6}$/.test(r)), engine.regions.join());
    assert.deepEqual(engine.languages, ["zh", "en"]);
    assert.equal(engine.packInfo.name, "cn-social-assistance");
    assert.match(engine.packInfo.digest, /^sha256:[0-9a-f]{64}$/);
  });

  test("lang en: reasons in English; zh by default", () => {
    const zh = engine.evaluate(example("household.json"));
    const en = engine.evaluate(example("household.json"), { lang: "en" });
    assert.equal(zh.programs.subsistence.reasons[0].code, en.programs.subsistence.reasons[0].code);
    assert.match(zh.programs.subsistence.reasons[0].message, /[\u4e00-\u9fff]/);
    assert.doesNotMatch(en.programs.subsistence.reasons[0].message, /[\u4e00-\u9fff]/);
    assert.match(en.programs.subsistence.reasons[0].message, /standard/i);
    throwsJiuzhu(() => engine.evaluate(example("household.json"), { lang: "fr" }), "usage");
  });

  test("no clock inside: a household without as_of needs asOf or today", () => {
    const h = example("tekun.json");
    delete h.as_of;
    const e = throwsJiuzhu(() => engine.evaluate(h), "validation");
    assert.ok(e.errors.some((x) => x.path === "as_of"), JSON.stringify(e.errors));
    assert.equal(engine.evaluate(h, { today: "2025-03-01" }).as_of, "2025-03-01");
    assert.equal(engine.evaluate(h, { asOf: "2025-03-01", today: "2030-01-01" }).as_of, "2025-03-01");
    // asOf overrides the household's own date; today does not
    assert.equal(engine.evaluate(example("tekun.json"), { asOf: "2024-08-31" }).as_of, "2024-08-31");
    assert.equal(engine.evaluate(example("tekun.json"), { today: "2030-01-01" }).as_of, "2025-03-01");
  });

  test("withParameters: a reform on the same compiled pack", () => {
    const reform = engine.withParameters(["110000:subsistence.standard=1500"]);
    assert.equal(reform.evaluate(example("tekun.json")).programs.subsistence.amount, "3100.00"); // 1.3 × 1500 × 2 − 800
    const same = engine.withParameters({ "110000:subsistence.standard": "1500" });
    assert.equal(same.evaluate(example("tekun.json")).programs.subsistence.amount, "3100.00");
    assert.equal(engine.evaluate(example("tekun.json")).programs.subsistence.amount, "2970.00");
    throwsJiuzhu(() => engine.withParameters(["no.such.parameter=1"]), "usage");
    throwsJiuzhu(() => engine.withParameters({ "subsistence.standard": 1500 }), "usage");
  });
});

// ---------------------------------------------------------------------------------------

describe("errors", () => {
  test("a bad household: every problem, each with its path", () => {
    const h = example("household.json");
    h.members[0].disabilty_grade = 1;
    h.members[1].incomes[0].monthly = "-5";
    h.members[2].birth_date = "2015-02-30";
    h.region = "11010";
    const e = throwsJiuzhu(() => engine.evaluate(h), "validation");
    const paths = e.errors.map((x) => x.path);
    for (const p of ["members[0].disabilty_grade", "members[1].incomes[0].monthly", "members[2].birth_date", "region"]) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(", ")}`);
    }
    assert.match(e.errors.find((x) => x.path === "members[0].disabilty_grade").message, /did you mean `disability_grade`/);
    assert.match(e.message, /invalid household \(4 errors\)/);
  });

  test("NaN, Infinity and BigInt are refused at their paths, with the rest of the document's problems", () => {
    const h = example("household.json");
    h.members[0].incomes[0].monthly = NaN;
    h.assets.deposits = -Infinity;
    h.history.temporary_aid_grants_12m = 10n;
    h.members[1].sex = "unknown";
    const e = throwsJiuzhu(() => engine.evaluate(h), "validation");
    const byPath = Object.fromEntries(e.errors.map((x) => [x.path, x.message]));
    assert.match(byPath["members[0].incomes[0].monthly"], /NaN/);
    assert.match(byPath["assets.deposits"], /Infinity/);
    assert.match(byPath["history.temporary_aid_grants_12m"], /BigInt/);
    assert.ok(byPath["members[1].sex"], JSON.stringify(e.errors));
  });

  test("a JS number converts exactly from its text; more than two places is an error", () => {
    const h = example("tekun.json");
    h.members[0].incomes[0].monthly = 500.1; // "500.1"
    assert.equal(engine.evaluate(h).derived.counted_income, "800.10");
    h.members[0].incomes[0].monthly = 0.1 + 0.2; // 0.30000000000000004
    const e = throwsJiuzhu(() => engine.evaluate(h), "validation");
    assert.equal(e.errors[0].path, "members[0].incomes[0].monthly");
  });

  test("what is not a household", () => {
    for (const bad of [42, null, undefined, true, () => 1]) {
      const e = throwsJiuzhu(() => engine.evaluate(bad), "validation");
      assert.equal(e.errors[0].path, "");
    }
    throwsJiuzhu(() => engine.evaluate("{ not json"), "validation");
    throwsJiuzhu(() => engine.evaluate("[]"), "validation");
    const cyclic = example("household.json");
    cyclic.members[0].self = cyclic;
    throwsJiuzhu(() => engine.evaluate(cyclic), "validation");
    let deep = {};
    for (let i = 0; i < 100000; i++) deep = { x: deep };
    throwsJiuzhu(() => engine.evaluate(deep), "validation");
    throwsJiuzhu(() => engine.evaluate("[".repeat(200000)), "validation");
  });

  test("bad options are usage errors naming the option", () => {
    const h = example("household.json");
    const cases = [
      [{ as_of: "2025-03-01" }, "options.as_of", /did you mean `asOf`/],
      [{ asOf: "2025-02-30" }, "options.asOf", /not a date/],
      [{ asOf: 20250301 }, "options.asOf", /expected a string/],
      [{ today: "today" }, "options.today", /not a date/],
      [{ trace: "yes" }, "options.trace", /true or false/],
      [{ messages: 0 }, "options.messages", /true or false/],
      [{ Messages: false }, "options.Messages", /did you mean `messages`/],
      [{ lang: 1 }, "options.lang", /expected a string/],
      ["en", "options", /expected an object/],
    ];
    for (const [opts, p, message] of cases) {
      const e = throwsJiuzhu(() => engine.evaluate(h, opts), "usage");
      assert.equal(e.errors[0].path, p);
      assert.match(e.errors[0].message, message);
    }
    assert.equal(engine.evaluate(h, null).totals.annual, "500.00");
    assert.equal(engine.evaluate(h, { asOf: undefined, lang: null }).totals.annual, "500.00");
  });

  test("an unknown region names the regions the pack knows", () => {
    const h = example("household.json");
    h.region = "120000";
    const e = throwsJiuzhu(() => engine.evaluate(h), "validation");
    assert.equal(e.errors[0].path, "region");
    assert.match(e.errors[0].message, /120000.*110000/);
  });
});

// ---------------------------------------------------------------------------------------

function readPack() {
  const files = {};
  const dir = path.join(root, "rules");
  files["pack.toml"] = fs.readFileSync(path.join(dir, "pack.toml"), "utf8");
  for (const sub of ["parameters", "programs", "messages"]) {
    for (const f of fs.readdirSync(path.join(dir, sub))) files[`${sub}/${f}`] = fs.readFileSync(path.join(dir, sub, f), "utf8");
  }
  return files;
}

describe("Engine.fromPack", () => {
  test("the default pack's files give the embedded engine, digest included", () => {
    const e = Engine.fromPack(readPack());
    assert.deepEqual(e.packInfo, engine.packInfo);
    assert.equal(e.evaluateJson(exampleText("students.json")), engine.evaluateJson(exampleText("students.json")));
    const asMap = Engine.fromPack(new Map(Object.entries(readPack())));
    assert.deepEqual(asMap.packInfo, engine.packInfo);
  });

  test("a modified parameter and a sixth program", () => {
    const files = readPack();
    const before = files["parameters/subsistence.toml"];
    files["parameters/subsistence.toml"] = before.replace(/(from = "2024-09-01", value = )"1450\.00"/, '$1"1500.00"');
    assert.notEqual(files["parameters/subsistence.toml"], before, "the Beijing 2024-09 standard is in the file");
    files["pack.toml"] = files["pack.toml"].replace(
      '{ id = "employment", depends_on = ["subsistence"] },',
      '{ id = "employment", depends_on = ["subsistence"] },\n  { id = "housing", depends_on = ["subsistence"] },',
    );
    files["programs/housing.rhai"] = `
      let sub = results.subsistence;
      if sub.status == "eligible" {
          #{ status: "eligible", amount: param("housing.rent_subsidy") * household.size, period: "monthly",
             reasons: [reason("HOUSING_RENT", #{ size: household.size })] }
      } else {
          #{ status: "ineligible", amount: 0, period: "monthly", reasons: [reason("HOUSING_NONE")] }
      }`;
    files["parameters/housing.toml"] = '[housing.rent_subsidy]\nsource = "a test"\n"000000" = [ { from = "2020-01-01", value = "100.00" } ]\n';
    files["messages/zh.toml"] += '\n[HOUSING_RENT]\nmessage = "{size} 人户，住房补贴"\nbasis = "测试"\n[HOUSING_NONE]\nmessage = "无"\nbasis = "测试"\n';
    files["messages/en.toml"] += '\n[HOUSING_RENT]\nmessage = "Rent subsidy for {size} persons"\nbasis = "test"\n[HOUSING_NONE]\nmessage = "none"\nbasis = "test"\n';
    files["tests/ignored.yaml"] = "not: part of the pack";
    const e = Engine.fromPack(files);
    assert.deepEqual(e.programs, ["subsistence", "temporary", "medical", "student", "employment", "housing"]);
    assert.notEqual(e.packInfo.digest, engine.packInfo.digest);
    const a = e.evaluate(example("tekun.json"), { lang: "en" });
    assert.equal(a.programs.subsistence.amount, "3100.00"); // 1.3 × 1500 × 2 − 800
    assert.equal(a.programs.housing.amount, "200.00");
    assert.equal(a.programs.housing.reasons[0].message, "Rent subsidy for 2 persons");
    assert.equal(a.totals.monthly, "3300.00");
  });

  test("a broken pack: every problem, by file", () => {
    const files = readPack();
    files["programs/student.rhai"] = "let x = ;";
    files["parameters/broken.toml"] = "[a.b\n";
    const e = throwsJiuzhu(() => Engine.fromPack(files), "pack");
    const paths = e.errors.map((x) => x.path);
    assert.ok(paths.includes("programs/student.rhai"), paths.join());
    assert.ok(paths.includes("parameters/broken.toml"), paths.join());
    throwsJiuzhu(() => Engine.fromPack({}), "pack");
    const notText = throwsJiuzhu(() => Engine.fromPack({ "pack.toml": 1 }), "pack");
    assert.equal(notText.errors[0].path, "pack.toml");
    throwsJiuzhu(() => Engine.fromPack("rules/"), "usage");
  });

  test("a runaway script stops with a rule error; the engine goes on", () => {
    const files = readPack();
    files["programs/student.rhai"] = "let i = 0; loop { i += 1; }";
    const e = Engine.fromPack(files);
    for (let i = 0; i < 2; i++) {
      const err = throwsJiuzhu(() => e.evaluate(example("students.json")), "rule");
      assert.equal(err.errors[0].path, "programs.student");
      assert.match(err.message, /operations limit/);
    }
    assert.equal(e.withParameters([]).programs.length, 5);
    assert.equal(engine.evaluate(example("tekun.json")).programs.subsistence.amount, "2970.00");
  });
});

// ---------------------------------------------------------------------------------------

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("robustness: no input makes the module trap", () => {
  test("1500 mutated households give an assessment or a JiuzhuError, never anything else", () => {
    const rand = rng(20250301);
    const pick = (xs) => xs[Math.floor(rand() * xs.length)];
    const values = [
      NaN, Infinity, -1, 0, -0, 1, 2 ** 53 + 2, 1e300, 0.1 + 0.2, 1800.1, "", "x", "-5", "1e3", "1e400", "0.001",
      "999999999999.99", "1000000000000.01", "79228162514264337593543950336", null, true, false, [], {}, [1, 2],
      { kind: "wage" }, "2025-02-29", "2024-02-29", "9999-12-31", "0001-01-01", "1894-01-01", "2025-03-02",
      "head", "spouse", "x".repeat(70), "m1", 10n, 4294967296, 4294967295, "110105", "000000", "999999",
    ];
    const paths = (v, p = []) =>
      v && typeof v === "object"
        ? [p, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...p, Array.isArray(v) ? Number(k) : k]))]
        : [p];
    let ok = 0;
    let errors = 0;
    for (let i = 0; i < 1500; i++) {
      const h = example(pick(EXAMPLES));
      const n = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < n; j++) {
        const all = paths(h).filter((p) => p.length);
        const p = pick(all);
        let parent = h;
        for (const k of p.slice(0, -1)) parent = parent[k];
        const last = p[p.length - 1];
        const r = rand();
        if (r < 0.1) delete parent[last];
        else if (r < 0.15 && Array.isArray(parent)) parent.push(structuredClone(parent[0] ?? {}));
        else if (r < 0.2) parent[`${last}_extra`] = 1;
        else parent[last] = structuredClone(pick(values));
      }
      const asText = rand() < 0.3;
      const opts = pick([undefined, { lang: "en" }, { trace: true }, { asOf: pick(["2025-03-01", "2024-08-31", "1900-01-01", "9999-12-31"]) }]);
      let input = h;
      if (asText) {
        try {
          input = JSON.stringify(h);
        } catch {
          input = h; // a BigInt: the object form reports it
        }
      }
      try {
        const a = engine.evaluate(input, opts);
        assert.ok(a && typeof a.programs === "object");
        assertNoFractionalNumbers(a, `case ${i}`);
        ok++;
      } catch (e) {
        if (!(e instanceof Error) || e.name !== "JiuzhuError") {
          assert.fail(`case ${i} threw ${e?.name}: ${e?.message}\n${typeof input === "string" ? input : JSON.stringify(input, (k, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
        }
        assert.ok(KINDS.includes(e.kind), e.kind);
        errors++;
      }
    }
    assert.ok(ok > 50 && errors > 300, `ok ${ok}, errors ${errors}`);
    // and the instance still works
    assert.equal(engine.evaluate(example("household.json")).totals.annual, "500.00");
  });

  test("hostile objects (throwing getters and Proxy traps, huge arrays) give errors, and the engine goes on", () => {
    const boom = () => { throw new Error("boom"); };
    const getter = example("household.json");
    Object.defineProperty(getter.members[0], "sex", { get: boom, enumerable: true });
    let e = throwsJiuzhu(() => engine.evaluate(getter), "validation");
    assert.match(e.errors.map((x) => `${x.path}: ${x.message}`).join("\n"), /boom/);
    const proxy = example("household.json");
    proxy.assets = new Proxy({}, { ownKeys: boom });
    e = throwsJiuzhu(() => engine.evaluate(proxy), "validation");
    assert.equal(e.errors.at(-1).path, "assets");
    const arrayGetter = example("household.json");
    Object.defineProperty(arrayGetter.members, 1, { get: boom, enumerable: true });
    e = throwsJiuzhu(() => engine.evaluate(arrayGetter), "validation");
    assert.equal(e.errors.at(-1).path, "members");
    const sparse = example("household.json");
    sparse.events = [];
    sparse.events.length = 2 ** 32 - 1;
    e = throwsJiuzhu(() => engine.evaluate(sparse), "validation");
    assert.equal(e.errors.at(-1).path, "events");
    throwsJiuzhu(() => engine.evaluate(example("household.json"), new Proxy({}, { ownKeys: boom })), "usage");
    throwsJiuzhu(() => engine.evaluate(example("household.json"), Object.defineProperty({}, "lang", { get: boom, enumerable: true })), "usage");
    throwsJiuzhu(() => Engine.fromPack(Object.defineProperty({}, "pack.toml", { get: boom, enumerable: true })), "usage");
    throwsJiuzhu(() => engine.withParameters(new Proxy([], { get: boom })), "usage");
    // non-enumerable and symbol keys are not part of the JSON, as with JSON.stringify
    const hidden = example("household.json");
    Object.defineProperty(hidden, "secret", { value: NaN, enumerable: false });
    hidden[Symbol("s")] = NaN;
    assert.equal(engine.evaluate(hidden).totals.monthly, "2245.00");
    assert.equal(engine.evaluate(example("household.json")).totals.monthly, "2245.00");
  });

  test("the largest household the engine accepts", () => {
    const h = example("temporary-review.json");
    h.members = Array.from({ length: 30 }, (_, i) => ({
      id: `m${i + 1}`,
      relation: i === 0 ? "head" : "other",
      birth_date: "1980-01-01",
      sex: i % 2 ? "male" : "female",
      incomes: Array.from({ length: 100 }, () => ({ kind: "wage", monthly: "999999999999.99" })),
      medical: { in_scope_cost: "999999999999.99" },
    }));
    h.events = Array.from({ length: 100 }, () => ({ kind: "fire", date: "2025-02-01", loss: "999999999999.99" }));
    try {
      const a = engine.evaluate(h, { trace: true });
      assert.equal(a.derived.size, 30);
    } catch (e) {
      assert.equal(e.name, "JiuzhuError", e.message);
    }
  });
});

// ---------------------------------------------------------------------------------------

describe("the web package and its types", () => {
  test("pkg/ is an ES module that runs with init(bytes)", async () => {
    const mod = await import(path.join(wasmDir, "pkg", "jiuzhu.js"));
    await mod.default({ module_or_path: fs.readFileSync(path.join(wasmDir, "pkg", "jiuzhu_bg.wasm")) });
    const e = new mod.Engine();
    assert.equal(e.evaluate(example("household.json")).programs.subsistence.amount, "2245.00");
    assert.equal(e.evaluateJson(exampleText("tekun.json")), engine.evaluateJson(exampleText("tekun.json")));
  });

  test("the .d.ts types the household and the assessment", () => {
    for (const dir of ["pkg", "pkg-node"]) {
      const dts = fs.readFileSync(path.join(wasmDir, dir, "jiuzhu.d.ts"), "utf8");
      for (const needle of [
        "export interface Household",
        "export interface Member",
        "export interface Assessment",
        "export interface ProgramResult",
        "export interface JiuzhuError extends Error",
        "evaluate(household: Household | string, options?: EvaluateOptions | null): Assessment;",
        "static fromPack(files: PackFilesInput): Engine;",
        "readonly regions: string[];",
        "readonly packInfo: PackInfo;",
      ]) {
        assert.ok(dts.includes(needle), `${dir}/jiuzhu.d.ts: ${needle}`);
      }
      assert.doesNotMatch(dts, /evaluate\([^)]*any/);
    }
  });

  const tsc = path.join(wasmDir, "node_modules", "typescript", "bin", "tsc");
  test("tests/types/usage.ts type-checks against pkg/jiuzhu.d.ts (tsc --strict)", { skip: !fs.existsSync(tsc) && "typescript is not installed (npm ci)" }, () => {
    const r = spawnSync(process.execPath, [tsc, "-p", path.join(here, "types", "tsconfig.json")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
