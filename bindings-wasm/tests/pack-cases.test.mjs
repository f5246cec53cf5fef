// The pack's own test cases (rules/tests/*.yaml, docs/rule-authoring.md "Tests") run through
// the Node package (pkg-node/): every case's expected status, category, amount, period,
// reason codes, member figures and totals — the figures `jiuzhu test rules` checks — and
// then every case's whole assessment compared with `jiuzhu batch` for the same household.
// Run: node --test tests/pack-cases.test.mjs (after build.sh; JIUZHU_CLI names the CLI,
// otherwise ./target/debug/jiuzhu is built with cargo).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmDir = path.resolve(here, "..");
const root = path.resolve(wasmDir, "..");
const require = createRequire(import.meta.url);
const { Engine } = require(path.join(wasmDir, "pkg-node", "jiuzhu.js"));
const engine = new Engine();

const testsDir = path.join(root, "rules", "tests");
const files = fs.readdirSync(testsDir).filter((f) => /\.ya?ml$/.test(f)).sort();

/** Every case of every file, with its household (inline or household_file) and options. */
const cases = [];
for (const file of files) {
  const full = path.join(testsDir, file);
  const doc = YAML.parse(fs.readFileSync(full, "utf8"));
  assert.ok(doc && Array.isArray(doc.cases), `${file}: no cases list`);
  for (const c of doc.cases) {
    let household;
    if (c.household !== undefined && c.household_file === undefined) household = c.household;
    else if (c.household_file !== undefined && c.household === undefined) {
      household = JSON.parse(fs.readFileSync(path.resolve(path.dirname(full), c.household_file), "utf8"));
    } else throw new Error(`${file} ${c.name}: give exactly one of household and household_file`);
    const options = {};
    if (c.as_of !== undefined) options.asOf = String(c.as_of);
    if (c.lang !== undefined) options.lang = c.lang;
    cases.push({ file, name: c.name, household, options, expect: c.expect ?? {}, expectError: c.expect_error });
  }
}

/** "2970" and "2970.00" are the same amount (as the CLI's runner normalises them). */
function money(v) {
  const s = String(v);
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  return m ? `${m[1]}${BigInt(m[2])}.${(m[3] ?? "").padEnd(2, "0")}` : s;
}

/** The differences between an assessment and a case's `expect`, as the CLI words them. */
function compare(a, expect) {
  const out = [];
  const check = (where, want, got) => {
    if (want !== got) out.push(`${where}: expected ${want}, got ${got}`);
  };
  for (const [id, e] of Object.entries(expect)) {
    if (id === "totals") continue;
    const p = a.programs[id];
    if (!p) {
      out.push(`programs.${id}: no such program`);
      continue;
    }
    if (e.status !== undefined) check(`${id}.status`, e.status, p.status);
    if (e.category !== undefined) check(`${id}.category`, e.category, p.category ?? "(none)");
    if (e.amount !== undefined) check(`${id}.amount`, money(e.amount), p.amount);
    if (e.period !== undefined) check(`${id}.period`, e.period, p.period);
    const codes = p.reasons.map((r) => r.code);
    if (e.codes !== undefined) check(`${id}.codes`, `[${e.codes.join(", ")}]`, `[${codes.join(", ")}]`);
    for (const want of e.codes_include ?? []) if (!codes.includes(want)) out.push(`${id}.codes: expected to include ${want}, got [${codes.join(", ")}]`);
    for (const bad of e.codes_exclude ?? []) if (codes.includes(bad)) out.push(`${id}.codes: expected not to include ${bad}, got [${codes.join(", ")}]`);
    for (const [mid, fields] of Object.entries(e.members ?? {})) {
      for (const [k, want] of Object.entries(fields)) {
        const got = p.members?.[mid]?.[k];
        check(`${id}.members.${mid}.${k}`, money(want), got === undefined ? "(absent)" : money(got));
      }
    }
  }
  for (const [k, want] of Object.entries(expect.totals ?? {})) {
    if (!(k in a.totals)) out.push(`totals.${k}: unknown period`);
    else check(`totals.${k}`, money(want), a.totals[k]);
  }
  return out;
}

describe("the pack's test cases (rules/tests/*.yaml) through pkg-node", () => {
  test(`there are enough of them (${cases.length} cases in ${files.length} files)`, () => {
    assert.ok(files.length >= 7, files.join());
    assert.ok(cases.length >= 80, `${cases.length} cases`);
    assert.ok(cases.some((c) => c.expectError), "an expect_error case");
    console.log(`# ${cases.length} cases in ${files.length} files`);
  });

  for (const file of files) {
    test(`${file}: every case gives the expected figures`, () => {
      const failures = [];
      let n = 0;
      for (const c of cases.filter((x) => x.file === file)) {
        n++;
        let a;
        try {
          a = engine.evaluate(c.household, c.options);
        } catch (e) {
          if (c.expectError === undefined) failures.push(`${c.name}: evaluation failed: ${e.message}`);
          else if (!String(e.message).includes(c.expectError)) failures.push(`${c.name}: expected an error containing ${JSON.stringify(c.expectError)}, got ${JSON.stringify(e.message)}`);
          else assert.equal(e.name, "JiuzhuError");
          continue;
        }
        if (c.expectError !== undefined) {
          failures.push(`${c.name}: expected an error containing ${JSON.stringify(c.expectError)}, but the household evaluated`);
          continue;
        }
        for (const f of compare(a, c.expect)) failures.push(`${c.name}: ${f}`);
      }
      assert.ok(n > 0, `${file}: no cases`);
      assert.deepEqual(failures, [], failures.join("\n"));
    });
  }
});

/** The command line, built (or brought up to date) with cargo; JIUZHU_CLI names another. */
function cliBinary() {
  if (process.env.JIUZHU_CLI) return path.resolve(process.env.JIUZHU_CLI);
  const r = spawnSync("cargo", ["build", "-p", "jiuzhu-cli", "--quiet"], { cwd: root, stdio: "inherit", timeout: 30 * 60 * 1000 });
  assert.equal(r.status, 0, "cargo build -p jiuzhu-cli");
  return path.join(root, "target", "debug", process.platform === "win32" ? "jiuzhu.exe" : "jiuzhu");
}

describe("the pack's test cases: the whole assessment equals `jiuzhu batch`", () => {
  test("every case's household, line by line", () => {
    // as_of applied to the household (what --as-of would do per case); lang is not per line
    // in a batch, so a case with its own lang would need a run of its own.
    const own = cases.filter((c) => c.options.lang === undefined);
    assert.ok(own.length >= 80, `${own.length} cases`);
    const lines = own.map((c) => JSON.stringify(c.options.asOf ? { ...c.household, as_of: c.options.asOf } : c.household));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jiuzhu-pack-cases-"));
    try {
      const input = path.join(dir, "households.jsonl");
      const output = path.join(dir, "assessments.jsonl");
      fs.writeFileSync(input, lines.join("\n") + "\n");
      const r = spawnSync(cliBinary(), ["batch", input, "-o", output], { cwd: root, encoding: "utf8" });
      // exit status 1 when some line is an error (the expect_error cases)
      const errorCases = own.filter((c) => c.expectError !== undefined).length;
      assert.equal(r.status, errorCases ? 1 : 0, `${r.error ?? ""}${r.stderr}`);
      const got = fs.readFileSync(output, "utf8").split("\n").filter(Boolean);
      assert.equal(got.length, lines.length, "one output line per household");
      const failures = [];
      own.forEach((c, i) => {
        const cli = got[i];
        if (c.expectError !== undefined) {
          // an error line: {"line", "id", "errors": [{path, message}]}
          const want = JSON.parse(cli);
          assert.equal(want.line, i + 1);
          try {
            engine.evaluateJson(lines[i]);
            failures.push(`${c.file} ${c.name}: the CLI refused it, the wasm engine did not`);
          } catch (e) {
            try {
              assert.deepEqual(e.errors, want.errors);
            } catch {
              failures.push(`${c.file} ${c.name}: errors differ\n  wasm: ${JSON.stringify(e.errors)}\n  cli:  ${JSON.stringify(want.errors)}`);
            }
          }
          return;
        }
        const mine = engine.evaluateJson(lines[i]);
        if (mine !== cli) {
          let k = 0;
          while (k < mine.length && mine[k] === cli[k]) k++;
          const around = (s) => JSON.stringify(s.slice(Math.max(0, k - 80), k + 80));
          failures.push(`${c.file} ${c.name}: differs at character ${k}\n  wasm: ${around(mine)}\n  cli:  ${around(cli)}`);
        }
      });
      assert.deepEqual(failures, [], failures.join("\n"));
      console.log(`# ${lines.length} assessments equal the CLI's, byte for byte`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
