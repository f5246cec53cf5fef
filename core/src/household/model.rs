//! The household profile (household.md), as typed Rust values. Parsing and validation
//! live in `parse`; these types are what every later stage reads. They also generate
//! the JSON Schema that `jiuzhu schema` prints.

use crate::date::Date;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Serialize;

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }
        impl $name {
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }
            /// The words, each at one address for the whole program (the rules'
            /// evaluator compares words by address first).
            pub fn words() -> &'static [&'static str] {
                static WORDS: &[&str] = &[$($text),+];
                WORDS
            }
            pub fn as_str(self) -> &'static str {
                Self::words()[self as usize]
            }
        }
    };
}

word_enum!(Area { Urban = "urban", Rural = "rural" });
word_enum!(Relation {
    Head = "head", Spouse = "spouse", Child = "child", Parent = "parent", Sibling = "sibling",
    Grandparent = "grandparent", Grandchild = "grandchild", Other = "other",
});
word_enum!(Sex { Female = "female", Male = "male" });
word_enum!(WorkCapacity { Full = "full", Partial = "partial", None = "none" });
word_enum!(EmploymentStatus {
    Employed = "employed", Flexible = "flexible", Unemployed = "unemployed",
    Retired = "retired", NotInLaborForce = "not_in_labor_force",
});
word_enum!(StudentLevel {
    Preschool = "preschool", Primary = "primary", JuniorSecondary = "junior_secondary",
    SeniorHigh = "senior_high", SecondaryVocational = "secondary_vocational",
    JuniorCollege = "junior_college", Undergraduate = "undergraduate",
    Masters = "masters", Doctoral = "doctoral",
});
word_enum!(IncomeKind {
    Wage = "wage", Business = "business", Property = "property", Pension = "pension",
    Support = "support", Transfer = "transfer", SpecialCare = "special_care", Award = "award",
    FamilyPlanning = "family_planning", SocialAssistance = "social_assistance", Other = "other",
});
word_enum!(VehicleKind {
    Car = "car", Motorcycle = "motorcycle", DisabilityVehicle = "disability_vehicle",
    Commercial = "commercial",
});
word_enum!(EventKind {
    Fire = "fire", Flood = "flood", NaturalDisaster = "natural_disaster",
    TrafficAccident = "traffic_accident", Accident = "accident", SuddenIllness = "sudden_illness",
    Death = "death", Other = "other",
});

/// Money in yuan: a JSON string such as `"1800.50"` (recommended) or a JSON number,
/// at most two decimal places, not negative. Converted exactly, never through floating point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
#[serde(transparent)]
pub struct Amount(#[serde(with = "rust_decimal::serde::str")] pub Decimal);

impl JsonSchema for Amount {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Amount".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Yuan, as a decimal string (recommended) or number; at most 2 decimal places; not negative.",
            "anyOf": [
                { "type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$" },
                { "type": "number", "minimum": 0 }
            ]
        })
    }
}

/// An ISO 8601 calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct IsoDate(pub Date);

impl JsonSchema for IsoDate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IsoDate".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" })
    }
}

/// A household profile: the input contract of every door.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Household {
    /// 1 to 64 characters.
    pub id: String,
    /// 6-digit administrative division code (GB/T 2260).
    pub region: String,
    #[serde(default = "default_area")]
    pub area: Area,
    /// Assessment date; absent: the caller's date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<IsoDate>,
    /// 1 to 30 members with unique ids, exactly one `head`.
    pub members: Vec<Member>,
    #[serde(default)]
    pub assets: Assets,
    #[serde(default)]
    pub events: Vec<Event>,
    #[serde(default)]
    pub expenses: Expenses,
    #[serde(default)]
    pub history: History,
}

fn default_area() -> Area {
    Area::Urban
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Member {
    pub id: String,
    pub relation: Relation,
    pub birth_date: IsoDate,
    pub sex: Sex,
    /// Registered residence (户籍) in this region.
    #[serde(default = "yes")]
    pub local_hukou: bool,
    /// 1 (most severe) to 4, from the national disability certificate.
    #[schemars(range(min = 1, max = 4))]
    pub disability_grade: Option<u8>,
    /// On the local list of serious illnesses (重病).
    #[serde(default)]
    pub serious_illness: bool,
    /// Null: derived (policy.md §0).
    pub work_capacity: Option<WorkCapacity>,
    pub employment: Option<Employment>,
    pub student: Option<Student>,
    #[serde(default)]
    pub orphan: bool,
    /// Average monthly amounts over the assessment window.
    #[serde(default)]
    pub incomes: Vec<Income>,
    /// Medical costs of the current calendar year to date.
    pub medical: Option<Medical>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Employment {
    pub status: EmploymentStatus,
    #[serde(default)]
    pub registered_unemployed_months: u32,
    /// Suitable job offers refused without good reason in the last 12 months.
    #[serde(default)]
    pub refused_offers: u32,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Student {
    pub level: StudentLevel,
    #[serde(default)]
    pub boarding: bool,
    #[serde(default)]
    pub tuition_per_year: Amount,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Income {
    pub kind: IncomeKind,
    pub monthly: Amount,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Medical {
    /// 政策范围内医疗费用
    #[serde(default)]
    pub in_scope_cost: Amount,
    /// 基本医保支付
    #[serde(default)]
    pub basic_insurance_paid: Amount,
    /// 大病保险支付
    #[serde(default)]
    pub critical_illness_paid: Amount,
    /// 商业保险/慈善等
    #[serde(default)]
    pub other_paid: Amount,
    /// 本年度已获医疗救助
    #[serde(default)]
    pub aid_received: Amount,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Assets {
    #[serde(default)]
    pub deposits: Amount,
    #[serde(default)]
    pub securities: Amount,
    #[serde(default)]
    pub vehicles: Vec<Vehicle>,
    #[serde(default)]
    pub homes: u32,
    #[serde(default)]
    pub business_registered: bool,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Vehicle {
    pub kind: VehicleKind,
    pub value: Amount,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Event {
    pub kind: EventKind,
    pub date: IsoDate,
    pub loss: Amount,
    #[serde(default)]
    pub compensation: Amount,
}

/// Monthly rigid expenditure (刚性支出), household total.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Expenses {
    #[serde(default)]
    pub medical: Amount,
    #[serde(default)]
    pub education: Amount,
    #[serde(default)]
    pub other: Amount,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct History {
    pub subsistence_since: Option<IsoDate>,
    pub subsistence_last_amount: Option<Amount>,
    pub subsistence_exit_income_since: Option<IsoDate>,
    #[serde(default)]
    pub temporary_aid_grants_12m: u32,
}

/// Every word of the household model's enumerations.
pub fn all_words() -> impl Iterator<Item = &'static str> {
    [Area::words(), Relation::words(), Sex::words(), WorkCapacity::words(), EmploymentStatus::words(), StudentLevel::words(), IncomeKind::words(), VehicleKind::words(), EventKind::words()].into_iter().flatten().copied()
}
