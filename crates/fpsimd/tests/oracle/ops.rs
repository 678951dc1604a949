//! The operations under test: each is one AArch64 instruction (run under QEMU) paired with the
//! fpsimd call that must reproduce its result bits and FPSR flags.

use fpsimd::{Format, Fp, Rounding};

/// Where an operand comes from: an FP register (d0, d1, d2 in order) holding a scalar or a
/// 64-bit vector of FP or integer lanes, or x9/w9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    F(Format),
    Int,
    /// A 64-bit vector of FP lanes (4H or 2S).
    Lanes(Format),
    /// A 64-bit vector of integer lanes of the given width.
    IntLanes(u32),
}

/// Where the result is read: d0 (masked to the format), w9/x9, or NZCV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    F(Format),
    W,
    X,
    Nzcv,
}

/// How operands are generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gen {
    /// Independent values, with the second often related to the first.
    Pair,
    /// Second related to first, addend near the product.
    Fma,
    /// Float to integer conversion operands.
    ToInt,
    /// Integer source operands.
    FromInt,
}

pub type Eval = Box<dyn Fn(&mut Fp, [u64; 3]) -> u64>;

pub struct Op {
    pub name: String,
    pub insn: String,
    pub ins: Vec<In>,
    pub out: Out,
    pub gen: Gen,
    pub eval: Eval,
}

pub const FORMATS: [Format; 3] = [Format::Half, Format::Single, Format::Double];

pub fn reg(fmt: Format) -> char {
    match fmt {
        Format::Half => 'h',
        Format::Single => 's',
        Format::Double => 'd',
    }
}

fn op(name: String, insn: String, ins: Vec<In>, out: Out, gen: Gen, eval: Eval) -> Op {
    Op {
        name,
        insn,
        ins,
        out,
        gen,
        eval,
    }
}

type Bin = fn(&mut Fp, Format, u64, u64) -> u64;
type Un = fn(&mut Fp, Format, u64) -> u64;
type Tern = fn(&mut Fp, Format, u64, u64, u64) -> u64;

/// Arithmetic: two-, one- and three-operand instructions in all three formats.
pub fn arith() -> Vec<Op> {
    let binary: [(&str, Bin); 13] = [
        ("fadd", Fp::add),
        ("fsub", Fp::sub),
        ("fmul", Fp::mul),
        ("fdiv", Fp::div),
        ("fmax", Fp::max),
        ("fmin", Fp::min),
        ("fmaxnm", Fp::maxnm),
        ("fminnm", Fp::minnm),
        ("fmulx", Fp::mulx),
        ("fnmul", Fp::nmul),
        ("fabd", Fp::abd),
        ("frecps", Fp::recps),
        ("frsqrts", Fp::rsqrts),
    ];
    let unary: [(&str, Un); 6] = [
        ("fsqrt", Fp::sqrt),
        ("frecpx", Fp::recpx),
        ("frecpe", Fp::recpe),
        ("frsqrte", Fp::rsqrte),
        ("fabs", |_, f, a| f.abs(a)),
        ("fneg", |_, f, a| f.neg(a)),
    ];
    let ternary: [(&str, Tern); 4] = [
        ("fmadd", Fp::fmadd),
        ("fmsub", Fp::fmsub),
        ("fnmadd", Fp::fnmadd),
        ("fnmsub", Fp::fnmsub),
    ];
    let frint: [(&str, Option<Rounding>, bool); 7] = [
        ("frintn", Some(Rounding::TieEven), false),
        ("frinta", Some(Rounding::TieAway), false),
        ("frintp", Some(Rounding::PosInf), false),
        ("frintm", Some(Rounding::NegInf), false),
        ("frintz", Some(Rounding::Zero), false),
        ("frintx", None, true),
        ("frinti", None, false),
    ];
    let mut v = Vec::new();
    for fmt in FORMATS {
        let r = reg(fmt);
        for (m, f) in binary {
            let insn = format!("{m} {r}0, {r}0, {r}1");
            let eval: Eval = Box::new(move |fp, x| f(fp, fmt, x[0], x[1]));
            v.push(op(
                format!("{m}.{r}"),
                insn,
                vec![In::F(fmt); 2],
                Out::F(fmt),
                Gen::Pair,
                eval,
            ));
        }
        for (m, f) in unary {
            let insn = format!("{m} {r}0, {r}0");
            let eval: Eval = Box::new(move |fp, x| f(fp, fmt, x[0]));
            v.push(op(
                format!("{m}.{r}"),
                insn,
                vec![In::F(fmt)],
                Out::F(fmt),
                Gen::Pair,
                eval,
            ));
        }
        for (m, rm, exact) in frint {
            let insn = format!("{m} {r}0, {r}0");
            let eval: Eval = Box::new(move |fp, x| {
                let rm = rm.unwrap_or(fp.rounding());
                fp.round_int(fmt, x[0], rm, exact)
            });
            v.push(op(
                format!("{m}.{r}"),
                insn,
                vec![In::F(fmt)],
                Out::F(fmt),
                Gen::ToInt,
                eval,
            ));
        }
        for (m, f) in ternary {
            let insn = format!("{m} {r}0, {r}0, {r}1, {r}2");
            let eval: Eval = Box::new(move |fp, x| f(fp, fmt, x[0], x[1], x[2]));
            v.push(op(
                format!("{m}.{r}"),
                insn,
                vec![In::F(fmt); 3],
                Out::F(fmt),
                Gen::Fma,
                eval,
            ));
        }
    }
    v
}

/// FMOV (immediate) for every 8-bit immediate: checks `VFPExpandImm`.
pub fn fmov_imm() -> Vec<Op> {
    let mut v = Vec::new();
    for fmt in FORMATS {
        let r = reg(fmt);
        for imm in 0..=255u8 {
            let value = fpsimd::expand_imm(fmt, imm);
            // The assembler takes the immediate as a decimal value; print it exactly.
            let text = exact_decimal(imm);
            let eval: Eval = Box::new(move |_, _| value);
            let name = format!("fmov.{r}#{imm:#04x}");
            v.push(op(
                name,
                format!("fmov {r}0, #{text}"),
                vec![],
                Out::F(fmt),
                Gen::Pair,
                eval,
            ));
        }
    }
    v
}

/// The value encoded by an FMOV imm8, as an exact decimal string: (-1)^s * (16+f)/16 * 2^(e).
fn exact_decimal(imm: u8) -> String {
    let sign = if imm & 0x80 != 0 { "-" } else { "" };
    let b6 = (imm >> 6) & 1;
    let xx = i32::from(imm >> 4) & 3;
    let e = if b6 == 0 { xx + 1 } else { xx - 3 };
    // Value = (16 + frac) * 2^(e - 4) with e in -3..=4; scale by 2^7 to make it an integer.
    let num = (16 + u32::from(imm & 0xF)) << (e + 3);
    let int = num / 128;
    let rem = num % 128;
    // rem / 128 has at most 7 binary digits: exact in 7 decimal digits.
    format!("{sign}{int}.{:07}", u64::from(rem) * 10_000_000 / 128)
}

/// Comparisons: FCMP/FCMPE (NZCV), scalar FCMxx/FACxx masks, and the #0.0 forms.
pub fn compare() -> Vec<Op> {
    let mut v = Vec::new();
    for fmt in FORMATS {
        let r = reg(fmt);
        for (m, signal) in [("fcmp", false), ("fcmpe", true)] {
            let insn = format!("{m} {r}0, {r}1\\n\\tmrs x9, nzcv");
            let eval: Eval = Box::new(move |fp, x| u64::from(fp.compare(fmt, x[0], x[1], signal)));
            v.push(op(
                format!("{m}.{r}"),
                insn,
                vec![In::F(fmt); 2],
                Out::Nzcv,
                Gen::Pair,
                eval,
            ));
            let insn = format!("{m} {r}0, #0.0\\n\\tmrs x9, nzcv");
            let eval: Eval = Box::new(move |fp, x| u64::from(fp.compare(fmt, x[0], 0, signal)));
            v.push(op(
                format!("{m}0.{r}"),
                insn,
                vec![In::F(fmt)],
                Out::Nzcv,
                Gen::Pair,
                eval,
            ));
        }
        type Pred = fn(&mut Fp, Format, u64, u64) -> bool;
        let preds: [(&str, Pred); 5] = [
            ("fcmeq", Fp::cmeq),
            ("fcmge", Fp::cmge),
            ("fcmgt", Fp::cmgt),
            ("facge", Fp::acge),
            ("facgt", Fp::acgt),
        ];
        let mask = move |b: bool| if b { fmt.mask() } else { 0 };
        for (m, p) in preds {
            let insn = format!("{m} {r}0, {r}0, {r}1");
            let eval: Eval = Box::new(move |fp, x| mask(p(fp, fmt, x[0], x[1])));
            v.push(op(
                format!("{m}.{r}"),
                insn,
                vec![In::F(fmt); 2],
                Out::F(fmt),
                Gen::Pair,
                eval,
            ));
        }
        // Against zero: (mnemonic, predicate, zero is the first operand).
        let zero_forms: [(&str, Pred, bool); 5] = [
            ("fcmeq", Fp::cmeq, false),
            ("fcmge", Fp::cmge, false),
            ("fcmgt", Fp::cmgt, false),
            ("fcmle", Fp::cmge, true),
            ("fcmlt", Fp::cmgt, true),
        ];
        for (m, p, swap) in zero_forms {
            let insn = format!("{m} {r}0, {r}0, #0.0");
            let eval: Eval = Box::new(move |fp, x| {
                let (a, b) = if swap { (0, x[0]) } else { (x[0], 0) };
                mask(p(fp, fmt, a, b))
            });
            v.push(op(
                format!("{m}0.{r}"),
                insn,
                vec![In::F(fmt)],
                Out::F(fmt),
                Gen::Pair,
                eval,
            ));
        }
    }
    v
}

/// Conversions: FCVT between formats, FCVTXN, FCVT*S/U (incl. fixed point), SCVTF/UCVTF.
pub fn convert() -> Vec<Op> {
    let mut v = Vec::new();
    for from in FORMATS {
        for to in FORMATS {
            if from == to {
                continue;
            }
            let insn = format!("fcvt {}0, {}0", reg(to), reg(from));
            let eval: Eval = Box::new(move |fp, x| fp.convert(from, to, x[0]));
            let name = format!("fcvt.{}{}", reg(to), reg(from));
            v.push(op(
                name,
                insn,
                vec![In::F(from)],
                Out::F(to),
                Gen::Pair,
                eval,
            ));
        }
    }
    let eval: Eval =
        Box::new(|fp, x| fp.convert_rounding(Format::Double, Format::Single, x[0], Rounding::Odd));
    let fcvtxn = op(
        "fcvtxn.sd".into(),
        "fcvtxn s0, d0".into(),
        vec![In::F(Format::Double)],
        Out::F(Format::Single),
        Gen::Pair,
        eval,
    );
    v.push(fcvtxn);
    let modes: [(char, Rounding); 5] = [
        ('n', Rounding::TieEven),
        ('a', Rounding::TieAway),
        ('p', Rounding::PosInf),
        ('m', Rounding::NegInf),
        ('z', Rounding::Zero),
    ];
    for fmt in FORMATS {
        let r = reg(fmt);
        for (ir, bits, out) in [('w', 32u32, Out::W), ('x', 64, Out::X)] {
            for unsigned in [false, true] {
                let su = if unsigned { 'u' } else { 's' };
                for (mc, rm) in modes {
                    let insn = format!("fcvt{mc}{su} {ir}9, {r}0");
                    let eval: Eval =
                        Box::new(move |fp, x| fp.to_int(fmt, x[0], unsigned, bits, rm));
                    let name = format!("fcvt{mc}{su}.{ir}{r}");
                    v.push(op(name, insn, vec![In::F(fmt)], out, Gen::ToInt, eval));
                }
                for fbits in [1, bits / 2 + 1, bits] {
                    let insn = format!("fcvtz{su} {ir}9, {r}0, #{fbits}");
                    let eval: Eval = Box::new(move |fp, x| {
                        fp.to_fixed(fmt, x[0], fbits, unsigned, bits, Rounding::Zero)
                    });
                    let name = format!("fcvtz{su}.{ir}{r}#{fbits}");
                    v.push(op(name, insn, vec![In::F(fmt)], out, Gen::ToInt, eval));
                }
                let signed = !unsigned;
                let cv = if unsigned { "ucvtf" } else { "scvtf" };
                let insn = format!("{cv} {r}0, {ir}9");
                let eval: Eval = Box::new(move |fp, x| fp.from_int(fmt, x[0], bits, signed));
                v.push(op(
                    format!("{cv}.{r}{ir}"),
                    insn,
                    vec![In::Int],
                    Out::F(fmt),
                    Gen::FromInt,
                    eval,
                ));
                for fbits in [1, bits / 2 + 1, bits] {
                    let insn = format!("{cv} {r}0, {ir}9, #{fbits}");
                    let eval: Eval = Box::new(move |fp, x| {
                        let rm = fp.rounding();
                        fp.from_fixed(fmt, x[0], bits, signed, fbits, rm)
                    });
                    let name = format!("{cv}.{r}{ir}#{fbits}");
                    v.push(op(
                        name,
                        insn,
                        vec![In::Int],
                        Out::F(fmt),
                        Gen::FromInt,
                        eval,
                    ));
                }
            }
        }
    }
    v
}
