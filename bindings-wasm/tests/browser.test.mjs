// The calculator page (www/) in headless Chromium, served by `python3 -m http.server`
// from bindings-wasm/ on 127.0.0.1, as a person would use it. Needs pkg/ (build.sh),
// /usr/bin/chromium (or CHROMIUM=...) and playwright-core (npm ci). Run:
//   node --test tests/browser.test.mjs
// Screenshots (1280 px and 375 px wide, and of the data-testid steps) are left in
// bindings-wasm/test-results/ (git-ignored); their paths are printed.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmDir = path.resolve(here, "..");
const root = path.resolve(wasmDir, "..");
const exampleText = (name) => fs.readFileSync(path.join(root, "examples", name), "utf8");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const resultsDir = path.join(wasmDir, "test-results");

/** A screenshot into test-results/, its path printed for whoever ran the tests. */
async function shot(name, options = {}) {
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, name);
  await page.screenshot({ path: file, ...options });
  console.log(`# screenshot: ${file}`);
  return file;
}

let server;
let origin;
let context;
let page;
let profile;
const requests = [];
const problems = [];

/** python3 -m http.server on a free port (port 0: it prints the one it got). */
function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"], {
      cwd: wasmDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`http.server did not start: ${out}`)), 15000);
    const onData = (chunk) => {
      out += chunk;
      const m = /port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", () => {}); // the request log
    child.on("exit", (code) => reject(new Error(`http.server exited (${code}): ${out}`)));
  });
}

before(async () => {
  assert.ok(fs.existsSync(path.join(wasmDir, "pkg", "jiuzhu.js")), "pkg/ is missing: run bindings-wasm/build.sh");
  const s = await startServer();
  server = s.child;
  origin = `http://127.0.0.1:${s.port}`;
  profile = fs.mkdtempSync(path.join(os.tmpdir(), "jiuzhu-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run",
    ],
    viewport: { width: 1280, height: 900 },
    locale: "zh-CN",
  });
  context.on("request", (r) => requests.push(r.url()));
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${origin}/www/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20000 });
});

after(async () => {
  await context?.close();
  server?.kill();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

const programCard = (id) => page.locator(`article[data-program="${id}"]`);

describe("the calculator page", () => {
  test("it loads the engine from ../pkg/ and lists the pack's regions", async () => {
    const options = await page.$$eval("#region-pick option", (os) => os.map((o) => o.value));
    for (const code of ["110000", "310000", "440100", "410100"]) assert.ok(options.includes(code), options.join());
    assert.equal(await page.inputValue('[name="as_of"]'), await page.evaluate(() => {
      const d = new Date();
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    }), "the date defaults to today, local time");
    assert.match(await page.textContent("#pack-info"), /cn-social-assistance 2025\.1/);
  });

  test("a one-person household: tekun 1,385.00 a month", async () => {
    await page.fill('[name="as_of"]', "2025-03-01");
    await page.selectOption("#region-pick", "110000");
    await page.fill('[data-path="members[0].birth_date"]', "1950-06-10");
    await page.selectOption('[data-path="members[0].sex"]', "male");
    await page.selectOption('[data-path="members[0].employment.status"]', "retired");
    await page.click(".add-income");
    await page.selectOption('[data-path="members[0].incomes[0].kind"]', "pension");
    await page.fill('[data-path="members[0].incomes[0].monthly"]', "500");
    await page.click("#evaluate");
    await page.waitForSelector('article[data-program="subsistence"]');
    // 1.3 × 1450 × 1 − 500 = 1385.00
    assert.equal(await programCard("subsistence").locator(".money").textContent(), "¥1,385.00");
    assert.equal(await programCard("subsistence").locator(".money").getAttribute("data-amount"), "1385.00");
    assert.match(await programCard("subsistence").textContent(), /符合条件.*特困供养/s);
    assert.match(await programCard("subsistence").locator(".reasons").textContent(), /《社会救助暂行办法》/);
    assert.equal(await page.textContent('[data-total="monthly"]'), "¥1,385.00");
    assert.equal(await page.locator("#errors").isHidden(), true);
  });

  test("switching to English translates the labels and the reasons", async () => {
    await page.check('input[name="lang"][value="en"]');
    await page.waitForFunction(() => document.documentElement.lang === "en");
    assert.equal(await page.textContent("h1"), "Social assistance calculator");
    assert.equal(await page.textContent("#evaluate"), "Evaluate");
    assert.equal(await programCard("subsistence").locator("h3").textContent(), "Subsistence allowance");
    const reasons = await programCard("subsistence").locator(".reasons").textContent();
    assert.doesNotMatch(reasons, /家庭/);
    assert.equal(await programCard("subsistence").locator(".money").textContent(), "¥1,385.00");
    // no Chinese left in any label of the form
    const labels = await page.$$eval("#household label, #household legend, #household button, #household summary", (els) =>
      els.map((e) => e.textContent).filter((t) => /[\u4e00-\u9fff]/.test(t) && !/中文/.test(t)));
    assert.deepEqual(labels, []);
  });

  test("errors are shown with their paths, next to their fields", async () => {
    await page.fill('[data-path="members[0].incomes[0].monthly"]', "-5");
    await page.click("#add-member");
    await page.click("#evaluate");
    await page.waitForSelector("#errors:not([hidden])");
    const text = await page.textContent("#error-list");
    assert.match(text, /members\[0\]\.incomes\[0\]\.monthly/);
    assert.match(text, /negative amount "-5"/);
    assert.match(text, /members\[1\]\.birth_date/);
    assert.equal(await page.getAttribute('[data-path="members[0].incomes[0].monthly"]', "aria-invalid"), "true");
    await page.click(".member:nth-of-type(2) .remove-member");
    await page.fill('[data-path="members[0].incomes[0].monthly"]', "500");
    await page.click("#evaluate");
    await page.waitForSelector('article[data-program="subsistence"]');
    assert.equal(await page.locator("#errors").isHidden(), true);
  });

  test("pasting examples/household.json: 2,245.00 a month, 500.00 a year", async () => {
    await page.locator("#json-box summary").click();
    await page.fill("#json", exampleText("household.json"));
    await page.click("#load-json");
    await page.waitForFunction(() => document.querySelector('article[data-program="subsistence"] .money')?.textContent === "¥2,245.00");
    assert.equal(await page.textContent('[data-total="monthly"]'), "¥2,245.00");
    assert.equal(await page.textContent('[data-total="annual"]'), "¥500.00");
    // the form now holds the household
    assert.equal(await page.locator(".member").count(), 3);
    assert.equal(await page.inputValue('[data-path="members[0].incomes[0].monthly"]'), "2500.00");
    assert.equal(await page.inputValue('[name="region"]'), "110105");
  });

  test("the form exports the same household: evaluating it again gives the same figures", async () => {
    await page.click("#export-json");
    const exported = JSON.parse(await page.inputValue("#json"));
    const original = JSON.parse(exampleText("household.json"));
    assert.deepEqual(exported, original);
    await page.click("#evaluate");
    await page.waitForSelector('article[data-program="subsistence"]');
    assert.equal(await page.textContent('[data-total="monthly"]'), "¥2,245.00");
  });

  // The data-testid hooks: household-json, evaluate, result-<program>, error.
  const byTestId = (id) => page.locator(`[data-testid="${id}"]`);
  const PROGRAMS = ["subsistence", "temporary", "medical", "student", "employment"];
  async function openJsonBox() {
    if (!(await byTestId("household-json").isVisible())) await page.locator("#json-box summary").click();
  }

  test("data-testid: a household filled in the form, evaluated by [data-testid=evaluate]", async () => {
    await page.click("#clear-form");
    await page.fill('[name="as_of"]', "2025-03-01");
    await page.selectOption("#region-pick", "110000");
    await page.fill('[data-path="members[0].birth_date"]', "1950-06-10");
    await page.selectOption('[data-path="members[0].sex"]', "male");
    await page.selectOption('[data-path="members[0].employment.status"]', "retired");
    await page.click(".add-income");
    await page.selectOption('[data-path="members[0].incomes[0].kind"]', "pension");
    await page.fill('[data-path="members[0].incomes[0].monthly"]', "800");
    await byTestId("evaluate").click();
    await byTestId("result-subsistence").waitFor();
    // 1.3 × 1450 × 1 − 800 = 1085.00
    const sub = byTestId("result-subsistence");
    assert.equal(await sub.getAttribute("data-status"), "eligible");
    assert.equal(await sub.getAttribute("data-amount"), "1085.00");
    assert.match(await sub.textContent(), /1,085\.00/);
    assert.match(await sub.textContent(), /Eligible/);
    for (const id of PROGRAMS) assert.equal(await byTestId(`result-${id}`).count(), 1, id);
    for (const id of PROGRAMS.slice(1)) {
      assert.equal(await byTestId(`result-${id}`).getAttribute("data-status"), "ineligible", id);
      assert.equal(await byTestId(`result-${id}`).getAttribute("data-amount"), "0.00", id);
    }
    assert.equal(await byTestId("error").isHidden(), true);
    await shot("jiuzhu-www-testid-form.png", { fullPage: true });
  });

  test("data-testid: examples/household.json pasted into [data-testid=household-json]", async () => {
    await openJsonBox();
    await byTestId("household-json").fill(exampleText("household.json"));
    await byTestId("evaluate").click(); // the box was the last thing edited: the pasted household
    await page.waitForFunction(() => document.querySelector('[data-testid="result-subsistence"]')?.dataset.amount === "2245.00");
    const sub = byTestId("result-subsistence");
    assert.equal(await sub.getAttribute("data-status"), "eligible");
    assert.match(await sub.textContent(), /2,?245\.00/);
    assert.equal(await sub.locator(".money").textContent(), "¥2,245.00");
    assert.equal(await byTestId("result-student").getAttribute("data-amount"), "500.00");
    assert.match(await byTestId("result-student").textContent(), /500\.00/);
    assert.equal(await byTestId("error").isHidden(), true);
    assert.equal(await page.locator(".member").count(), 3, "the form now holds the pasted household");
    // the form, evaluated again, gives the same figures
    await page.fill('[data-path="members[0].incomes[0].monthly"]', "2500.00");
    await byTestId("evaluate").click();
    await byTestId("result-subsistence").waitFor();
    assert.equal(await byTestId("result-subsistence").getAttribute("data-amount"), "2245.00");
    await shot("jiuzhu-www-testid-json.png", { fullPage: true });
  });

  test("data-testid: errors in [data-testid=error], no results shown", async () => {
    await openJsonBox();
    const h = JSON.parse(exampleText("household.json"));
    h.region = "120000";
    await byTestId("household-json").fill(JSON.stringify(h, null, 2));
    await byTestId("evaluate").click();
    await byTestId("error").waitFor({ state: "visible" });
    assert.match(await byTestId("error").textContent(), /120000/);
    assert.equal(await byTestId("result-subsistence").count(), 0);
    await byTestId("household-json").fill("{ not json");
    await byTestId("load-json").click();
    assert.match(await byTestId("error").textContent(), /JSON/);
    await shot("jiuzhu-www-testid-error.png");
    // back to examples/household.json for what follows
    await byTestId("household-json").fill(exampleText("household.json"));
    await byTestId("load-json").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="result-subsistence"]')?.dataset.amount === "2245.00");
    assert.equal(await byTestId("error").isHidden(), true);
  });

  test("every input has a label", async () => {
    const unlabelled = await page.$$eval("input, select, textarea", (els) =>
      els.filter((e) => e.labels.length === 0 || ![...e.labels].some((l) => l.textContent.trim())).map((e) => e.outerHTML));
    assert.deepEqual(unlabelled, []);
  });

  test("at 375 px wide nothing overflows; screenshots for a look", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await shot("jiuzhu-www-1280.png", { fullPage: true });
    await page.setViewportSize({ width: 375, height: 812 });
    await page.evaluate(() => window.scrollTo(0, 0));
    const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth }));
    assert.ok(widths.doc <= 375 && widths.body <= 375, JSON.stringify(widths));
    await shot("jiuzhu-www-375.png", { fullPage: true });
    await shot("jiuzhu-www-375-top.png");
    await page.locator("#results-title").scrollIntoViewIfNeeded();
    await shot("jiuzhu-www-375-results.png");
  });

  test("no request left the page's origin, and the page logged no error", async () => {
    assert.ok(requests.length >= 4, requests.join("\n"));
    const outside = requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith("data:") && !u.startsWith("blob:"));
    assert.deepEqual(outside, []);
    assert.deepEqual(problems, []);
    console.log(`# requests: ${requests.length}, all to ${origin}`);
  });
});
