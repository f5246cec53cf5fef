//! The compiled evaluator: rule scripts lowered from Rhai's AST to a small tree whose
//! variables are resolved to slots when the pack loads, run over [`Val`]s.
//!
//! Why: interpreting Rhai costs most of an assessment (name lookups, function
//! resolution by hash, and above all deep copies of the household's maps on every
//! `let` and `for`). The rules of a pack use a small part of the language; that part is
//! compiled here and runs an order of magnitude faster with the same results.
//!
//! How it stays exact: Rhai parses and checks the script as before, and stays the
//! reference. A script using anything outside the compiled subset (user functions,
//! `switch`, closures, other library functions…) runs interpreted, entirely. And at run
//! time, any step whose result the evaluator is not sure to give exactly as Rhai would —
//! an error of any kind, an overflow, a type the operator does not cover, a limit
//! approached — makes it give up ([`Bail`]): the household is then evaluated again by
//! Rhai from the start, which gives the same result or the exact error. Tests run every
//! case both ways and compare the output byte for byte.

use super::session::Session;
use super::value::{intern, Frozen, Owned, Plain, Str, Val, ValMap, ValRef as V};
use crate::date::{days_before, months_before, parse_date};
use crate::money::round2;
use crate::pack::Limits;
use rhai::{ASTFlags, Expr, FnCallExpr, Stmt, StmtBlock, AST};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// The evaluator gave up: run this household with Rhai instead.
#[derive(Debug)]
pub struct Bail;

type R<T> = Result<T, Bail>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    /// Whether a comparison holds for operands ordered `o`; `None` for arithmetic.
    #[inline]
    fn holds(self, o: std::cmp::Ordering) -> Option<bool> {
        use std::cmp::Ordering::*;
        Some(match self {
            Op::Eq => o == Equal,
            Op::Ne => o != Equal,
            Op::Lt => o == Less,
            Op::Le => o != Greater,
            Op::Gt => o == Greater,
            Op::Ge => o != Less,
            _ => return None,
        })
    }

    fn is_comparison(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }

    fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "%" => Op::Rem,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            _ => return None,
        })
    }
}

#[derive(Debug)]
enum Builtin {
    Param,
    Round2,
    Reason,
    Max,
    Min,
    MonthsBefore,
    DaysBefore,
    Step,
    Len,
}

/// A property name, with where it was last found in the map (maps read at one place
/// usually have the same keys, so the hint saves the search).
#[derive(Debug)]
struct Key {
    name: &'static str,
    hint: AtomicU32,
    /// The address of the `'static` key text found at `hint` (same address: same key).
    seen: AtomicUsize,
}

impl Key {
    fn new(name: &str) -> Key {
        Key { name: intern(name), hint: AtomicU32::new(0), seen: AtomicUsize::new(0) }
    }
}

#[derive(Debug)]
enum Access {
    Prop(Key),
    Index(E),
    Len,
}

#[derive(Debug)]
enum E {
    Const(Plain),
    /// A constant array or map, built afresh each time (no reference count shared by
    /// threads).
    ConstArray(Vec<Frozen>),
    ConstMap(Frozen),
    Local(usize),
    /// The last read of a variable, in the script's final expression: its value is moved
    /// out instead of copied ([`move_last_reads`]).
    Take(usize),
    /// `variable.property`: the commonest read of rules (`member.age`).
    Prop(usize, Key),
    Chain(Box<E>, Vec<Access>),
    Array(Vec<E>),
    /// Entries in evaluation order, each with its position among `keys` (all keys,
    /// sorted).
    Map(Vec<(usize, E)>, Vec<&'static str>),
    And(Vec<E>),
    Or(Vec<E>),
    Coalesce(Vec<E>),
    Bin(Op, Box<E>, Box<E>),
    /// A binary operator on two operands that are plain reads ([`E::is_read`]): both are
    /// borrowed where they are, without copying them out first.
    BinRead(Op, Box<E>, Box<E>),
    Not(Box<E>),
    Neg(Box<E>),
    Plus(Box<E>),
    /// `item in container`.
    Contains(Box<E>, Box<E>),
    Call(Builtin, Vec<E>),
    /// `param("name")` with a literal name.
    Param(Key),
    Block(Block),
}

impl E {
    /// A read without any effect whose value can be borrowed: a constant, a variable or
    /// a variable's property.
    fn is_read(&self) -> bool {
        matches!(self, E::Const(_) | E::Local(_) | E::Prop(..))
    }
}

#[derive(Debug)]
enum PathStep {
    Prop(&'static str),
    Index(E),
}

#[derive(Debug)]
struct Place {
    slot: usize,
    constant: bool,
    path: Vec<PathStep>,
}

#[derive(Debug)]
enum S {
    Let(usize, E),
    Assign(Place, E),
    OpAssign(Place, Op, E),
    Push(Place, E),
    If(E, Block, Block),
    For(usize, Option<usize>, E, Block),
    While(E, Block),
    Expr(E),
    Block(Block),
    Continue,
    Break,
    Return(Option<E>),
    Noop,
}

#[derive(Debug, Default)]
struct Block(Vec<S>);

/// A compiled program.
#[derive(Debug)]
pub struct Program {
    body: Block,
    slots: usize,
}

// ---------------------------------------------------------------------------------------
// Compiling
// ---------------------------------------------------------------------------------------

struct Compiler {
    /// (name, slot, constant), innermost last.
    names: Vec<(String, usize, bool)>,
    next: usize,
    max: usize,
}

/// Compiles a script whose variables `household` and `results` are slots 0 and 1.
/// `Err` names the first construct outside the compiled subset.
pub fn compile(ast: &AST) -> Result<Program, String> {
    if ast.has_functions() {
        return Err("the script defines functions".into());
    }
    let mut c = Compiler { names: Vec::new(), next: 0, max: 0 };
    for v in super::SCRIPT_VARIABLES {
        c.declare(v, true);
    }
    let mut body = c.stmts(ast.statements())?;
    move_last_reads(&mut body);
    Ok(Program { body, slots: c.max })
}

/// In the script's final expression (`#{ status: ..., reasons: reasons, ... }`, after
/// which nothing runs), a variable read there once, directly as an entry of the map or
/// array literals it is made of, is moved into the result instead of copied. Besides a
/// count, that spares the data-size accounting a walk over the whole value: a container
/// also held by a variable is counted whole when put into another (`Run::grow`), and
/// the reasons of a program are its largest value. A variable that a block inside the
/// expression mentions at all (`status: if total > 0 { ... }`) is never moved: a block
/// may read it again, in a loop, or after the move.
fn move_last_reads(body: &mut Block) {
    let Some(S::Expr(last)) = body.0.last_mut() else { return };
    let mut reads = HashMap::new();
    count_reads(last, &mut reads, 1);
    fn rewrite(e: &mut E, reads: &HashMap<usize, u32>) {
        match e {
            E::Local(slot) if reads.get(slot) == Some(&1) => *e = E::Take(*slot),
            E::Map(entries, _) => entries.iter_mut().for_each(|(_, x)| rewrite(x, reads)),
            E::Array(items) => items.iter_mut().for_each(|x| rewrite(x, reads)),
            _ => {}
        }
    }
    rewrite(last, &reads);
}

/// Adds `weight` to a slot's count of reads.
fn bump(reads: &mut HashMap<usize, u32>, slot: usize, weight: u32) {
    *reads.entry(slot).or_insert(0) += weight;
}

/// Adds `weight` for each read of a variable slot in `e`; a slot a block mentions in any
/// way gets 2 (never moved).
fn count_reads(e: &E, reads: &mut HashMap<usize, u32>, weight: u32) {
    match e {
        E::Local(slot) | E::Take(slot) | E::Prop(slot, _) => bump(reads, *slot, weight),
        E::Chain(root, accesses) => {
            count_reads(root, reads, weight);
            for a in accesses {
                if let Access::Index(i) = a {
                    count_reads(i, reads, weight);
                }
            }
        }
        E::Array(list) | E::And(list) | E::Or(list) | E::Coalesce(list) | E::Call(_, list) => {
            list.iter().for_each(|x| count_reads(x, reads, weight))
        }
        E::Map(entries, _) => entries.iter().for_each(|(_, x)| count_reads(x, reads, weight)),
        E::Bin(_, a, b) | E::BinRead(_, a, b) | E::Contains(a, b) => {
            count_reads(a, reads, weight);
            count_reads(b, reads, weight);
        }
        E::Not(a) | E::Neg(a) | E::Plus(a) => count_reads(a, reads, weight),
        E::Block(b) => mark_block(b, reads),
        E::Const(_) | E::ConstArray(_) | E::ConstMap(_) | E::Param(_) => {}
    }
}

/// [`count_reads`] inside a block: every slot its statements read or write gets 2.
fn mark_block(b: &Block, reads: &mut HashMap<usize, u32>) {
    let place = |p: &Place, reads: &mut HashMap<usize, u32>| {
        bump(reads, p.slot, 2);
        for step in &p.path {
            if let PathStep::Index(i) = step {
                count_reads(i, reads, 2);
            }
        }
    };
    for st in &b.0 {
        match st {
            S::Let(slot, e) => {
                bump(reads, *slot, 2);
                count_reads(e, reads, 2);
            }
            S::Assign(p, e) | S::OpAssign(p, _, e) | S::Push(p, e) => {
                place(p, reads);
                count_reads(e, reads, 2);
            }
            S::If(c, then, other) => {
                count_reads(c, reads, 2);
                mark_block(then, reads);
                mark_block(other, reads);
            }
            S::For(var, counter, iter, body) => {
                bump(reads, *var, 2);
                if let Some(k) = counter {
                    bump(reads, *k, 2);
                }
                count_reads(iter, reads, 2);
                mark_block(body, reads);
            }
            S::While(c, body) => {
                count_reads(c, reads, 2);
                mark_block(body, reads);
            }
            S::Expr(e) | S::Return(Some(e)) => count_reads(e, reads, 2),
            S::Block(inner) => mark_block(inner, reads),
            S::Return(None) | S::Continue | S::Break | S::Noop => {}
        }
    }
}

impl Compiler {
    fn declare(&mut self, name: &str, constant: bool) -> usize {
        let slot = self.next;
        self.next += 1;
        self.max = self.max.max(self.next);
        self.names.push((name.to_string(), slot, constant));
        slot
    }

    fn lookup(&self, name: &str) -> Result<(usize, bool), String> {
        self.names
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)
            .map(|(_, s, c)| (*s, *c))
            .ok_or_else(|| format!("unknown variable `{name}`"))
    }

    /// A block with its own scope.
    fn scoped(&mut self, f: impl FnOnce(&mut Self) -> Result<Block, String>) -> Result<Block, String> {
        let (names, next) = (self.names.len(), self.next);
        let out = f(self);
        self.names.truncate(names);
        self.next = next;
        out
    }

    fn block(&mut self, b: &StmtBlock) -> Result<Block, String> {
        self.scoped(|c| c.stmts(b.statements()))
    }

    fn stmts(&mut self, list: &[Stmt]) -> Result<Block, String> {
        list.iter().map(|s| self.stmt(s)).collect::<Result<Vec<_>, _>>().map(Block)
    }

    fn stmt(&mut self, s: &Stmt) -> Result<S, String> {
        Ok(match s {
            Stmt::Noop(_) => S::Noop,
            Stmt::Var(x, flags, _) => {
                let value = self.expr(&x.1)?;
                let slot = self.declare(x.0.name.as_str(), flags.contains(ASTFlags::CONSTANT));
                S::Let(slot, value)
            }
            Stmt::Assignment(x) => {
                let (op, bin) = (&x.0, &x.1);
                let place = self.place(&bin.lhs)?;
                let value = self.expr(&bin.rhs)?;
                match op.get_op_assignment_info() {
                    None => S::Assign(place, value),
                    Some((.., op_syntax)) => {
                        let op = Op::from_name(op_syntax).ok_or_else(|| format!("operator `{op_syntax}=`"))?;
                        if !matches!(op, Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem) {
                            return Err(format!("operator `{op_syntax}=`"));
                        }
                        S::OpAssign(place, op, value)
                    }
                }
            }
            Stmt::If(x, _) => {
                let cond = self.expr(&x.expr)?;
                S::If(cond, self.block(&x.body)?, self.block(&x.branch)?)
            }
            Stmt::While(x, _) => {
                let cond = match &x.expr {
                    Expr::Unit(_) => E::Const(plain(Val::Bool(true))),
                    e => self.expr(e)?,
                };
                S::While(cond, self.block(&x.body)?)
            }
            Stmt::For(x, _) => {
                let (var, counter, flow) = (&x.0, &x.1, &x.2);
                let iter = self.expr(&flow.expr)?;
                let (names, next) = (self.names.len(), self.next);
                let v = self.declare(var.name.as_str(), false);
                let k = counter.as_ref().map(|k| self.declare(k.name.as_str(), false));
                let body = self.block(&flow.body);
                self.names.truncate(names);
                self.next = next;
                S::For(v, k, iter, body?)
            }
            Stmt::Expr(e) => self.expr_stmt(e)?,
            Stmt::FnCall(f, _) => S::Expr(self.call(f)?),
            Stmt::Block(b) => S::Block(self.block(b)?),
            Stmt::BreakLoop(None, flags, _) => {
                if flags.contains(ASTFlags::BREAK) {
                    S::Break
                } else {
                    S::Continue
                }
            }
            Stmt::Return(value, flags, _) if !flags.contains(ASTFlags::BREAK) => {
                S::Return(value.as_ref().map(|e| self.expr(e)).transpose()?)
            }
            other => return Err(format!("statement {:?}", std::mem::discriminant(other))),
        })
    }

    /// An expression statement: `x.push(v)` is the one mutating method.
    fn expr_stmt(&mut self, e: &Expr) -> Result<S, String> {
        if let Some((target, "push", [value])) = split_method(e) {
            let place = self.place(target)?;
            return Ok(S::Push(place, self.expr(value)?));
        }
        Ok(S::Expr(self.expr(e)?))
    }

    fn place(&mut self, e: &Expr) -> Result<Place, String> {
        match e {
            Expr::Variable(x, _, _) => {
                if !x.2.is_empty() {
                    return Err("namespaced variable".into());
                }
                let (slot, constant) = self.lookup(x.1.as_str())?;
                Ok(Place { slot, constant, path: Vec::new() })
            }
            Expr::Dot(..) | Expr::Index(..) => {
                let (root, accesses) = self.chain(e)?;
                let E::Local(slot) = root else { return Err("assignment to an expression".into()) };
                let constant = self.names.iter().any(|(_, s, c)| *s == slot && *c);
                let path = accesses
                    .into_iter()
                    .map(|a| match a {
                        Access::Prop(p) => Ok(PathStep::Prop(p.name)),
                        Access::Index(i) => Ok(PathStep::Index(i)),
                        Access::Len => Err("assignment to len()".to_string()),
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Place { slot, constant, path })
            }
            _ => Err("assignment to an expression".into()),
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<E, String> {
        Ok(match e {
            Expr::DynamicConstant(d, _) => constant(d)?,
            Expr::BoolConstant(b, _) => E::Const(plain(Val::Bool(*b))),
            Expr::IntegerConstant(i, _) => E::Const(plain(Val::Int(*i))),
            Expr::StringConstant(s, _) => E::Const(plain(Val::Str(Str::Static(intern(s.as_str()))))),
            Expr::Unit(_) => E::Const(plain(Val::Unit)),
            Expr::Array(items, _) => E::Array(items.iter().map(|x| self.expr(x)).collect::<Result<_, _>>()?),
            Expr::Map(x, _) => {
                let keys = x.1.keys().map(|k| intern(k.as_str())).collect::<Vec<_>>();
                let entries = x
                    .0
                    .iter()
                    .map(|(k, v)| {
                        let at = keys.iter().position(|key| *key == k.name.as_str()).ok_or("map literal key")?;
                        Ok((at, self.expr(v)?))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                // Each key once: the places are a permutation (what `Run::node` relies on
                // to write every value straight to its place).
                let mut seen = vec![false; keys.len()];
                if entries.len() != keys.len() || entries.iter().any(|(at, _)| std::mem::replace(&mut seen[*at], true)) {
                    return Err("map literal with a repeated key".into());
                }
                E::Map(entries, keys)
            }
            Expr::Variable(x, _, _) => {
                if !x.2.is_empty() {
                    return Err("namespaced variable".into());
                }
                E::Local(self.lookup(x.1.as_str())?.0)
            }
            Expr::Stmt(b) => E::Block(self.block(b)?),
            Expr::FnCall(f, _) => self.call(f)?,
            Expr::Dot(..) | Expr::Index(..) => {
                let (root, mut accesses) = self.chain(e)?;
                match (&root, accesses.as_slice()) {
                    (E::Local(slot), [Access::Prop(_)]) => {
                        let Some(Access::Prop(key)) = accesses.pop() else { unreachable!() };
                        E::Prop(*slot, key)
                    }
                    _ => E::Chain(Box::new(root), accesses),
                }
            }
            Expr::And(list, _) => E::And(list.iter().map(|x| self.expr(x)).collect::<Result<_, _>>()?),
            Expr::Or(list, _) => E::Or(list.iter().map(|x| self.expr(x)).collect::<Result<_, _>>()?),
            Expr::Coalesce(list, _) => E::Coalesce(list.iter().map(|x| self.expr(x)).collect::<Result<_, _>>()?),
            other => return Err(format!("expression {:?}", std::mem::discriminant(other))),
        })
    }

    /// `a.b[c].d` → root `a` and the accesses; see Rhai's chain layout: the right side of
    /// a `Dot`/`Index` is either the last accessor (with the `BREAK` flag for an index) or
    /// another `Dot`/`Index` whose left side is the next accessor.
    fn chain(&mut self, e: &Expr) -> Result<(E, Vec<Access>), String> {
        let (bin, flags, is_index) = match e {
            Expr::Dot(b, f, _) => (b, *f, false),
            Expr::Index(b, f, _) => (b, *f, true),
            _ => unreachable!("chain of a non-chain expression"),
        };
        let root = self.expr(&bin.lhs)?;
        let mut out = Vec::new();
        self.walk(is_index, &bin.rhs, flags.contains(ASTFlags::BREAK), &mut out)?;
        Ok((root, out))
    }

    fn walk(&mut self, is_index: bool, rhs: &Expr, terminal: bool, out: &mut Vec<Access>) -> Result<(), String> {
        if is_index && terminal {
            out.push(Access::Index(self.expr(rhs)?));
            return Ok(());
        }
        match rhs {
            Expr::Dot(b, f, _) | Expr::Index(b, f, _) => {
                let next_is_index = matches!(rhs, Expr::Index(..));
                if is_index {
                    out.push(Access::Index(self.expr(&b.lhs)?));
                } else {
                    out.push(self.accessor(&b.lhs)?);
                }
                self.walk(next_is_index, &b.rhs, f.contains(ASTFlags::BREAK), out)
            }
            _ if is_index => {
                out.push(Access::Index(self.expr(rhs)?));
                Ok(())
            }
            _ => {
                out.push(self.accessor(rhs)?);
                Ok(())
            }
        }
    }

    fn accessor(&mut self, e: &Expr) -> Result<Access, String> {
        match e {
            Expr::Property(p, _) => Ok(Access::Prop(Key::new(p.2.as_str()))),
            Expr::MethodCall(f, _) if f.name.as_str() == "len" && f.args.is_empty() => Ok(Access::Len),
            Expr::MethodCall(f, _) => Err(format!("method `{}`", f.name)),
            _ => Err("accessor".into()),
        }
    }

    fn call(&mut self, f: &FnCallExpr) -> Result<E, String> {
        if !f.namespace.is_empty() || f.capture_parent_scope {
            return Err(format!("call of `{}`", f.name));
        }
        let name = f.name.as_str();
        let n = f.args.len();
        let mut args = f.args.iter().map(|a| self.expr(a)).collect::<Result<Vec<_>, _>>()?;
        let one = |args: &mut Vec<E>| Box::new(args.pop().expect("one argument"));
        if n == 2 {
            if let Some(op) = Op::from_name(name) {
                let rhs = Box::new(args.pop().expect("rhs"));
                let lhs = Box::new(args.pop().expect("lhs"));
                if lhs.is_read() && rhs.is_read() {
                    return Ok(E::BinRead(op, lhs, rhs));
                }
                return Ok(E::Bin(op, lhs, rhs));
            }
        }
        Ok(match (name, n) {
            ("!", 1) => E::Not(one(&mut args)),
            ("-", 1) => E::Neg(one(&mut args)),
            ("+", 1) => E::Plus(one(&mut args)),
            ("contains", 2) => {
                let item = Box::new(args.pop().expect("item"));
                let container = Box::new(args.pop().expect("container"));
                E::Contains(item, container)
            }
            ("param", 1) => match &args[0] {
                E::Const(c) if c.get().as_str().is_some() => E::Param(Key::new(c.get().as_str().expect("a string"))),
                _ => E::Call(Builtin::Param, args),
            },
            ("round2", 1) => E::Call(Builtin::Round2, args),
            ("reason", 1 | 2) => E::Call(Builtin::Reason, args),
            ("max", 2) => E::Call(Builtin::Max, args),
            ("min", 2) => E::Call(Builtin::Min, args),
            ("months_before", 2) => E::Call(Builtin::MonthsBefore, args),
            ("days_before", 2) => E::Call(Builtin::DaysBefore, args),
            ("step", 2) => E::Call(Builtin::Step, args),
            ("len", 1) => E::Call(Builtin::Len, args),
            _ => return Err(format!("function `{name}` with {n} argument(s)")),
        })
    }
}

/// `x.push(v)` → (`x`, "push", [v]) when the chain ends in a method call.
fn split_method(e: &Expr) -> Option<(&Expr, &str, &[Expr])> {
    let Expr::Dot(bin, flags, _) = e else { return None };
    if flags.contains(ASTFlags::BREAK) {
        return None;
    }
    match &bin.rhs {
        Expr::MethodCall(f, _) if f.namespace.is_empty() => Some((&bin.lhs, f.name.as_str(), &f.args[..])),
        _ => None,
    }
}

fn constant(d: &rhai::Dynamic) -> Result<E, String> {
    let v = strict_val(d).ok_or_else(|| format!("constant of type {}", d.type_name()))?;
    Ok(match v.view() {
        V::Array(a) => E::ConstArray(a.iter().map(Frozen::new).collect()),
        V::Map(_) => E::ConstMap(Frozen::new(&v)),
        _ => E::Const(plain(v)),
    })
}

/// A scalar constant of the compiled rules (strings interned, so always plain).
fn plain(v: Val) -> Plain {
    Plain::new(v).expect("a scalar constant with an interned string")
}

/// A compile-time constant, with its strings interned; `None` for other types.
fn strict_val(d: &rhai::Dynamic) -> Option<Val> {
    Val::from_dynamic_with(d, &|s| Str::Static(intern(s)), &|_| None)
}

// ---------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------

/// How a statement ended: on to the next one, or a jump (`return`'s value waits in
/// [`Run::returned`]). One byte, handed back in a register: when it carried the
/// statement's value, every `if` inside a loop returned 32 bytes through memory that the
/// caller read back at once, a stall on the store buffer each time; the value of a
/// statement is wanted only at the end of a block whose value is used
/// ([`Run::block_value`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Normal,
    Continue,
    Break,
    Return,
}

/// The state of one program run.
pub struct Run<'s> {
    pub session: &'s mut Session,
    slots: Vec<Val>,
    ops: u64,
    max_ops: u64,
    elems: usize,
    max_elems: usize,
    bytes: usize,
    max_bytes: usize,
    /// The value of the `return` being carried out.
    returned: Val,
}

impl Drop for Run<'_> {
    fn drop(&mut self) {
        self.slots.clear();
        self.session.slots = std::mem::take(&mut self.slots);
    }
}

impl<'s> Run<'s> {
    /// A run within `limits`, given up well before Rhai would stop (the count here is
    /// coarser than Rhai's, so the budget is a quarter of it).
    pub fn new(session: &'s mut Session, limits: &Limits) -> Run<'s> {
        let lim = |x: usize| if x == 0 { usize::MAX } else { x };
        // The slots of the session's previous program (empty, its capacity kept).
        let slots = std::mem::take(&mut session.slots);
        Run {
            session,
            slots,
            ops: 0,
            max_ops: if limits.max_operations == 0 { u64::MAX } else { limits.max_operations / 4 },
            elems: 0,
            max_elems: lim(limits.max_array_size).min(lim(limits.max_map_size)) / 2,
            bytes: 0,
            max_bytes: lim(limits.max_string_size) / 2,
            returned: Val::Unit,
        }
    }

    /// Runs a program with `household` and `results`; the value of its last statement.
    pub fn run(&mut self, p: &Program, household: Val, results: Val) -> R<Val> {
        self.slots.clear();
        self.slots.resize(p.slots, Val::Unit);
        self.slots[0] = household;
        self.slots[1] = results;
        let out = match self.block_value(&p.body)? {
            (Flow::Normal, v) => v,
            (Flow::Return, _) => std::mem::take(&mut self.returned),
            (Flow::Continue | Flow::Break, _) => return Err(Bail),
        };
        self.slots.clear();
        Ok(out)
    }

    #[inline]
    fn tick(&mut self) -> R<()> {
        self.ops += 1;
        if self.ops > self.max_ops {
            return Err(Bail);
        }
        Ok(())
    }

    /// Accounts for data put into a container. Rhai limits the size of arrays, maps and
    /// strings, nested ones included; the running total of what was ever put into a
    /// container is a safe upper bound on any one value's size. A container made by this
    /// run and held nowhere else (its elements were counted as they were put in) counts
    /// as one element; one that is also held elsewhere (the household, a variable) is
    /// counted whole, since its data now appears twice.
    fn grow(&mut self, v: &Val) -> R<()> {
        self.elems += 1;
        match v.view() {
            V::Str(s) => self.bytes += s.len(),
            V::Array(_) | V::Map(_) if v.strong_count() > 1 => self.grow_whole(v),
            _ => {}
        }
        if self.elems > self.max_elems || self.bytes > self.max_bytes {
            return Err(Bail);
        }
        Ok(())
    }

    /// A list made from data this run did not count (a parameter's): counted whole, so
    /// that putting it into a container later may count it as one element.
    fn grow_made(&mut self, v: &Val) {
        if matches!(v.view(), V::Array(_) | V::Map(_)) {
            self.grow_whole(v);
        }
    }

    /// Counts every element and string byte of `v`.
    fn grow_whole(&mut self, v: &Val) {
        let (e, b) = weight(v);
        self.elems += e;
        self.bytes += b;
    }

    /// A block whose value is not used.
    fn block(&mut self, b: &Block) -> R<Flow> {
        for s in &b.0 {
            match self.stmt(s)? {
                Flow::Normal => {}
                jump => return Ok(jump),
            }
        }
        Ok(Flow::Normal)
    }

    /// A block whose value is used (a program's body, a block expression): the value of
    /// its last statement, as Rhai gives it (unit when it makes none).
    fn block_value(&mut self, b: &Block) -> R<(Flow, Val)> {
        let Some((last, rest)) = b.0.split_last() else { return Ok((Flow::Normal, Val::Unit)) };
        for s in rest {
            match self.stmt(s)? {
                Flow::Normal => {}
                jump => return Ok((jump, Val::Unit)),
            }
        }
        self.stmt_value(last)
    }

    /// [`Run::stmt`] keeping the statement's value: an expression's, or the value of the
    /// block an `if` (or a plain block) ran; unit for the others.
    fn stmt_value(&mut self, s: &S) -> R<(Flow, Val)> {
        match s {
            S::Expr(e) => {
                self.tick()?;
                Ok((Flow::Normal, self.expr(e)?))
            }
            S::If(cond, then, other) => {
                self.tick()?;
                let c = self.boolean(cond)?;
                self.block_value(if c { then } else { other })
            }
            S::Block(b) => {
                self.tick()?;
                self.block_value(b)
            }
            other => Ok((self.stmt(other)?, Val::Unit)),
        }
    }

    fn stmt(&mut self, s: &S) -> R<Flow> {
        self.tick()?;
        Ok(match s {
            S::Let(slot, e) => {
                let v = self.expr(e)?;
                self.slots[*slot] = v;
                Flow::Normal
            }
            S::Assign(place, e) => {
                let v = self.expr(e)?;
                if place.constant {
                    return Err(Bail);
                }
                if !place.path.is_empty() {
                    self.grow(&v)?;
                }
                *self.place_mut(place)? = v;
                Flow::Normal
            }
            S::OpAssign(place, op, e) => {
                let rhs = self.expr(e)?;
                if place.constant {
                    return Err(Bail);
                }
                let target = self.place_mut(place)?;
                let current = std::mem::take(target);
                let new = match (current.view(), *op, rhs.view()) {
                    (V::Array(_), Op::Add, V::Array(extra)) => {
                        let mut a = current;
                        a.array_mut().expect("an array").extend(extra.iter().cloned());
                        a
                    }
                    _ => match binary(*op, &current, &rhs) {
                        Ok(v) => v,
                        Err(Bail) => {
                            *self.place_mut(place)? = current;
                            return Err(Bail);
                        }
                    },
                };
                if let (V::Array(_), V::Array(extra)) = (new.view(), rhs.view()) {
                    for x in extra.iter() {
                        self.grow(x)?;
                    }
                }
                if let V::Str(s) = new.view() {
                    self.bytes += s.len();
                    if self.bytes > self.max_bytes {
                        return Err(Bail);
                    }
                }
                *self.place_mut(place)? = new;
                Flow::Normal
            }
            S::Push(place, e) => {
                let v = self.expr(e)?;
                if place.constant {
                    return Err(Bail);
                }
                self.grow(&v)?;
                match self.place_mut(place)?.array_mut() {
                    Some(a) => a.push(v),
                    None => return Err(Bail),
                }
                Flow::Normal
            }
            S::If(cond, then, other) => {
                let c = self.boolean(cond)?;
                self.block(if c { then } else { other })?
            }
            S::For(var, counter, iter, body) => {
                let Owned::Array(items) = self.expr(iter)?.into_owned() else { return Err(Bail) };
                for (i, item) in items.iter().enumerate() {
                    self.tick()?;
                    self.slots[*var] = item.clone();
                    if let Some(k) = counter {
                        self.slots[*k] = Val::Int(i as i64);
                    }
                    match self.block(body)? {
                        Flow::Normal | Flow::Continue => {}
                        Flow::Break => break,
                        Flow::Return => return Ok(Flow::Return),
                    }
                }
                Flow::Normal
            }
            S::While(cond, body) => {
                loop {
                    self.tick()?;
                    if !self.boolean(cond)? {
                        break;
                    }
                    match self.block(body)? {
                        Flow::Normal | Flow::Continue => {}
                        Flow::Break => break,
                        Flow::Return => return Ok(Flow::Return),
                    }
                }
                Flow::Normal
            }
            S::Expr(e) => {
                self.expr(e)?;
                Flow::Normal
            }
            S::Block(b) => self.block(b)?,
            S::Continue => Flow::Continue,
            S::Break => Flow::Break,
            S::Return(e) => {
                self.returned = match e {
                    Some(e) => self.expr(e)?,
                    None => Val::Unit,
                };
                Flow::Return
            }
            S::Noop => Flow::Normal,
        })
    }

    /// The variable or element a statement writes to (copying shared data first).
    fn place_mut(&mut self, place: &Place) -> R<&mut Val> {
        // Index expressions are evaluated before the target is borrowed.
        let mut keys: Vec<Val> = Vec::new();
        for step in &place.path {
            if let PathStep::Index(e) = step {
                let k = self.expr(e)?;
                keys.push(k);
            }
        }
        let mut keys = keys.into_iter();
        let mut target = &mut self.slots[place.slot];
        for step in &place.path {
            target = match step {
                PathStep::Prop(p) => target.map_mut().ok_or(Bail)?.entry(Str::Static(p)),
                PathStep::Index(_) => {
                    let key = keys.next().ok_or(Bail)?;
                    match key.into_owned() {
                        Owned::Str(k) => target.map_mut().ok_or(Bail)?.entry(k),
                        Owned::Int(i) => {
                            let a = target.array_mut().ok_or(Bail)?;
                            let i = usize::try_from(i).map_err(|_| Bail)?;
                            a.get_mut(i).ok_or(Bail)?
                        }
                        _ => return Err(Bail),
                    }
                }
            };
        }
        Ok(target)
    }

    /// The value of a plain read ([`E::is_read`]), borrowed.
    #[inline(always)]
    fn read<'v>(&'v self, e: &'v E) -> R<&'v Val> {
        match e {
            E::Const(v) => Ok(v.get()),
            E::Local(slot) => Ok(&self.slots[*slot]),
            E::Prop(slot, key) => get_prop(&self.slots[*slot], key),
            _ => Err(Bail),
        }
    }

    /// A condition (`if`, `while`, `&&`, `||`, `!`). Comparisons of plain reads, and the
    /// logic over them, are decided here without making a value.
    fn boolean(&mut self, e: &E) -> R<bool> {
        match e {
            E::BinRead(op, a, b) if op.is_comparison() => {
                self.ops += 3;
                if self.ops > self.max_ops {
                    return Err(Bail);
                }
                compare(*op, self.read(a)?, self.read(b)?)
            }
            E::And(list) => {
                self.tick()?;
                for x in list {
                    if !self.boolean(x)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            E::Or(list) => {
                self.tick()?;
                for x in list {
                    if self.boolean(x)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            E::Not(a) => {
                self.tick()?;
                Ok(!self.boolean(a)?)
            }
            _ => match self.expr(e)?.view() {
                V::Bool(b) => Ok(b),
                _ => Err(Bail),
            },
        }
    }

    /// An expression's value. The plain reads (most operands) are taken here, inlined
    /// into the caller; the other nodes in [`Run::node`], whose size (and so its cost of
    /// entry: saved registers, stack) the reads then do not pay.
    #[inline]
    fn expr(&mut self, e: &E) -> R<Val> {
        // Counted here, checked by the statement or loop step around it: an expression
        // cannot run on by itself (no user functions; a block inside it has statements).
        self.ops += 1;
        match e {
            E::Const(v) => Ok(v.get().clone()),
            E::Local(slot) => Ok(self.slots[*slot].clone()),
            E::Prop(slot, key) => Ok(get_prop(&self.slots[*slot], key)?.clone()),
            _ => self.node(e),
        }
    }

    #[inline(never)]
    fn node(&mut self, e: &E) -> R<Val> {
        Ok(match e {
            E::Const(v) => v.get().clone(),
            E::ConstArray(items) => {
                let a = Val::array(items.iter().map(Frozen::thaw).collect());
                self.grow_whole(&a);
                self.grow(&a)?;
                a
            }
            E::ConstMap(m) => {
                let m = m.thaw();
                self.grow_whole(&m);
                self.grow(&m)?;
                m
            }
            E::Local(slot) => self.slots[*slot].clone(),
            E::Take(slot) => std::mem::take(&mut self.slots[*slot]),
            E::Prop(slot, key) => get_prop(&self.slots[*slot], key)?.clone(),
            E::Chain(root, accesses) => {
                // As Rhai: the index values first, then the root.
                let mut keys = Vec::new();
                for a in accesses {
                    if let Access::Index(i) = a {
                        keys.push(self.expr(i)?);
                    }
                }
                let mut keys = keys.iter();
                let owned;
                let mut cur: &Val = if let E::Local(slot) = **root {
                    &self.slots[slot] // read through the variable without copying it
                } else {
                    owned = self.expr(root)?;
                    &owned
                };
                for a in accesses {
                    cur = match a {
                        Access::Prop(p) => get_prop(cur, p)?,
                        Access::Index(_) => get_index(cur, keys.next().ok_or(Bail)?)?,
                        Access::Len => return len(cur),
                    };
                }
                cur.clone()
            }
            E::Array(items) => {
                let mut a = Vec::with_capacity(items.len());
                for x in items {
                    let v = self.expr(x)?;
                    self.grow(&v)?;
                    a.push(v);
                }
                Val::array(a)
            }
            E::Map(entries, keys) => {
                // Each value written straight to its key's place, evaluated in the order
                // of the source. (Filling the places with `()` first and replacing them
                // made a store and an immediate wide reload per entry, a stall each.)
                let mut m: Vec<(Str, Val)> = Vec::with_capacity(keys.len());
                let mut partial = Partial { places: m.as_mut_ptr(), entries, written: 0 };
                for (at, x) in entries {
                    let v = self.expr(x)?;
                    self.grow(&v)?;
                    // SAFETY: `at < keys.len()`, the capacity, and each place is written
                    // once (the compiler checked that the places are a permutation).
                    unsafe { partial.places.add(*at).write((Str::Static(keys[*at]), v)) };
                    partial.written += 1;
                }
                std::mem::forget(partial);
                // SAFETY: all `keys.len()` places were written, in bounds, just above.
                unsafe { m.set_len(keys.len()) };
                Val::map(ValMap::from_sorted(m))
            }
            E::And(list) => {
                for x in list {
                    if !self.boolean(x)? {
                        return Ok(Val::Bool(false));
                    }
                }
                Val::Bool(true)
            }
            E::Or(list) => {
                for x in list {
                    if self.boolean(x)? {
                        return Ok(Val::Bool(true));
                    }
                }
                Val::Bool(false)
            }
            E::Coalesce(list) => {
                let mut v = Val::Unit;
                for x in list {
                    v = self.expr(x)?;
                    if !v.is_unit() {
                        break;
                    }
                }
                v
            }
            E::Bin(op, a, b) => {
                let x = self.expr(a)?;
                let y = self.expr(b)?;
                let v = binary(*op, &x, &y)?;
                if let V::Str(s) = v.view() {
                    if s.len() > self.max_bytes {
                        return Err(Bail);
                    }
                }
                v
            }
            E::BinRead(op, a, b) => {
                // the two reads count as the operations they are
                self.ops += 2;
                let v = binary(*op, self.read(a)?, self.read(b)?)?;
                if let V::Str(s) = v.view() {
                    if s.len() > self.max_bytes {
                        return Err(Bail);
                    }
                }
                v
            }
            E::Not(a) => Val::Bool(!self.boolean(a)?),
            E::Neg(a) => match self.expr(a)?.view() {
                V::Int(i) => Val::Int(i.checked_neg().ok_or(Bail)?),
                V::Dec(d) => Val::Dec(-d),
                _ => return Err(Bail),
            },
            E::Plus(a) => {
                let v = self.expr(a)?;
                if !is_numeric(&v) {
                    return Err(Bail);
                }
                v
            }
            E::Contains(item, container) => {
                if let E::ConstArray(items) = &**container {
                    let x = self.expr(item)?;
                    return Ok(Val::Bool(contains_frozen(items, &x)?));
                }
                let c = self.expr(container)?;
                let x = self.expr(item)?;
                Val::Bool(match (c.view(), x.view()) {
                    (V::Array(a), _) => contains_in(a, &x)?,
                    (V::Map(m), V::Str(k)) => m.contains_key(k),
                    (V::Str(s), V::Str(sub)) => s.contains(sub.as_str()),
                    _ => return Err(Bail),
                })
            }
            E::Call(f, args) => self.call(f, args)?,
            E::Param(key) => {
                let v = self.session.param_hinted(key.name, &key.hint).map_err(|_| Bail)?;
                self.grow_made(&v);
                v
            }
            E::Block(b) => match self.block_value(b)? {
                (Flow::Normal, v) => v,
                _ => return Err(Bail),
            },
        })
    }

    fn call(&mut self, f: &Builtin, args: &[E]) -> R<Val> {
        // Builtins take one or two arguments (the compiler checked): kept on the stack.
        let mut held = [Val::Unit, Val::Unit];
        if args.len() > held.len() {
            return Err(Bail);
        }
        for (slot, a) in held.iter_mut().zip(args) {
            *slot = self.expr(a)?;
        }
        let n = args.len();
        let [x, y] = &held;
        Ok(match (f, n, x.view(), y.view()) {
            (Builtin::Param, 1, V::Str(name), _) => {
                let v = self.session.param_val(name).map_err(|_| Bail)?;
                self.grow_made(&v);
                v
            }
            (Builtin::Round2, 1, V::Dec(d), _) => Val::Dec(round2(d)),
            (Builtin::Round2, 1, V::Int(i), _) => Val::Dec(Decimal::from(i).round_dp(2)),
            (Builtin::Reason, 1, V::Str(_), _) | (Builtin::Reason, 2, V::Str(_), V::Map(_)) => {
                let [code, values] = held;
                let values = if n == 2 { values } else { Val::map(ValMap::default()) };
                self.grow(&values)?;
                self.grow(&code)?;
                Val::map(ValMap::from_sorted(vec![(Str::Static("code"), code), (Str::Static("values"), values)]))
            }
            (Builtin::Max, 2, _, _) => {
                let (a, b) = numbers(x, y)?;
                if a.0 >= b.0 {
                    a.1
                } else {
                    b.1
                }
            }
            (Builtin::Min, 2, _, _) => {
                let (a, b) = numbers(x, y)?;
                if a.0 <= b.0 {
                    a.1
                } else {
                    b.1
                }
            }
            (Builtin::MonthsBefore, 2, V::Str(d), V::Int(n)) => {
                let d = parse_date(d).ok_or(Bail)?;
                let n = u32::try_from(n).map_err(|_| Bail)?;
                Val::date(months_before(d, n).ok_or(Bail)?)
            }
            (Builtin::DaysBefore, 2, V::Str(d), V::Int(n)) => {
                let d = parse_date(d).ok_or(Bail)?;
                let n = u64::try_from(n).map_err(|_| Bail)?;
                Val::date(days_before(d, n).ok_or(Bail)?)
            }
            (Builtin::Step, 2, V::Str(label), _) => {
                self.session.step_val(label, y);
                Val::Unit
            }
            (Builtin::Len, 1, _, _) => len(x)?,
            _ => return Err(Bail),
        })
    }
}

/// The places of a map literal written so far ([`Run::node`]'s `E::Map`): dropped if
/// an entry's value fails, so that the values already made are not leaked.
struct Partial<'e> {
    places: *mut (Str, Val),
    entries: &'e [(usize, E)],
    written: usize,
}

impl Drop for Partial<'_> {
    fn drop(&mut self) {
        for (at, _) in &self.entries[..self.written] {
            // SAFETY: these places were written (in this order) and not yet handed on.
            unsafe { std::ptr::drop_in_place(self.places.add(*at)) };
        }
    }
}

/// Two numbers for `max`/`min`: each as a decimal to compare, and the value Rhai returns
/// (both integers: an integer; otherwise a decimal).
fn numbers(x: &Val, y: &Val) -> R<((Decimal, Val), (Decimal, Val))> {
    Ok(match (x.view(), y.view()) {
        (V::Int(a), V::Int(b)) => ((Decimal::from(a), Val::Int(a)), (Decimal::from(b), Val::Int(b))),
        (V::Dec(a), V::Dec(b)) => ((a, Val::Dec(a)), (b, Val::Dec(b))),
        (V::Int(a), V::Dec(b)) => ((Decimal::from(a), Val::Dec(Decimal::from(a))), (b, Val::Dec(b))),
        (V::Dec(a), V::Int(b)) => ((a, Val::Dec(a)), (Decimal::from(b), Val::Dec(Decimal::from(b)))),
        _ => return Err(Bail),
    })
}

fn get_prop<'v>(v: &'v Val, key: &Key) -> R<&'v Val> {
    let V::Map(m) = v.view() else { return Err(Bail) };
    let h = key.hint.load(Ordering::Relaxed) as usize;
    if let Some((k, v)) = m.entry_at(h) {
        if let Some(k) = k.as_static() {
            if k.as_ptr() as usize == key.seen.load(Ordering::Relaxed) && k.len() == key.name.len() {
                return Ok(v);
            }
        }
    }
    let (i, v) = m.position(key.name).ok_or(Bail)?;
    key.hint.store(i as u32, Ordering::Relaxed);
    if let Some(k) = m.entry_at(i).and_then(|(k, _)| k.as_static()) {
        key.seen.store(k.as_ptr() as usize, Ordering::Relaxed);
    }
    Ok(v)
}

fn get_index<'v>(v: &'v Val, k: &Val) -> R<&'v Val> {
    match (v.view(), k.view()) {
        (V::Map(m), V::Str(k)) => m.get(k).ok_or(Bail),
        (V::Array(a), V::Int(i)) => usize::try_from(i).ok().and_then(|i| a.get(i)).ok_or(Bail),
        _ => Err(Bail),
    }
}

fn len(v: &Val) -> R<Val> {
    Ok(Val::Int(match v.view() {
        V::Array(a) => a.len() as i64,
        V::Map(m) => m.len() as i64,
        V::Str(s) => s.chars().count() as i64,
        _ => return Err(Bail),
    }))
}

/// Rhai's `contains` on an array: `==` on each element.
fn contains_in(items: &[Val], x: &Val) -> R<bool> {
    for item in items {
        if let V::Bool(true) = binary(Op::Eq, item, x)?.view() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// [`contains_in`] on a constant array: its scalars compared where they are.
fn contains_frozen(items: &[Frozen], x: &Val) -> R<bool> {
    for item in items {
        let hit = match item {
            Frozen::Plain(p) => binary(Op::Eq, p.get(), x)?,
            other => binary(Op::Eq, &other.thaw(), x)?,
        };
        if let V::Bool(true) = hit.view() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Nested elements and string bytes (Rhai's data size).
fn weight(v: &Val) -> (usize, usize) {
    match v.view() {
        V::Str(s) => (0, s.len()),
        V::Array(a) => a.iter().fold((a.len(), 0), |(e, b), x| {
            let (e2, b2) = weight(x);
            (e + e2, b + b2)
        }),
        V::Map(m) => m.iter().fold((m.len(), 0), |(e, b), (_, x)| {
            let (e2, b2) = weight(x);
            (e + e2, b + b2)
        }),
        _ => (0, 0),
    }
}

fn is_numeric(v: &Val) -> bool {
    matches!(v.view(), V::Int(_) | V::Dec(_))
}

/// A comparison, as [`binary`] gives it, without making the `Val::Bool`: the common
/// cases first (two integers, two decimals, two strings).
#[inline]
fn compare(op: Op, x: &Val, y: &Val) -> R<bool> {
    let o = match (x.view(), y.view()) {
        (V::Int(a), V::Int(b)) => a.cmp(&b),
        (V::Dec(a), V::Dec(b)) => a.cmp(&b),
        (V::Str(a), V::Str(b)) if matches!(op, Op::Eq | Op::Ne) => {
            return Ok((a == b) == (op == Op::Eq));
        }
        // `amount > 0`: a decimal against an integer literal, as `binary` widens it.
        (V::Dec(a), V::Int(b)) => a.cmp(&Decimal::from(b)),
        (V::Int(a), V::Dec(b)) => Decimal::from(a).cmp(&b),
        // `x != ()`: unit equals only unit (`binary`'s rule for different types).
        (V::Unit, _) | (_, V::Unit) if matches!(op, Op::Eq | Op::Ne) => {
            return Ok((x.is_unit() && y.is_unit()) == (op == Op::Eq));
        }
        _ => {
            return match binary(op, x, y)?.view() {
                V::Bool(b) => Ok(b),
                _ => Err(Bail),
            }
        }
    };
    op.holds(o).ok_or(Bail)
}

/// A binary operator as Rhai's built-in operators compute it.
fn binary(op: Op, x: &Val, y: &Val) -> R<Val> {
    use std::cmp::Ordering;
    fn cmp(op: Op, o: Ordering) -> Val {
        Val::Bool(op.holds(o).expect("a comparison"))
    }
    let is_cmp = matches!(op, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge);
    Ok(match (x.view(), y.view()) {
        (V::Int(a), V::Int(b)) => {
            if is_cmp {
                cmp(op, a.cmp(&b))
            } else {
                Val::Int(
                    match op {
                        Op::Add => a.checked_add(b),
                        Op::Sub => a.checked_sub(b),
                        Op::Mul => a.checked_mul(b),
                        Op::Div => a.checked_div(b),
                        Op::Rem => a.checked_rem(b),
                        _ => None,
                    }
                    .ok_or(Bail)?,
                )
            }
        }
        (xa @ (V::Dec(_) | V::Int(_)), yb @ (V::Dec(_) | V::Int(_))) => {
            // (two integers were taken above)
            let dec = |v: V<'_>| match v {
                V::Dec(d) => d,
                V::Int(i) => Decimal::from(i),
                _ => unreachable!(),
            };
            let (a, b) = (dec(xa), dec(yb));
            if is_cmp {
                cmp(op, a.cmp(&b))
            } else {
                Val::Dec(
                    match op {
                        Op::Add => a.checked_add(b),
                        Op::Sub => a.checked_sub(b),
                        Op::Mul => a.checked_mul(b),
                        Op::Div if b.is_zero() => None,
                        Op::Div => a.checked_div(b),
                        Op::Rem => a.checked_rem(b),
                        _ => None,
                    }
                    .ok_or(Bail)?,
                )
            }
        }
        (V::Bool(a), V::Bool(b)) if is_cmp => cmp(op, a.cmp(&b)),
        (V::Str(a), V::Str(b)) => {
            if matches!(op, Op::Eq | Op::Ne) {
                Val::Bool((a == b) == (op == Op::Eq))
            } else if is_cmp {
                cmp(op, a.as_str().cmp(b.as_str()))
            } else if op == Op::Add {
                let mut s = String::with_capacity(a.len() + b.len());
                s.push_str(a);
                s.push_str(b);
                Val::Str(Str::from(s))
            } else {
                return Err(Bail);
            }
        }
        (V::Unit, V::Unit) if is_cmp => Val::Bool(op == Op::Eq),
        (V::Unit, V::Str(_)) if op == Op::Add => y.clone(),
        (V::Str(_), V::Unit) if op == Op::Add => x.clone(),
        // Different types, not both numbers: never equal, never ordered.
        _ if is_cmp && !x.same_kind(y) && !(is_numeric(x) && is_numeric(y)) => {
            Val::Bool(op == Op::Ne)
        }
        _ => return Err(Bail),
    })
}
