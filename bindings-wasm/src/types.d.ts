
/** Yuan as a decimal string with at most 2 places ("1800.50", recommended), or a finite
 * JS number (converted from its shortest text, e.g. 1800.1 → "1800.1"; NaN and
 * Infinity are refused). Never negative. */
export type Amount = string | number;
/** An ISO 8601 calendar date, "YYYY-MM-DD". */
export type IsoDate = string;
/** A money figure in output: a decimal string with exactly two places ("2245.00"). */
export type Money = string;

export type Relation = "head" | "spouse" | "child" | "parent" | "sibling" | "grandparent" | "grandchild" | "other";
export type Sex = "female" | "male";
export type WorkCapacity = "full" | "partial" | "none";
export type EmploymentStatus = "employed" | "flexible" | "unemployed" | "retired" | "not_in_labor_force";
export type StudentLevel =
  | "preschool" | "primary" | "junior_secondary" | "senior_high" | "secondary_vocational"
  | "junior_college" | "undergraduate" | "masters" | "doctoral";
export type IncomeKind =
  | "wage" | "business" | "property" | "pension" | "support" | "transfer"
  | "special_care" | "award" | "family_planning" | "social_assistance" | "other";
export type VehicleKind = "car" | "motorcycle" | "disability_vehicle" | "commercial";
export type EventKind =
  | "fire" | "flood" | "natural_disaster" | "traffic_accident" | "accident"
  | "sudden_illness" | "death" | "other";

/** The household profile (spec household.md). Unknown fields are an error. */
export interface Household {
  /** 1 to 64 characters. */
  id: string;
  /** 6-digit administrative division code (GB/T 2260), e.g. "110105". */
  region: string;
  /** Default "urban". */
  area?: "urban" | "rural";
  /** Assessment date; absent: `asOf`, else `today` of the options. */
  as_of?: IsoDate;
  /** 1 to 30 members with unique ids, exactly one `head`. */
  members: Member[];
  /** Absent: all zero. */
  assets?: Assets;
  /** Sudden hardship events (temporary aid). */
  events?: HardshipEvent[];
  /** Monthly rigid expenditure (刚性支出), household total. */
  expenses?: Expenses;
  /** What the agency already knows. */
  history?: History;
}

export interface Member {
  id: string;
  relation: Relation;
  birth_date: IsoDate;
  sex: Sex;
  /** Registered residence (户籍) in this region; default true. */
  local_hukou?: boolean;
  /** 1 (most severe) to 4; null: none. */
  disability_grade?: 1 | 2 | 3 | 4 | null;
  /** On the local list of serious illnesses (重病); default false. */
  serious_illness?: boolean;
  /** null: derived by the engine. */
  work_capacity?: WorkCapacity | null;
  employment?: Employment | null;
  student?: Student | null;
  /** Default false. */
  orphan?: boolean;
  /** Average monthly amounts over the assessment window. */
  incomes?: Income[];
  /** Medical costs of the current calendar year to date. */
  medical?: Medical | null;
}

export interface Employment {
  status: EmploymentStatus;
  /** Default 0. */
  registered_unemployed_months?: number;
  /** Suitable offers refused without good reason in the last 12 months; default 0. */
  refused_offers?: number;
}

export interface Student {
  level: StudentLevel;
  /** Default false. */
  boarding?: boolean;
  /** Default "0". */
  tuition_per_year?: Amount;
}

export interface Income {
  kind: IncomeKind;
  monthly: Amount;
}

/** Every field defaults to "0". */
export interface Medical {
  /** 政策范围内医疗费用 */
  in_scope_cost?: Amount;
  /** 基本医保支付 */
  basic_insurance_paid?: Amount;
  /** 大病保险支付 */
  critical_illness_paid?: Amount;
  /** 商业保险/慈善等 */
  other_paid?: Amount;
  /** 本年度已获医疗救助 */
  aid_received?: Amount;
}

export interface Assets {
  deposits?: Amount;
  securities?: Amount;
  vehicles?: Vehicle[];
  /** Housing units owned; default 0. */
  homes?: number;
  business_registered?: boolean;
}

export interface Vehicle {
  kind: VehicleKind;
  value: Amount;
}

export interface HardshipEvent {
  kind: EventKind;
  date: IsoDate;
  loss: Amount;
  /** Default "0". */
  compensation?: Amount;
}

export interface Expenses {
  medical?: Amount;
  education?: Amount;
  other?: Amount;
}

export interface History {
  subsistence_since?: IsoDate | null;
  subsistence_last_amount?: Amount | null;
  subsistence_exit_income_since?: IsoDate | null;
  /** Default 0. */
  temporary_aid_grants_12m?: number;
}

export interface EvaluateOptions {
  /** The assessment date, overriding the household's `as_of`. */
  asOf?: IsoDate;
  /** The date used when neither `asOf` nor the household's `as_of` is given. The module
   * has no clock: pass the caller's own date (e.g. today in local time). */
  today?: IsoDate;
  /** Message language, one of `engine.languages` (default: the pack's first, "zh"). */
  lang?: string;
  /** Add `trace`: every parameter read, every recorded step and program result. */
  trace?: boolean;
  /** `false` leaves each reason's `message` out (codes, bases and values stay); default true. */
  messages?: boolean;
}

export interface PackInfo {
  name: string;
  version: string;
  /** "sha256:…" over every rule and parameter file. */
  digest: string;
}

/** A custom rule pack: path relative to the pack folder → the file's text. */
export type PackFilesInput = Record<string, string> | Map<string, string>;

/** What the engine says, for one household (spec interfaces.md §1). */
export interface Assessment {
  household_id: string;
  as_of: IsoDate;
  region: string;
  rule_pack: PackInfo;
  derived: Derived;
  /** Program id → result, in run order. */
  programs: Record<string, ProgramResult>;
  /** Sums of the amounts of `eligible` programs by period (a `review` amount is only proposed). */
  totals: Totals;
  /** Only with `trace: true`. */
  trace?: TraceEntry[];
}

export interface Derived {
  size: number;
  counted_income: Money;
  rigid_medical_deduction: Money;
  subsistence_income: Money;
  per_capita_income: Money;
  members: Record<string, DerivedMember>;
}

export interface DerivedMember {
  age: number;
  work_capacity: WorkCapacity;
  working_age: boolean;
  counted_income: Money;
}

export type Status = "eligible" | "ineligible" | "review";
export type Period = "monthly" | "one_off" | "annual";

/** A value a rule recorded: decimals are strings with two places. */
export type RuleValue = string | number | boolean | null | RuleValue[] | { [key: string]: RuleValue };

export interface ProgramResult {
  status: Status;
  /** Program-specific, e.g. dibao | tekun | single_member | phase_out | marginal | none. */
  category?: string;
  amount: Money;
  period: Period;
  /** Per-member breakdown, where the program pays per member. */
  members?: Record<string, RuleValue>;
  /** Every condition that decided the outcome, in order. */
  reasons: Reason[];
  /** Figures that later programs may read. */
  details?: Record<string, RuleValue>;
}

export interface Reason {
  /** Stable code, e.g. "SUB_INCOME_BELOW_LINE". */
  code: string;
  /** In the requested language; absent when evaluated with `messages: false`. */
  message?: string;
  /** Legal basis. */
  basis: string;
  values: Record<string, RuleValue>;
}

export interface Totals {
  monthly: Money;
  one_off: Money;
  annual: Money;
}

export type TraceEntry =
  | { kind: "parameter"; program?: string; name: string; region: string; value: string; from: IsoDate | null; source: string }
  | { kind: "step"; program: string; label: string; value: RuleValue }
  | { kind: "result"; program: string; status: Status; category: string | null; amount: Money };

export type ErrorKind = "validation" | "parameter" | "rule" | "pack" | "usage";

/** One problem: a JSON path of the household (`members[0].incomes[1].monthly`), a pack
 * file, `options.asOf`, or "" for the whole. */
export interface FieldError {
  path: string;
  message: string;
}

/** What `evaluate`, `fromPack`, `withParameters` and the constructor throw. */
export interface JiuzhuError extends Error {
  name: "JiuzhuError";
  kind: ErrorKind;
  errors: FieldError[];
}
