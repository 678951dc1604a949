//! Generators: scalar floating point and AdvSIMD floating point, with
//! special operands (±0, ±inf, quiet and signalling NaNs, subnormals,
//! extremes) under random FPCR (rounding mode, FZ, DN, AHP).
//!
//! Every case: V0..V3 hold random 128-bit data, the operands are inserted
//! into the low elements of V1..V3 (so upper bits that a scalar operation
//! must ignore, or zero, are live), FPCR is set and FPSR cleared; after the
//! instruction x7 = FPSR and the window at x10 holds Q0 and Q1.

#![allow(unused_imports)]

use std::fmt::Write as _;

use super::prog::{Prog, CONDS};
use super::Rng;

/// (register letter, width in bits) of the scalar formats.
pub const FMTS: [(&str, u32); 2] = [("s", 32), ("d", 64)];

/// A floating-point bit pattern of `width` bits, biased to special values.
pub fn fp_value(rng: &Rng, width: u32) -> u64 {
    let (e, f) = match width {
        16 => (5u32, 10u32),
        32 => (8, 23),
        _ => (11, 52),
    };
    let sign = rng.below(2) << (e + f);
    let exp_max = (1u64 << e) - 1;
    let fmask = (1u64 << f) - 1;
    let bias = (1u64 << (e - 1)) - 1;
    let mag = match rng.below(16) {
        0 => 0,
        1 => exp_max << f,                                                 // inf
        2 => (exp_max << f) | (1 << (f - 1)) | (rng.next() & fmask >> 1),  // qNaN
        3 => (exp_max << f) | 1.max(rng.next() & (fmask >> 1)),            // sNaN
        4 => 1 + rng.below(fmask),                                         // subnormal
        5 => [1, fmask, 1 << (f - 1)][rng.below(3) as usize],              // subnormal edges
        6 => ((exp_max - 1) << f) | fmask,                                 // max normal
        7 => 1 << f,                                                       // min normal
        8 => bias << f,                                                    // 1.0
        9 => ((bias + rng.below(70)) << f) | (rng.next() & fmask & !0xff), // integers-ish
        10 => ((bias - 1) << f) | (1 << (f - 1)),                          // 0.75 style halves
        11 => ((bias + rng.below(8)) << f) | (1 << (f - 1 - rng.below(4) as u32)), // .5 ties
        12 => ((1 + rng.below(3)) << f) | (rng.next() & fmask), // near the subnormal range
        13 => ((bias + 30 + rng.below(36)) << f) | (rng.next() & fmask), // near int limits
        _ => rng.next() & ((1u64 << (e + f)) - 1),
    };
    sign | mag
}

/// A random FPCR: rounding mode, FZ, DN, AHP (FZ16 too: RES0 on an
/// Armv8.0 core, so it must have no effect).
pub fn fpcr(rng: &Rng) -> u64 {
    let mut v = rng.below(4) << 22;
    for bit in [24, 25, 26, 19] {
        if rng.below(3) == 0 {
            v |= 1 << bit;
        }
    }
    v
}

/// FPSR before the instruction: usually clear, sometimes with cumulative
/// flags already set (they must survive: FPSR is never cleared by an
/// instruction).
pub fn fpsr_preset(rng: &Rng) -> u64 {
    if rng.below(4) == 0 {
        rng.next() & 0x0800_009f
    } else {
        0
    }
}

/// Emit one FP case: operands `ops` (x1..x3 = bit patterns) inserted into
/// the low `width` bits of V1..V3.
pub fn fp_case(p: &mut Prog, insn: &str, width: u32, ops: [u64; 3]) {
    let scratch = 1024 + 64 * p.rng.below(64);
    let out = 12288 + 32 * p.rng.below(64);
    let fpcr = fpcr(&p.rng);
    let fpsr = fpsr_preset(&p.rng);
    let ins = match width {
        16 => "    mov v1.h[0], w1\n    mov v2.h[0], w2\n    mov v3.h[0], w3",
        32 => "    mov v1.s[0], w1\n    mov v2.s[0], w2\n    mov v3.s[0], w3",
        _ => "    mov v1.d[0], x1\n    mov v2.d[0], x2\n    mov v3.d[0], x3",
    };
    let body = format!(
        "    ldr x12, =data_area+{scratch}\n    ldp q0, q1, [x12]\n    ldp q2, q3, [x12, #32]\n{ins}\n\
         \x20   ldr x9, ={fpcr:#x}\n    msr fpcr, x9\n    ldr x9, ={fpsr:#x}\n    msr fpsr, x9\n{insn}\n\
         \x20   mrs x7, fpsr\n    msr fpcr, xzr\n    stp q0, q1, [x10]"
    );
    let inputs = [
        ("x1", format!("{:#x}", ops[0])),
        ("x2", format!("{:#x}", ops[1])),
        ("x3", format!("{:#x}", ops[2])),
    ];
    p.case(&body, &inputs, out);
}

fn three(p: &Prog, width: u32) -> [u64; 3] {
    [
        fp_value(&p.rng, width),
        fp_value(&p.rng, width),
        fp_value(&p.rng, width),
    ]
}

pub fn gen_fp_scalar() -> Prog {
    let mut p = Prog::new(0xF9);
    let bin = [
        "fadd", "fsub", "fmul", "fdiv", "fnmul", "fmax", "fmin", "fmaxnm", "fminnm",
    ];
    let un = [
        "fabs", "fneg", "fsqrt", "fmov", "frintn", "frinta", "frintp", "frintm", "frintz",
        "frintx", "frinti",
    ];
    for _ in 0..1800 {
        let &(r, w) = p.rng.pick(&FMTS);
        let ops = three(&p, w);
        let insn = match p.rng.below(8) {
            0..=2 => format!("    {} {r}0, {r}1, {r}2", p.rng.pick(&bin)),
            3 | 4 => format!("    {} {r}0, {r}1", p.rng.pick(&un)),
            5 => format!(
                "    {} {r}0, {r}1, {r}2, {r}3",
                p.rng.pick(&["fmadd", "fmsub", "fnmadd", "fnmsub"])
            ),
            6 => format!("    {} {r}0, {r}1, {r}2", p.rng.pick(&["fmul", "fdiv"])),
            _ => format!("    fmadd {r}1, {r}1, {r}2, {r}3\n    fadd {r}0, {r}1, {r}3"),
        };
        fp_case(&mut p, &insn, w, ops);
    }
    for _ in 0..800 {
        let &(r, w) = p.rng.pick(&FMTS);
        let mut ops = three(&p, w);
        if p.rng.below(4) == 0 {
            ops[1] = ops[0];
        }
        let cond = *p.rng.pick(&CONDS);
        let insn = match p.rng.below(5) {
            0 => format!("    {} {r}1, {r}2", p.rng.pick(&["fcmp", "fcmpe"])),
            1 => format!("    {} {r}1, #0.0", p.rng.pick(&["fcmp", "fcmpe"])),
            2 => format!(
                "    {} {r}1, {r}2, #{}, {cond}",
                p.rng.pick(&["fccmp", "fccmpe"]),
                p.rng.below(16)
            ),
            3 => format!("    fcsel {r}0, {r}1, {r}2, {cond}"),
            _ => format!("    fcmp {r}1, {r}2\n    fcsel {r}0, {r}2, {r}3, {cond}"),
        };
        fp_case(&mut p, &insn, w, ops);
    }
    // Conversions between precisions, half included (Armv8.0 has them).
    let widths = [("h", 16u32), ("s", 32), ("d", 64)];
    for _ in 0..600 {
        let &(from, fw) = p.rng.pick(&widths);
        let &(to, _) = p.rng.pick(&widths);
        if from == to {
            continue;
        }
        let ops = three(&p, fw);
        fp_case(&mut p, &format!("    fcvt {to}0, {from}1"), fw, ops);
    }
    // To integers, incl. fixed point.
    for _ in 0..1200 {
        let &(r, w) = p.rng.pick(&FMTS);
        let ops = three(&p, w);
        let g = *p.rng.pick(&["w", "x"]);
        let insn = if p.rng.below(4) == 0 {
            let fb = 1 + p.rng.below(if g == "w" { 32 } else { 64 });
            format!(
                "    {} {g}0, {r}1, #{fb}",
                p.rng.pick(&["fcvtzs", "fcvtzu"])
            )
        } else {
            let m = p.rng.pick(&["n", "a", "p", "m", "z"]);
            let s = p.rng.pick(&["s", "u"]);
            format!("    fcvt{m}{s} {g}0, {r}1")
        };
        fp_case(&mut p, &insn, w, ops);
    }
    // From integers, incl. fixed point.
    for _ in 0..800 {
        let &(r, w) = p.rng.pick(&FMTS);
        let g = *p.rng.pick(&["w", "x"]);
        let x = p.rng.value();
        let op = *p.rng.pick(&["scvtf", "ucvtf"]);
        let insn = if p.rng.below(3) == 0 {
            let fb = 1 + p.rng.below(if g == "w" { 32 } else { 64 });
            format!("    {op} {r}0, {g}1, #{fb}")
        } else {
            format!("    {op} {r}0, {g}1")
        };
        fp_case(&mut p, &insn, w, [x, 0, 0]);
    }
    // FPCR/FPSR: which bits are writable.
    for _ in 0..20 {
        let v = p.rng.value();
        p.case(
            "    msr fpcr, x1\n    mrs x0, fpcr\n    msr fpsr, x1\n    mrs x2, fpsr\n    msr fpcr, xzr\n    msr fpsr, xzr",
            &[("x1", format!("{v:#x}"))],
            0,
        );
    }
    // FMOV immediate and general.
    for _ in 0..150 {
        let &(r, w) = p.rng.pick(&FMTS);
        let ops = three(&p, w);
        let insn = match p.rng.below(4) {
            0 => {
                let m = 16 + p.rng.below(16);
                let e = p.rng.below(8) as i32 - 3;
                let v = f64::from(m as u32) / 16.0 * 2f64.powi(e);
                let s = if p.rng.below(2) == 0 { "-" } else { "" };
                format!("    fmov {r}0, #{s}{v}")
            }
            1 => "    fmov x0, d1\n    fmov d0, x2\n    fmov w4, s3".to_string(),
            2 => "    fmov x0, v1.d[1]\n    fmov v0.d[1], x2".to_string(),
            _ => "    fmov s0, w1\n    fmov w5, s2".to_string(),
        };
        fp_case(&mut p, &insn, w, ops);
    }
    p
}
