// Type-checked (tsc --noEmit --strict) by tests/node.test.mjs: the generated .d.ts must
// type a household and an assessment, not `any`.
import init, { Engine } from "../../pkg/jiuzhu.js";
import type { Assessment, Household, JiuzhuError, Member, ProgramResult, TraceEntry } from "../../pkg/jiuzhu.js";

export async function demo(): Promise<string> {
  await init();
  const engine = new Engine();
  const head: Member = {
    id: "m1",
    relation: "head",
    birth_date: "1950-06-10",
    sex: "male",
    employment: { status: "retired" },
    incomes: [{ kind: "pension", monthly: "500.00" }],
    medical: { in_scope_cost: "10000.00", basic_insurance_paid: 6000 },
  };
  const household: Household = {
    id: "HH-1",
    region: "110000",
    as_of: "2025-03-01",
    members: [head],
    assets: { deposits: "0", vehicles: [{ kind: "car", value: "30000" }], homes: 1 },
    events: [{ kind: "fire", date: "2025-02-01", loss: "1000" }],
    history: { subsistence_since: null, temporary_aid_grants_12m: 0 },
  };
  const a: Assessment = engine.evaluate(household, { asOf: "2025-03-01", lang: "en", trace: true, today: "2025-03-01" });
  const sub: ProgramResult | undefined = a.programs["subsistence"];
  const amount: string = a.totals.monthly;
  const status: "eligible" | "ineligible" | "review" = sub ? sub.status : "ineligible";
  const first: TraceEntry | undefined = a.trace?.[0];
  if (first?.kind === "parameter") console.log(first.name, first.region);
  const fromText: Assessment = engine.evaluate(JSON.stringify(household));
  const bare: Assessment = engine.evaluate(household, { messages: false });
  const message: string | undefined = bare.programs["subsistence"]?.reasons[0]?.message;
  const code: string | undefined = bare.programs["subsistence"]?.reasons[0]?.code;
  console.log(message ?? code);
  const json: string = engine.evaluateJson(household);
  const custom: Engine = Engine.fromPack({ "pack.toml": "name = 'x'" });
  const reform: Engine = engine.withParameters({ "subsistence.standard": "1500" });
  const regions: string[] = engine.regions;
  const digest: string = engine.packInfo.digest;
  try {
    engine.evaluate({ ...household, members: [] });
  } catch (e) {
    const err = e as JiuzhuError;
    const paths: string[] = err.errors.map((x) => x.path);
    console.log(err.kind, paths);
  }
  return [amount, status, fromText.as_of, json, custom.programs.join(), reform.languages.join(), regions.join(), digest].join();
}

// @ts-expect-error: a money figure in output is a string, not a number
export const wrong: number = ({} as Assessment).totals.annual;
// @ts-expect-error: an unknown relation
export const badMember: Member = { id: "m1", relation: "cousin", birth_date: "2000-01-01", sex: "male" };
// @ts-expect-error: options are camelCase
export const badOptions = (e: Engine, h: Household) => e.evaluate(h, { as_of: "2025-03-01" });
