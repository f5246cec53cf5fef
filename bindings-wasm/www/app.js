// The jiuzhu calculator page: a household form → the engine (WebAssembly, in this tab)
// → results with reasons. Plain JS, no framework, no request beyond this origin.
import init, { Engine } from "../pkg/jiuzhu.js";

// ---------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------

const I18N = {
  zh: {
    title: "社会救助计算器", privacy: "全部计算在本浏览器内完成，不发送任何数据。", language: "语言",
    loading: "正在加载规则引擎…", ready: "规则引擎已就绪。", loadFailed: "规则引擎加载失败：",
    household: "家庭", householdId: "家庭编号", regionPick: "地区（规则包覆盖）", regionCode: "地区代码（6 位）",
    regionOther: "其他（在右侧填写代码）", area: "城乡", "area.urban": "城市", "area.rural": "农村", asOf: "评估日期",
    members: "家庭成员", addMember: "添加成员", member: "成员", removeMember: "删除此成员",
    "m.id": "成员编号", "m.relation": "与户主关系", choose: "— 请选择 —",
    "rel.head": "户主", "rel.spouse": "配偶", "rel.child": "子女", "rel.parent": "父母", "rel.sibling": "兄弟姐妹",
    "rel.grandparent": "祖父母 / 外祖父母", "rel.grandchild": "孙子女 / 外孙子女", "rel.other": "其他",
    "m.birth": "出生日期", "m.sex": "性别", "sex.female": "女", "sex.male": "男",
    "m.disability": "残疾等级", "disability.none": "无", "disability.1": "一级（最重）", "disability.2": "二级",
    "disability.3": "三级", "disability.4": "四级",
    "m.workCapacity": "劳动能力", "wc.derive": "由规则推定", "wc.full": "完全", "wc.partial": "部分", "wc.none": "无",
    "m.illness": "患重病（当地目录）", "m.hukou": "本地户籍", "m.orphan": "孤儿（无人抚养）",
    "m.employment": "就业", "emp.status": "就业状况", "emp.none": "未登记", "emp.employed": "就业", "emp.flexible": "灵活就业",
    "emp.unemployed": "失业", "emp.retired": "退休", "emp.nilf": "不在劳动力市场", "emp.months": "失业登记月数",
    "emp.refused": "近 12 个月无故拒绝工作次数",
    "m.student": "在校学生", "stu.level": "学段", "stu.none": "非学生", "stu.preschool": "学前教育", "stu.primary": "小学",
    "stu.junior_secondary": "初中", "stu.senior_high": "普通高中", "stu.secondary_vocational": "中等职业学校",
    "stu.junior_college": "高职专科", "stu.undergraduate": "本科", "stu.masters": "硕士", "stu.doctoral": "博士",
    "stu.boarding": "寄宿", "stu.tuition": "每年学费（元）",
    "m.incomes": "月收入", addIncome: "添加收入", "inc.kind": "收入类型", "inc.monthly": "每月金额（元）",
    "inc.wage": "工资性收入", "inc.business": "经营净收入", "inc.property": "财产净收入", "inc.pension": "养老金",
    "inc.support": "赡养（抚养、扶养）费", "inc.transfer": "其他转移性收入", "inc.special_care": "优抚对象抚恤补助",
    "inc.award": "奖励金、见义勇为奖金", "inc.family_planning": "计划生育奖励扶助金", "inc.social_assistance": "社会救助金",
    "inc.other": "其他",
    "m.medical": "本年度医疗费用", "med.in_scope_cost": "政策范围内医疗费用", "med.basic_insurance_paid": "基本医保支付",
    "med.critical_illness_paid": "大病保险支付", "med.other_paid": "商业保险、慈善等支付", "med.aid_received": "本年度已获医疗救助",
    remove: "删除",
    assets: "家庭财产", deposits: "存款及现金（元）", securities: "有价证券（元）", homes: "住房（套）",
    business: "有成员登记了企业或个体工商户", vehicles: "车辆", addVehicle: "添加车辆", "veh.kind": "车辆类型",
    "veh.value": "价值（元）", "veh.car": "小汽车", "veh.motorcycle": "摩托车", "veh.disability_vehicle": "残疾人代步车",
    "veh.commercial": "经营用车",
    events: "突发事件（临时救助）", addEvent: "添加事件", "ev.kind": "事件", "ev.date": "日期", "ev.loss": "损失（元）",
    "ev.compensation": "已获赔偿（元）", "ev.fire": "火灾", "ev.flood": "水灾", "ev.natural_disaster": "其他自然灾害",
    "ev.traffic_accident": "交通事故", "ev.accident": "其他意外事故", "ev.sudden_illness": "突发重大疾病",
    "ev.death": "家庭成员死亡", "ev.other": "其他",
    expenses: "每月刚性支出（全家，元）", "exp.medical": "医疗", "exp.education": "教育", "exp.other": "其他",
    history: "救助记录", "hist.since": "享受低保起始日", "hist.last": "最近一次低保月金额（元）",
    "hist.exit": "收入首次超过标准之日", "hist.grants": "近 12 个月临时救助次数",
    evaluate: "计算", reset: "清空", jsonBox: "家庭 JSON（导入 / 导出）",
    jsonLabel: "粘贴家庭 JSON，或把表单导出为 JSON", loadJson: "载入表单并计算", exportJson: "把表单导出为 JSON",
    jsonInvalid: "不是有效的 JSON：", jsonNotObject: "应为一个 JSON 对象（一个家庭）",
    results: "结果", noResult: "填写表单后点击“计算”。", disclaimer: "结果仅供参考，以当地民政部门的认定为准。",
    "errors.validation": "请更正以下 {n} 处问题", "errors.parameter": "参数错误", "errors.rule": "规则错误",
    "errors.pack": "规则包错误", "errors.usage": "使用错误", "errors.internal": "内部错误（请报告）",
    "prog.subsistence": "最低生活保障", "prog.temporary": "临时救助", "prog.medical": "医疗救助",
    "prog.student": "学生资助", "prog.employment": "就业援助",
    "status.eligible": "符合条件", "status.ineligible": "不符合条件", "status.review": "需人工复核",
    "period.monthly": "每月", "period.one_off": "一次性", "period.annual": "每年",
    "cat.dibao": "低保", "cat.tekun": "特困供养", "cat.single_member": "单人户施保", "cat.phase_out": "渐退期",
    "cat.marginal": "低保边缘家庭", "cat.none": "无",
    category: "类别", proposed: "建议金额（待复核，不计入合计）", basis: "依据", code: "代码",
    totals: "合计（仅计符合条件的项目）", "totals.monthly": "每月", "totals.one_off": "一次性", "totals.annual": "每年",
    "derived.size": "家庭人口", "derived.counted": "计算收入（元/月）", "derived.perCapita": "人均收入（元/月）",
    yuan: "元", persons: "人", assessmentJson: "评估结果 JSON", pack: "规则包",
  },
  en: {
    title: "Social assistance calculator", privacy: "Everything is computed in this browser; no data is sent anywhere.",
    language: "Language", loading: "Loading the rules engine…", ready: "The rules engine is ready.",
    loadFailed: "The rules engine failed to load: ",
    household: "Household", householdId: "Household ID", regionPick: "Region (covered by the rule pack)",
    regionCode: "Region code (6 digits)", regionOther: "Other (enter the code)", area: "Area", "area.urban": "Urban",
    "area.rural": "Rural", asOf: "Assessment date",
    members: "Members", addMember: "Add a member", member: "Member", removeMember: "Remove this member",
    "m.id": "Member ID", "m.relation": "Relation to the head", choose: "— choose —",
    "rel.head": "Head", "rel.spouse": "Spouse", "rel.child": "Child", "rel.parent": "Parent", "rel.sibling": "Sibling",
    "rel.grandparent": "Grandparent", "rel.grandchild": "Grandchild", "rel.other": "Other",
    "m.birth": "Birth date", "m.sex": "Sex", "sex.female": "Female", "sex.male": "Male",
    "m.disability": "Disability grade", "disability.none": "None", "disability.1": "Grade 1 (most severe)",
    "disability.2": "Grade 2", "disability.3": "Grade 3", "disability.4": "Grade 4",
    "m.workCapacity": "Work capacity", "wc.derive": "Derive by the rules", "wc.full": "Full", "wc.partial": "Partial",
    "wc.none": "None",
    "m.illness": "Serious illness (local list)", "m.hukou": "Local hukou", "m.orphan": "Orphan (no one to support)",
    "m.employment": "Employment", "emp.status": "Status", "emp.none": "No record", "emp.employed": "Employed",
    "emp.flexible": "Flexible work", "emp.unemployed": "Unemployed", "emp.retired": "Retired",
    "emp.nilf": "Not in the labour force", "emp.months": "Months registered unemployed",
    "emp.refused": "Job offers refused (last 12 months)",
    "m.student": "Student", "stu.level": "Level", "stu.none": "Not a student", "stu.preschool": "Preschool",
    "stu.primary": "Primary", "stu.junior_secondary": "Junior secondary", "stu.senior_high": "Senior high",
    "stu.secondary_vocational": "Secondary vocational", "stu.junior_college": "Junior college",
    "stu.undergraduate": "Undergraduate", "stu.masters": "Master's", "stu.doctoral": "Doctoral",
    "stu.boarding": "Boarding", "stu.tuition": "Tuition per year (yuan)",
    "m.incomes": "Monthly incomes", addIncome: "Add an income", "inc.kind": "Kind", "inc.monthly": "Monthly (yuan)",
    "inc.wage": "Wage", "inc.business": "Business", "inc.property": "Property", "inc.pension": "Pension",
    "inc.support": "Support from relatives", "inc.transfer": "Other transfers", "inc.special_care": "Special care (veterans)",
    "inc.award": "Award", "inc.family_planning": "Family planning award", "inc.social_assistance": "Social assistance",
    "inc.other": "Other",
    "m.medical": "Medical costs this year", "med.in_scope_cost": "In-scope medical costs",
    "med.basic_insurance_paid": "Paid by basic insurance", "med.critical_illness_paid": "Paid by critical-illness insurance",
    "med.other_paid": "Paid by commercial insurance, charity…", "med.aid_received": "Medical aid already received",
    remove: "Remove",
    assets: "Assets", deposits: "Deposits and cash (yuan)", securities: "Securities (yuan)", homes: "Homes owned",
    business: "A member registered a business", vehicles: "Vehicles", addVehicle: "Add a vehicle", "veh.kind": "Vehicle",
    "veh.value": "Value (yuan)", "veh.car": "Car", "veh.motorcycle": "Motorcycle",
    "veh.disability_vehicle": "Disability vehicle", "veh.commercial": "Commercial vehicle",
    events: "Hardship events (temporary aid)", addEvent: "Add an event", "ev.kind": "Event", "ev.date": "Date",
    "ev.loss": "Loss (yuan)", "ev.compensation": "Compensation (yuan)", "ev.fire": "Fire", "ev.flood": "Flood",
    "ev.natural_disaster": "Other natural disaster", "ev.traffic_accident": "Traffic accident", "ev.accident": "Other accident",
    "ev.sudden_illness": "Sudden serious illness", "ev.death": "Death of a member", "ev.other": "Other",
    expenses: "Monthly rigid expenses (household, yuan)", "exp.medical": "Medical", "exp.education": "Education",
    "exp.other": "Other",
    history: "History", "hist.since": "On subsistence allowance since", "hist.last": "Last monthly allowance (yuan)",
    "hist.exit": "Income first above the line on", "hist.grants": "Temporary-aid grants (last 12 months)",
    evaluate: "Evaluate", reset: "Clear", jsonBox: "Household JSON (import / export)",
    jsonLabel: "Paste a household's JSON, or export the form as JSON", loadJson: "Load into the form and evaluate",
    exportJson: "Export the form as JSON", jsonInvalid: "Not valid JSON: ",
    jsonNotObject: "Expected a JSON object (one household)",
    results: "Results", noResult: "Fill in the form and press “Evaluate”.",
    disclaimer: "For information only; the local civil affairs office decides.",
    "errors.validation": "Please correct {n} problem(s)", "errors.parameter": "Parameter error", "errors.rule": "Rule error",
    "errors.pack": "Rule pack error", "errors.usage": "Usage error", "errors.internal": "Internal error (please report)",
    "prog.subsistence": "Subsistence allowance", "prog.temporary": "Temporary aid", "prog.medical": "Medical aid",
    "prog.student": "Student aid", "prog.employment": "Employment aid",
    "status.eligible": "Eligible", "status.ineligible": "Not eligible", "status.review": "Needs review",
    "period.monthly": "per month", "period.one_off": "one-off", "period.annual": "per year",
    "cat.dibao": "Dibao", "cat.tekun": "Tekun (extreme poverty)", "cat.single_member": "Single-member coverage",
    "cat.phase_out": "Phase-out", "cat.marginal": "Marginal household", "cat.none": "None",
    category: "Category", proposed: "Proposed amount (to review; not in the totals)", basis: "Basis", code: "Code",
    totals: "Totals (eligible programs only)", "totals.monthly": "Monthly", "totals.one_off": "One-off",
    "totals.annual": "Annual",
    "derived.size": "Household size", "derived.counted": "Counted income (yuan/month)",
    "derived.perCapita": "Per-capita income (yuan/month)",
    yuan: "yuan", persons: "", assessmentJson: "Assessment JSON", pack: "Rule pack",
  },
};

const REGION_NAMES = {
  "110000": ["北京市", "Beijing"], "110105": ["北京市朝阳区", "Chaoyang, Beijing"], "110108": ["北京市海淀区", "Haidian, Beijing"],
  "310000": ["上海市", "Shanghai"], "310115": ["上海市浦东新区", "Pudong, Shanghai"],
  "440100": ["广州市", "Guangzhou"], "440106": ["广州市天河区", "Tianhe, Guangzhou"],
  "410100": ["郑州市", "Zhengzhou"], "410102": ["郑州市中原区", "Zhongyuan, Zhengzhou"],
};

let lang = "zh";
const t = (key) => I18N[lang][key] ?? I18N.zh[key] ?? key;

function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const pad = (n) => String(n).padStart(2, "0");
/** Today in local time, as the engine wants it: the wasm module has no clock. */
const localToday = () => { const d = new Date(); return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

/** "2245.00" → "2,245.00", on the decimal string itself (never through a JS number). */
function groupMoney(s) {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(String(s));
  if (!m) return String(s);
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (m[3] ?? "");
}

/** A money field as the household wants it: the text typed, less grouping commas and spaces. */
const moneyText = (input) => input.value.replace(/[,\s]/g, "");
/** A whole-number field: a number when it is one, else the text (so the engine names the problem). */
function countValue(input) {
  const s = input.value.trim();
  return /^\d{1,15}$/.test(s) ? Number(s) : s;
}
const textOf = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

// ---------------------------------------------------------------------------------------
// The form: rows added and removed, paths kept in step with the household JSON
// ---------------------------------------------------------------------------------------

const form = $("#household");
const membersBox = $("#members");

function clone(id) {
  const node = $(id).content.firstElementChild.cloneNode(true);
  translate(node);
  return node;
}

function addRow(box, template, data = {}) {
  const row = clone(template);
  for (const input of $$("[data-field]", row)) {
    const v = data[input.dataset.field];
    if (v !== undefined && v !== null) input.value = textOf(v);
  }
  $(".remove-row", row).addEventListener("click", () => { row.remove(); renumber(); });
  box.append(row);
  renumber();
  return row;
}

function nextMemberId() {
  const used = new Set($$(".member", membersBox).map((m) => $('[data-field="id"]', m).value));
  let i = 1;
  while (used.has(`m${i}`)) i++;
  return `m${i}`;
}

function addMember(data = null) {
  const m = clone("#member-template");
  const get = (path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), data ?? {});
  for (const input of $$("[data-field]", m)) {
    const v = get(input.dataset.field);
    if (input.type === "checkbox") {
      if (typeof v === "boolean") input.checked = v;
    } else if (v !== undefined && v !== null) {
      input.value = textOf(v);
    }
  }
  if (!data) {
    $('[data-field="id"]', m).value = nextMemberId();
    if (!membersBox.children.length) $('[data-field="relation"]', m).value = "head";
  }
  const incomes = $(".incomes", m);
  for (const inc of data?.incomes ?? []) addRow(incomes, "#income-template", inc ?? {});
  $(".add-income", m).addEventListener("click", () => $("input", addRow(incomes, "#income-template")).focus());
  $(".remove-member", m).addEventListener("click", () => { m.remove(); renumber(); });
  if (data?.medical && typeof data.medical === "object") $(".medical", m).open = true;
  membersBox.append(m);
  renumber();
  return m;
}

/** Sets every field's `data-path` to its JSON path, so errors find their inputs. */
function renumber() {
  $$(".member", membersBox).forEach((m, i) => {
    const base = `members[${i}]`;
    m.dataset.path = base;
    $(".member-no", m).textContent = String(i + 1);
    for (const input of $$("[data-field]", m)) {
      const row = input.closest(".row");
      if (row) continue;
      input.dataset.path = `${base}.${input.dataset.field}`;
    }
    $$(".incomes .row", m).forEach((row, j) => {
      row.dataset.path = `${base}.incomes[${j}]`;
      for (const input of $$("[data-field]", row)) input.dataset.path = `${base}.incomes[${j}].${input.dataset.field}`;
    });
  });
  $$("#vehicles .row").forEach((row, j) => {
    row.dataset.path = `assets.vehicles[${j}]`;
    for (const input of $$("[data-field]", row)) input.dataset.path = `assets.vehicles[${j}].${input.dataset.field}`;
  });
  $$("#events .row").forEach((row, j) => {
    row.dataset.path = `events[${j}]`;
    for (const input of $$("[data-field]", row)) input.dataset.path = `events[${j}].${input.dataset.field}`;
  });
}

/** The form as a household object (money as strings, exactly as typed). */
function collect() {
  const f = form.elements;
  const h = { id: f.id.value, region: f.region.value.trim(), area: f.area.value };
  if (f.as_of.value) h.as_of = f.as_of.value;
  h.members = $$(".member", membersBox).map(collectMember);

  const assets = {};
  for (const [key, name] of [["deposits", "deposits"], ["securities", "securities"]]) {
    if (moneyText(f[name]) !== "") assets[key] = moneyText(f[name]);
  }
  assets.vehicles = $$("#vehicles .row").map((row) => ({
    kind: $('[data-field="kind"]', row).value,
    value: moneyText($('[data-field="value"]', row)),
  }));
  if (f.homes.value.trim() !== "") assets.homes = countValue(f.homes);
  assets.business_registered = f.business_registered.checked;
  h.assets = assets;

  h.events = $$("#events .row").map((row) => {
    const e = {
      kind: $('[data-field="kind"]', row).value,
      date: $('[data-field="date"]', row).value,
      loss: moneyText($('[data-field="loss"]', row)),
    };
    const c = moneyText($('[data-field="compensation"]', row));
    if (c !== "") e.compensation = c;
    return e;
  });

  const expenses = {};
  for (const [key, name] of [["medical", "exp_medical"], ["education", "exp_education"], ["other", "exp_other"]]) {
    if (moneyText(f[name]) !== "") expenses[key] = moneyText(f[name]);
  }
  h.expenses = expenses;

  const last = moneyText(f.subsistence_last_amount);
  h.history = {
    subsistence_since: f.subsistence_since.value || null,
    subsistence_last_amount: last === "" ? null : last,
    subsistence_exit_income_since: f.subsistence_exit_income_since.value || null,
  };
  if (f.temporary_aid_grants_12m.value.trim() !== "") h.history.temporary_aid_grants_12m = countValue(f.temporary_aid_grants_12m);
  return h;
}

function collectMember(m) {
  const field = (name) => $(`[data-field="${name}"]`, m);
  const member = {
    id: field("id").value,
    relation: field("relation").value,
    birth_date: field("birth_date").value,
    sex: field("sex").value,
    local_hukou: field("local_hukou").checked,
    disability_grade: field("disability_grade").value === "" ? null : Number(field("disability_grade").value),
    serious_illness: field("serious_illness").checked,
    work_capacity: field("work_capacity").value || null,
    employment: null,
    student: null,
    orphan: field("orphan").checked,
    incomes: $$(".incomes .row", m).map((row) => ({
      kind: $('[data-field="kind"]', row).value,
      monthly: moneyText($('[data-field="monthly"]', row)),
    })),
    medical: null,
  };
  const status = field("employment.status").value;
  const months = field("employment.registered_unemployed_months");
  const refused = field("employment.refused_offers");
  if (status || months.value.trim() || refused.value.trim()) {
    member.employment = { status };
    if (months.value.trim()) member.employment.registered_unemployed_months = countValue(months);
    if (refused.value.trim()) member.employment.refused_offers = countValue(refused);
  }
  const level = field("student.level").value;
  const tuition = moneyText(field("student.tuition_per_year"));
  const boarding = field("student.boarding").checked;
  if (level || tuition || boarding) {
    member.student = { level, boarding };
    if (tuition) member.student.tuition_per_year = tuition;
  }
  const medical = {};
  for (const k of ["in_scope_cost", "basic_insurance_paid", "critical_illness_paid", "other_paid", "aid_received"]) {
    const v = moneyText(field(`medical.${k}`));
    if (v !== "") medical[k] = v;
  }
  if (Object.keys(medical).length) member.medical = medical;
  return member;
}

/** A household object into the form (what the form cannot hold stays in the JSON box). */
function fill(h) {
  const f = form.elements;
  const obj = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : {});
  const arr = (v) => (Array.isArray(v) ? v : []);
  f.id.value = textOf(h.id);
  f.region.value = textOf(h.region);
  syncRegionPick();
  f.area.value = h.area === "rural" ? "rural" : "urban";
  if (h.as_of) f.as_of.value = textOf(h.as_of);
  membersBox.replaceChildren();
  for (const m of arr(h.members)) addMember(obj(m));
  const a = obj(h.assets);
  f.deposits.value = textOf(a.deposits);
  f.securities.value = textOf(a.securities);
  f.homes.value = textOf(a.homes);
  f.business_registered.checked = a.business_registered === true;
  $("#vehicles").replaceChildren();
  for (const v of arr(a.vehicles)) addRow($("#vehicles"), "#vehicle-template", obj(v));
  $("#events").replaceChildren();
  for (const e of arr(h.events)) addRow($("#events"), "#event-template", obj(e));
  const x = obj(h.expenses);
  f.exp_medical.value = textOf(x.medical);
  f.exp_education.value = textOf(x.education);
  f.exp_other.value = textOf(x.other);
  const hi = obj(h.history);
  f.subsistence_since.value = textOf(hi.subsistence_since);
  f.subsistence_last_amount.value = textOf(hi.subsistence_last_amount);
  f.subsistence_exit_income_since.value = textOf(hi.subsistence_exit_income_since);
  f.temporary_aid_grants_12m.value = textOf(hi.temporary_aid_grants_12m);
  renumber();
}

function resetForm() {
  form.reset();
  jsonPending = false;
  membersBox.replaceChildren();
  $("#vehicles").replaceChildren();
  $("#events").replaceChildren();
  form.elements.as_of.value = localToday();
  form.elements.region.value = engine?.regions[0] ?? "110000";
  syncRegionPick();
  addMember();
  clearErrors();
  lastInput = null;
  $("#output").replaceChildren(el("p", { class: "hint", "data-i18n": "noResult", text: t("noResult") }));
}

// Region: a choice among the pack's regions, or any 6-digit code.
function fillRegionPick() {
  const pick = $("#region-pick");
  const current = form.elements.region.value;
  pick.replaceChildren();
  for (const code of engine.regions) {
    const name = REGION_NAMES[code]?.[lang === "zh" ? 0 : 1];
    pick.append(el("option", { value: code, text: name ? `${name} ${code}` : code }));
  }
  pick.append(el("option", { value: "", text: t("regionOther") }));
  form.elements.region.value = current;
  syncRegionPick();
}
function syncRegionPick() {
  const pick = $("#region-pick");
  const code = form.elements.region.value.trim();
  // The code itself, else the pack region that covers it (110105 → 110100 → 110000), else "other".
  const has = (c) => /^\d{6}$/.test(c) && [...pick.options].some((o) => o.value === c);
  const chain = [code, `${code.slice(0, 4)}00`, `${code.slice(0, 2)}0000`];
  pick.value = chain.find(has) ?? "";
}

// ---------------------------------------------------------------------------------------
// Evaluation and results
// ---------------------------------------------------------------------------------------

let engine = null;
let lastInput = null; // what was last evaluated: a household object or JSON text

function evaluate(input) {
  lastInput = input;
  clearErrors();
  let a;
  try {
    // The form's date is the household's as_of; for pasted JSON without one it is the
    // date to use (the module has no clock: the page gives today, in local time).
    a = engine.evaluate(input, { lang, today: form.elements.as_of.value || localToday() });
  } catch (e) {
    showErrors(e);
    return null;
  }
  showResult(a);
  // On a narrow screen the results are below the form: bring them into view.
  if (matchMedia("(max-width: 60rem)").matches) $("#results-title").scrollIntoView?.({ block: "start" });
  return a;
}

function clearErrors() {
  $("#errors").hidden = true;
  $("#error-list").replaceChildren();
  for (const x of $$(".field-error")) x.remove();
  for (const x of $$("[aria-invalid]")) x.removeAttribute("aria-invalid");
  for (const x of $$(".invalid")) x.classList.remove("invalid");
}

/** The element a path names, or the closest container (`members[0].x` → `members[0]`). */
function elementFor(path) {
  let p = path;
  while (p) {
    const e = form.querySelector(`[data-path="${CSS.escape(p)}"]`);
    if (e) return e;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    if (cut <= 0) break;
    p = p.slice(0, cut);
  }
  return null;
}

function showErrors(e) {
  const box = $("#errors");
  const list = $("#error-list");
  const kind = e?.kind;
  const errors = Array.isArray(e?.errors) && e.errors.length ? e.errors : [{ path: "", message: String(e?.message ?? e) }];
  $("#errors-title").textContent = kind ? t(`errors.${kind}`).replace("{n}", String(errors.length)) : t("errors.internal");
  for (const { path, message } of errors) {
    const target = path ? elementFor(path) : null;
    const li = el("li");
    if (path) {
      const link = el("a", { href: "#", class: "path", text: path });
      if (target) {
        link.addEventListener("click", (ev) => {
          ev.preventDefault();
          const details = target.closest("details");
          if (details) details.open = true;
          (target.matches("input, select, textarea") ? target : $("input, select", target) ?? target).focus();
        });
      }
      li.append(el("code", {}, link), " ");
    }
    li.append(message);
    list.append(li);
    if (target) {
      if (target.matches("input, select, textarea")) {
        target.setAttribute("aria-invalid", "true");
        target.closest("label")?.append(el("small", { class: "field-error", text: message }));
      } else {
        target.classList.add("invalid");
      }
    }
  }
  box.hidden = false;
  $("#output").replaceChildren();
  box.scrollIntoView?.({ block: "nearest" });
}

const programName = (id) => I18N[lang][`prog.${id}`] ?? id;

function showResult(a) {
  const out = $("#output");
  out.replaceChildren();
  const d = a.derived;
  const head = el("div", { class: "summary" },
    el("p", { class: "meta", text: `${a.household_id} · ${regionLabel(a.region)} · ${a.as_of}` }),
    el("dl", { class: "figures" },
      el("dt", { text: t("derived.size") }), el("dd", { text: String(d.size) }),
      el("dt", { text: t("derived.counted") }), el("dd", { text: groupMoney(d.counted_income) }),
      el("dt", { text: t("derived.perCapita") }), el("dd", { text: groupMoney(d.per_capita_income) })));
  out.append(head);

  for (const [id, p] of Object.entries(a.programs)) {
    // data-testid result-<id> (for automated tests): status and amount as attributes too,
    // since an ineligible program with nothing to pay shows no amount.
    const card = el("article", {
      class: `program status-${p.status}`, "data-program": id, "data-testid": `result-${id}`,
      "data-status": p.status, "data-amount": p.amount,
    });
    card.append(el("h3", { text: programName(id) }));
    const line = el("p", { class: "verdict" },
      el("span", { class: "badge", text: t(`status.${p.status}`) }));
    if (p.category && p.category !== "none") {
      line.append(" ", el("span", { class: "category", text: `${t("category")}: ${I18N[lang][`cat.${p.category}`] ?? p.category}` }));
    }
    card.append(line);
    const amount = el("p", { class: "amount" },
      el("span", { class: "money", "data-amount": p.amount, text: `¥${groupMoney(p.amount)}` }),
      " ", el("span", { class: "period", text: t(`period.${p.period}`) }));
    if (p.status === "review" && p.amount !== "0.00") amount.append(el("span", { class: "note", text: t("proposed") }));
    if (p.status !== "ineligible" || p.amount !== "0.00") card.append(amount);
    const reasons = el("ol", { class: "reasons" });
    for (const r of p.reasons) {
      reasons.append(el("li", {},
        el("p", { class: "message", text: r.message }),
        el("p", { class: "basis" }, el("span", { text: `${t("basis")}: ${r.basis || "—"}` }), " ",
          el("code", { text: r.code }))));
    }
    card.append(reasons);
    out.append(card);
  }

  const tot = a.totals;
  out.append(el("section", { class: "totals", "aria-label": t("totals") },
    el("h3", { text: t("totals") }),
    el("dl", {},
      el("dt", { text: t("totals.monthly") }), el("dd", { "data-total": "monthly", text: `¥${groupMoney(tot.monthly)}` }),
      el("dt", { text: t("totals.one_off") }), el("dd", { "data-total": "one_off", text: `¥${groupMoney(tot.one_off)}` }),
      el("dt", { text: t("totals.annual") }), el("dd", { "data-total": "annual", text: `¥${groupMoney(tot.annual)}` }))));

  out.append(el("details", { class: "raw" },
    el("summary", { text: t("assessmentJson") }),
    el("pre", { text: JSON.stringify(a, null, 2) })));
}

function regionLabel(code) {
  const name = REGION_NAMES[code]?.[lang === "zh" ? 0 : 1];
  return name ? `${name} ${code}` : code;
}

function showPackInfo() {
  const info = engine.packInfo;
  $("#pack-info").textContent = `${t("pack")}: ${info.name} ${info.version} · ${info.digest.slice(0, 19)}…`;
}

function setLang(next) {
  lang = I18N[next] ? next : "zh";
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `${t("title")} · jiuzhu`;
  translate();
  if (engine) {
    fillRegionPick();
    showPackInfo();
  }
  if (lastInput !== null) evaluate(lastInput);
}

// ---------------------------------------------------------------------------------------
// The JSON box
// ---------------------------------------------------------------------------------------

// True when the last thing edited was the JSON box: "Evaluate" then loads the pasted
// household (as "Load into the form and evaluate" does) instead of evaluating a form the
// paste did not reach. Any edit of the form itself, loading or exporting clears it.
let jsonPending = false;

function loadJson() {
  jsonPending = false;
  const text = $("#json").value;
  let h;
  try {
    h = JSON.parse(text);
  } catch (e) {
    clearErrors();
    showErrors({ kind: "validation", errors: [{ path: "", message: t("jsonInvalid") + e.message }] });
    return;
  }
  if (!h || typeof h !== "object" || Array.isArray(h)) {
    clearErrors();
    showErrors({ kind: "validation", errors: [{ path: "", message: t("jsonNotObject") }] });
    return;
  }
  fill(h);
  // Evaluate the text as pasted: its exact numbers, and any field the form cannot show
  // is reported rather than dropped.
  evaluate(text);
}

function exportJson() {
  jsonPending = false;
  $("#json").value = JSON.stringify(collect(), null, 2);
  $("#json-box").open = true;
}

// ---------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------

function wire() {
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (jsonPending && $("#json").value.trim()) loadJson();
    else evaluate(collect());
  });
  form.addEventListener("input", (ev) => { jsonPending = ev.target === $("#json"); });
  $("#clear-form").addEventListener("click", resetForm);
  $("#add-member").addEventListener("click", () => $("input", addMember()).focus());
  $("#add-vehicle").addEventListener("click", () => $("input", addRow($("#vehicles"), "#vehicle-template")).focus());
  $("#add-event").addEventListener("click", () => $("input", addRow($("#events"), "#event-template")).focus());
  $("#load-json").addEventListener("click", loadJson);
  $("#export-json").addEventListener("click", exportJson);
  $("#region-pick").addEventListener("change", (ev) => {
    if (ev.target.value) form.elements.region.value = ev.target.value;
    else form.elements.region.focus();
  });
  form.elements.region.addEventListener("input", syncRegionPick);
  for (const r of $$('input[name="lang"]')) r.addEventListener("change", () => r.checked && setLang(r.value));
}

async function main() {
  const status = $("#loading");
  const initial = $$('input[name="lang"]').find((r) => r.checked)?.value ?? "zh";
  setLang(initial);
  wire();
  try {
    await init();
    engine = new Engine();
  } catch (e) {
    status.textContent = t("loadFailed") + (e?.message ?? e);
    status.classList.add("failed");
    return;
  }
  fillRegionPick();
  showPackInfo();
  resetForm();
  status.dataset.i18n = "ready";
  status.textContent = t("ready");
  status.dataset.ready = "true";
  document.body.dataset.ready = "true";
}

main();
