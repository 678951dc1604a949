//! Generators: AdvSIMD integer groups routed to the `simd` crate (three
//! same/different, two-register misc, across, shifts, by element,
//! permutes, TBL/TBX, scalar forms) and AdvSIMD floating point (vector,
//! scalar, pairwise, across, conversions, by element).

#![allow(unused_imports)]

use std::fmt::Write as _;

use super::gen_fp::{fp_value, fpcr, fpsr_preset};
use super::prog::{Prog, CONDS};

const BHS: [&str; 6] = ["8b", "16b", "4h", "8h", "2s", "4s"];
const BHSD: [&str; 7] = ["8b", "16b", "4h", "8h", "2s", "4s", "2d"];
const HS: [&str; 4] = ["4h", "8h", "2s", "4s"];

fn ebits(t: &str) -> u64 {
    match t.as_bytes().last() {
        Some(b'b') => 8,
        Some(b'h') => 16,
        Some(b's') => 32,
        _ => 64,
    }
}

/// The arrangement with elements twice as wide and the same total as a
/// 128-bit register (`8b`/`16b` -> `8h`).
fn wide(t: &str) -> &'static str {
    match ebits(t) {
        8 => "8h",
        16 => "4s",
        _ => "2d",
    }
}

/// Narrow arrangements: (64-bit form, "2" form).
fn narrow(t: &str) -> (&'static str, &'static str) {
    match ebits(t) {
        8 => ("8b", "16b"),
        16 => ("4h", "8h"),
        _ => ("2s", "4s"),
    }
}

/// Every case: V0..V5 loaded from random data (x12), the op, FPSR (QC)
/// in x7; the window at x10 holds Q0 and Q1.
fn emit(p: &mut Prog, insn: &str) {
    let scratch = 1024 + 64 * p.rng.below(100);
    let out = 12288 + 32 * p.rng.below(64);
    let fpsr = fpsr_preset(&p.rng);
    let body = format!(
        "    ldr x12, =data_area+{scratch}\n    ldp q0, q1, [x12]\n    ldp q2, q3, [x12, #32]\n\
         \x20   ldp q4, q5, [x12, #64]\n    ldr x9, ={fpsr:#x}\n    msr fpsr, x9\n{insn}\n    mrs x7, fpsr\n    stp q0, q1, [x10]"
    );
    let v = format!("{:#x}", p.rng.value());
    p.case(&body, &[("x1", v)], out);
}

pub fn gen_simd_int() -> Prog {
    let mut p = Prog::new(0x5E);
    let same_bhs = [
        "shadd", "uhadd", "srhadd", "urhadd", "shsub", "uhsub", "smax", "umax", "smin", "umin",
        "sabd", "uabd", "saba", "uaba", "mla", "mls", "mul", "smaxp", "umaxp", "sminp", "uminp",
    ];
    let same_bhsd = [
        "sqadd", "uqadd", "sqsub", "uqsub", "cmgt", "cmhi", "cmge", "cmhs", "sshl", "ushl",
        "sqshl", "uqshl", "srshl", "urshl", "sqrshl", "uqrshl", "add", "sub", "cmtst", "cmeq",
        "addp", "zip1", "zip2", "uzp1", "uzp2", "trn1", "trn2",
    ];
    for _ in 0..1500 {
        let insn = match p.rng.below(6) {
            0 | 1 => {
                let t = p.rng.pick(&BHS);
                format!("    {} v0.{t}, v1.{t}, v2.{t}", p.rng.pick(&same_bhs))
            }
            2 | 3 => {
                let t = p.rng.pick(&BHSD);
                format!("    {} v0.{t}, v1.{t}, v2.{t}", p.rng.pick(&same_bhsd))
            }
            4 => {
                let t = p.rng.pick(&HS);
                format!(
                    "    {} v0.{t}, v1.{t}, v2.{t}",
                    p.rng.pick(&["sqdmulh", "sqrdmulh"])
                )
            }
            _ => {
                let t = p.rng.pick(&["8b", "16b"]);
                format!("    pmul v0.{t}, v1.{t}, v2.{t}")
            }
        };
        emit(&mut p, &insn);
    }
    // Two-register misc.
    for _ in 0..1000 {
        let insn = match p.rng.below(8) {
            0 => {
                let t = p.rng.pick(&BHSD);
                format!(
                    "    {} v0.{t}, v1.{t}",
                    p.rng
                        .pick(&["abs", "neg", "sqabs", "sqneg", "suqadd", "usqadd"])
                )
            }
            1 => {
                let t = p.rng.pick(&BHSD);
                format!(
                    "    {} v0.{t}, v1.{t}, #0",
                    p.rng.pick(&["cmgt", "cmge", "cmeq", "cmle", "cmlt"])
                )
            }
            2 => {
                let t = p.rng.pick(&BHS);
                format!(
                    "    {} v0.{t}, v1.{t}",
                    p.rng.pick(&["cls", "clz", "rev64"])
                )
            }
            3 => {
                let t = p.rng.pick(&["8b", "16b"]);
                format!(
                    "    {} v0.{t}, v1.{t}",
                    p.rng.pick(&["cnt", "not", "rbit", "rev16", "rev32"])
                )
            }
            4 => {
                let t = p.rng.pick(&BHS);
                let w = ["4h", "8h", "2s", "4s", "1d", "2d"]
                    [BHS.iter().position(|x| x == t).unwrap_or(0)];
                format!(
                    "    {} v0.{w}, v1.{t}",
                    p.rng.pick(&["saddlp", "uaddlp", "sadalp", "uadalp"])
                )
            }
            5 => {
                let t = *p.rng.pick(&["8b", "4h", "2s"]);
                let (n, n2) = narrow(t);
                let w = wide(t);
                let op = p.rng.pick(&["xtn", "sqxtn", "uqxtn", "sqxtun"]);
                format!("    {op} v0.{n}, v1.{w}\n    {op}2 v0.{n2}, v2.{w}")
            }
            6 => {
                let t = *p.rng.pick(&["8b", "16b", "4h", "8h", "4s"]);
                let r = ["b", "h", "s"][(ebits(t).trailing_zeros() - 3) as usize];
                format!(
                    "    {} {r}0, v1.{t}",
                    p.rng.pick(&["addv", "smaxv", "umaxv", "sminv", "uminv"])
                )
            }
            _ => {
                let t = *p.rng.pick(&["8b", "16b", "4h", "8h", "4s"]);
                let r = ["h", "s", "d"][(ebits(t).trailing_zeros() - 3) as usize];
                format!("    {} {r}0, v1.{t}", p.rng.pick(&["saddlv", "uaddlv"]))
            }
        };
        emit(&mut p, &insn);
    }
    // Shifts by immediate.
    for _ in 0..1000 {
        let insn = match p.rng.below(5) {
            0 => {
                let t = p.rng.pick(&BHSD);
                let es = ebits(t);
                format!(
                    "    {} v0.{t}, v1.{t}, #{}",
                    p.rng.pick(&[
                        "sshr", "ushr", "srshr", "urshr", "ssra", "usra", "srsra", "ursra", "sri"
                    ]),
                    1 + p.rng.below(es)
                )
            }
            1 => {
                let t = p.rng.pick(&BHSD);
                let es = ebits(t);
                format!(
                    "    {} v0.{t}, v1.{t}, #{}",
                    p.rng.pick(&["shl", "sli", "sqshl", "uqshl", "sqshlu"]),
                    p.rng.below(es)
                )
            }
            2 => {
                let t = *p.rng.pick(&["8b", "4h", "2s"]);
                let (n, n2) = narrow(t);
                let w = wide(t);
                let es = ebits(t);
                let op = p.rng.pick(&[
                    "shrn", "rshrn", "sqshrn", "uqshrn", "sqrshrn", "uqrshrn", "sqshrun",
                    "sqrshrun",
                ]);
                format!(
                    "    {op} v0.{n}, v1.{w}, #{}\n    {op}2 v0.{n2}, v2.{w}, #{}",
                    1 + p.rng.below(es),
                    1 + p.rng.below(es)
                )
            }
            3 => {
                let t = *p.rng.pick(&["8b", "4h", "2s"]);
                let (_, n2) = narrow(t);
                let w = wide(t);
                let es = ebits(t);
                let op = p.rng.pick(&["sshll", "ushll"]);
                format!(
                    "    {op} v0.{w}, v1.{t}, #{}\n    {op}2 v1.{w}, v2.{n2}, #{}",
                    p.rng.below(es),
                    p.rng.below(es)
                )
            }
            _ => {
                let n = p.rng.below(16);
                format!("    ext v0.16b, v1.16b, v2.16b, #{n}")
            }
        };
        emit(&mut p, &insn);
    }
    // Three different and by element.
    let long = [
        "saddl", "uaddl", "ssubl", "usubl", "sabal", "uabal", "sabdl", "uabdl", "smlal", "umlal",
        "smlsl", "umlsl", "smull", "umull",
    ];
    for _ in 0..1000 {
        let t = *p.rng.pick(&["8b", "4h", "2s"]);
        let (n, n2) = narrow(t);
        let w = wide(t);
        let two = if p.rng.below(2) == 0 { "" } else { "2" };
        let nt = if two.is_empty() { n } else { n2 };
        let insn = match p.rng.below(7) {
            0 | 1 => format!("    {}{two} v0.{w}, v1.{nt}, v2.{nt}", p.rng.pick(&long)),
            2 => format!(
                "    {}{two} v0.{w}, v1.{w}, v2.{nt}",
                p.rng.pick(&["saddw", "uaddw", "ssubw", "usubw"])
            ),
            3 => format!(
                "    {}{two} v0.{nt}, v1.{w}, v2.{w}",
                p.rng.pick(&["addhn", "raddhn", "subhn", "rsubhn"])
            ),
            4 if t != "8b" => format!(
                "    {}{two} v0.{w}, v1.{nt}, v2.{nt}",
                p.rng.pick(&["sqdmull", "sqdmlal", "sqdmlsl"])
            ),
            4 => format!("    pmull{two} v0.8h, v1.{nt}, v2.{nt}"),
            5 => {
                let t = *p.rng.pick(&HS);
                let (e, i, m) = if ebits(t) == 16 {
                    ("h", p.rng.below(8), p.rng.below(16))
                } else {
                    ("s", p.rng.below(4), p.rng.below(32))
                };
                let m = if m >= 6 { m } else { 2 };
                format!(
                    "    {} v0.{t}, v1.{t}, v{m}.{e}[{i}]",
                    p.rng.pick(&["mul", "mla", "mls", "sqdmulh", "sqrdmulh"])
                )
            }
            _ => {
                let (t, e, i) = if t == "8b" {
                    ("4h", "h", p.rng.below(8))
                } else {
                    (
                        t,
                        if t == "4h" { "h" } else { "s" },
                        p.rng.below(if t == "4h" { 8 } else { 4 }),
                    )
                };
                let (n, n2) = narrow(t);
                let nt = if two.is_empty() { n } else { n2 };
                format!(
                    "    {}{two} v0.{}, v1.{nt}, v2.{e}[{i}]",
                    p.rng.pick(&[
                        "smull", "umull", "smlal", "umlal", "smlsl", "umlsl", "sqdmull", "sqdmlal",
                        "sqdmlsl"
                    ]),
                    wide(t)
                )
            }
        };
        emit(&mut p, &insn);
    }
    // TBL/TBX, scalar forms, scalar copy.
    for _ in 0..1000 {
        let insn = match p.rng.below(10) {
            0 => {
                let t = p.rng.pick(&["8b", "16b"]);
                let n = 1 + p.rng.below(4);
                let list: Vec<String> = (0..n).map(|k| format!("v{}.16b", 1 + k)).collect();
                // Indices: mostly in range, some beyond the table.
                format!(
                    "    movi v5.16b, #{}\n    and v5.16b, v5.16b, v0.16b\n    {} v0.{t}, {{{}}}, v5.{t}",
                    [0x3f, 0x1f, 0x7f, 0xff][p.rng.below(4) as usize],
                    p.rng.pick(&["tbl", "tbx"]),
                    list.join(", ")
                )
            }
            1 => format!(
                "    {} d0, d1, d2",
                p.rng.pick(&[
                    "add", "sub", "cmeq", "cmtst", "cmgt", "cmhi", "cmge", "cmhs", "sshl", "ushl",
                    "srshl", "urshl"
                ])
            ),
            2 => {
                let r = p.rng.pick(&["b", "h", "s", "d"]);
                format!(
                    "    {} {r}0, {r}1, {r}2",
                    p.rng.pick(&[
                        "sqadd", "uqadd", "sqsub", "uqsub", "sqshl", "uqshl", "sqrshl", "uqrshl"
                    ])
                )
            }
            3 => {
                let r = p.rng.pick(&["h", "s"]);
                format!(
                    "    {} {r}0, {r}1, {r}2",
                    p.rng.pick(&["sqdmulh", "sqrdmulh"])
                )
            }
            4 => {
                let r = p.rng.pick(&["b", "h", "s", "d"]);
                format!(
                    "    {} {r}0, {r}1",
                    p.rng.pick(&["sqabs", "sqneg", "suqadd", "usqadd"])
                )
            }
            5 => format!(
                "    {} d0, d1{}",
                p.rng
                    .pick(&["abs", "neg", "cmgt", "cmge", "cmeq", "cmle", "cmlt"]),
                ""
            )
            .replace("cmgt d0, d1", "cmgt d0, d1, #0")
            .replace("cmge d0, d1", "cmge d0, d1, #0")
            .replace("cmeq d0, d1", "cmeq d0, d1, #0")
            .replace("cmle d0, d1", "cmle d0, d1, #0")
            .replace("cmlt d0, d1", "cmlt d0, d1, #0"),
            6 => {
                let (n, w) = *p.rng.pick(&[("b", "h"), ("h", "s"), ("s", "d")]);
                format!(
                    "    {} {n}0, {w}1",
                    p.rng.pick(&["sqxtn", "uqxtn", "sqxtun"])
                )
            }
            7 => {
                let k = p.rng.below(4);
                match k {
                    0 => format!(
                        "    {} d0, d1, #{}",
                        p.rng.pick(&[
                            "sshr", "ushr", "srshr", "urshr", "ssra", "usra", "srsra", "ursra",
                            "sri"
                        ]),
                        1 + p.rng.below(64)
                    ),
                    1 => format!(
                        "    {} d0, d1, #{}",
                        p.rng.pick(&["shl", "sli"]),
                        p.rng.below(64)
                    ),
                    2 => {
                        let (r, es) = *p.rng.pick(&[("b", 8), ("h", 16), ("s", 32), ("d", 64)]);
                        format!(
                            "    {} {r}0, {r}1, #{}",
                            p.rng.pick(&["sqshl", "uqshl", "sqshlu"]),
                            p.rng.below(es)
                        )
                    }
                    _ => {
                        let (n, w, es) =
                            *p.rng.pick(&[("b", "h", 8), ("h", "s", 16), ("s", "d", 32)]);
                        format!(
                            "    {} {n}0, {w}1, #{}",
                            p.rng.pick(&[
                                "sqshrn", "uqshrn", "sqrshrn", "uqrshrn", "sqshrun", "sqrshrun"
                            ]),
                            1 + p.rng.below(es)
                        )
                    }
                }
            }
            8 => match p.rng.below(4) {
                0 => "    addp d0, v1.2d".to_string(),
                1 => {
                    let (n, w) = *p.rng.pick(&[("h", "s"), ("s", "d")]);
                    format!(
                        "    {} {w}0, {n}1, {n}2",
                        p.rng.pick(&["sqdmull", "sqdmlal", "sqdmlsl"])
                    )
                }
                2 => {
                    let (n, w, lanes) = *p.rng.pick(&[("h", "s", 8), ("s", "d", 4)]);
                    let i = p.rng.below(lanes);
                    if p.rng.below(2) == 0 {
                        format!(
                            "    {} {w}0, {n}1, v2.{n}[{i}]",
                            p.rng.pick(&["sqdmull", "sqdmlal", "sqdmlsl"])
                        )
                    } else {
                        format!(
                            "    {} {n}0, {n}1, v2.{n}[{i}]",
                            p.rng.pick(&["sqdmulh", "sqrdmulh"])
                        )
                    }
                }
                _ => {
                    let t = *p.rng.pick(&["8b", "4h", "2s"]);
                    let (_, n2) = narrow(t);
                    let es = ebits(t);
                    format!(
                        "    shll v0.{w}, v1.{t}, #{es}\n    shll2 v1.{w}, v2.{n2}, #{es}",
                        w = wide(t)
                    )
                }
            },
            _ => {
                let (r, n) = *p.rng.pick(&[("b", 16), ("h", 8), ("s", 4), ("d", 2)]);
                format!("    mov {r}0, v1.{r}[{}]", p.rng.below(n))
            }
        };
        emit(&mut p, &insn);
    }
    p
}

/// FP vector case: V1, V2, V0 filled lane by lane with special values of
/// `width` bits (x1..x6), random FPCR, FPSR in x7.
fn fp_vec_case(p: &mut Prog, insn: &str, width: u32) {
    let mut words = [0u64; 6];
    for w in &mut words {
        *w = if width == 64 {
            fp_value(&p.rng, 64)
        } else {
            fp_value(&p.rng, 32) | (fp_value(&p.rng, 32) << 32)
        };
    }
    let out = 12288 + 32 * p.rng.below(64);
    let fpcr = fpcr(&p.rng);
    let fpsr = fpsr_preset(&p.rng);
    let body = format!(
        "    fmov d1, x1\n    mov v1.d[1], x2\n    fmov d2, x3\n    mov v2.d[1], x4\n    fmov d0, x5\n    mov v0.d[1], x6\n\
         \x20   ldr x9, ={fpcr:#x}\n    msr fpcr, x9\n    ldr x9, ={fpsr:#x}\n    msr fpsr, x9\n{insn}\n\
         \x20   mrs x7, fpsr\n    msr fpcr, xzr\n    stp q0, q1, [x10]"
    );
    let inputs: Vec<(&str, String)> = ["x1", "x2", "x3", "x4", "x5", "x6"]
        .iter()
        .zip(words)
        .map(|(r, w)| (*r, format!("{w:#x}")))
        .collect();
    p.case(&body, &inputs, out);
}

pub fn gen_fp_vec() -> Prog {
    let mut p = Prog::new(0xFA);
    let three = [
        "fadd", "fsub", "fmul", "fdiv", "fmax", "fmin", "fmaxnm", "fminnm", "fabd", "fmulx",
        "frecps", "frsqrts", "fmla", "fmls", "fcmeq", "fcmge", "fcmgt", "facge", "facgt", "faddp",
        "fmaxp", "fminp", "fmaxnmp", "fminnmp",
    ];
    let two = [
        "fabs", "fneg", "fsqrt", "frintn", "frinta", "frintp", "frintm", "frintz", "frintx",
        "frinti", "fcvtns", "fcvtnu", "fcvtas", "fcvtau", "fcvtps", "fcvtpu", "fcvtms", "fcvtmu",
        "fcvtzs", "fcvtzu", "scvtf", "ucvtf", "frecpe", "frsqrte",
    ];
    let arr = [("2s", 32u32), ("4s", 32), ("2d", 64)];
    for _ in 0..3600 {
        let &(t, w) = p.rng.pick(&arr);
        let (s, sw) = if w == 64 { ("d", 64u32) } else { ("s", 32u32) };
        let e = if w == 64 { "d" } else { "s" };
        let insn = match p.rng.below(12) {
            0..=3 => format!("    {} v0.{t}, v1.{t}, v2.{t}", p.rng.pick(&three)),
            4..=6 => format!("    {} v0.{t}, v1.{t}", p.rng.pick(&two)),
            7 => format!(
                "    {} v0.{t}, v1.{t}, #0.0",
                p.rng.pick(&["fcmeq", "fcmge", "fcmgt", "fcmle", "fcmlt"])
            ),
            8 => {
                let fb = 1 + p.rng.below(u64::from(w));
                format!(
                    "    {} v0.{t}, v1.{t}, #{fb}",
                    p.rng.pick(&["scvtf", "ucvtf", "fcvtzs", "fcvtzu"])
                )
            }
            9 => {
                let i = p.rng.below(if w == 64 { 2 } else { 4 });
                let m = *p.rng.pick(&[2, 17]);
                let pre = if m == 17 {
                    "    mov v17.16b, v2.16b\n"
                } else {
                    ""
                };
                if p.rng.below(2) == 0 {
                    format!(
                        "{pre}    {} v0.{t}, v1.{t}, v{m}.{e}[{i}]",
                        p.rng.pick(&["fmla", "fmls", "fmul", "fmulx"])
                    )
                } else {
                    format!(
                        "{pre}    {} {s}0, {s}1, v{m}.{e}[{i}]",
                        p.rng.pick(&["fmla", "fmls", "fmul", "fmulx"])
                    )
                }
            }
            10 => match p.rng.below(4) {
                0 => format!(
                    "    {} {s}0, {s}1, {s}2",
                    p.rng.pick(&[
                        "fabd", "fmulx", "frecps", "frsqrts", "fcmeq", "fcmge", "fcmgt", "facge",
                        "facgt"
                    ])
                ),
                1 => format!(
                    "    {} {s}0, {s}1",
                    p.rng.pick(&[
                        "fcvtns", "fcvtzu", "fcvtas", "fcvtpu", "fcvtms", "scvtf", "ucvtf",
                        "frecpe", "frsqrte", "frecpx"
                    ])
                ),
                2 => format!(
                    "    {} {s}0, {s}1, #{}",
                    p.rng.pick(&["scvtf", "ucvtf", "fcvtzs", "fcvtzu"]),
                    1 + p.rng.below(u64::from(sw))
                ),
                _ => format!(
                    "    {} {s}0, {s}1, #0.0",
                    p.rng.pick(&["fcmeq", "fcmge", "fcmgt", "fcmle", "fcmlt"])
                ),
            },
            _ => match p.rng.below(4) {
                0 => format!(
                    "    {} s0, v1.4s",
                    p.rng.pick(&["fmaxv", "fminv", "fmaxnmv", "fminnmv"])
                ),
                1 => {
                    let pt = if w == 64 { "2d" } else { "2s" };
                    format!(
                        "    {} {s}0, v1.{pt}",
                        p.rng
                            .pick(&["faddp", "fmaxp", "fminp", "fmaxnmp", "fminnmp"])
                    )
                }
                2 => {
                    let (n, n2, wd) = if w == 64 {
                        ("2s", "4s", "2d")
                    } else {
                        ("4h", "8h", "4s")
                    };
                    if p.rng.below(2) == 0 {
                        format!("    fcvtn v0.{n}, v1.{wd}\n    fcvtn2 v0.{n2}, v2.{wd}")
                    } else {
                        format!("    fcvtl v0.{wd}, v1.{n}\n    fcvtl2 v1.{wd}, v2.{n2}")
                    }
                }
                _ => {
                    if p.rng.below(2) == 0 {
                        "    fcvtxn v0.2s, v1.2d\n    fcvtxn2 v0.4s, v2.2d".to_string()
                    } else {
                        "    fcvtxn s0, d1".to_string()
                    }
                }
            },
        };
        let lanes_w = if insn.contains("fcvtl") && w == 32 {
            16
        } else {
            w
        };
        let _ = lanes_w;
        fp_vec_case(&mut p, &insn, w);
    }
    for _ in 0..100 {
        let t = p.rng.pick(&["2s", "4s"]);
        let insn = format!("    {} v0.{t}, v1.{t}", p.rng.pick(&["urecpe", "ursqrte"]));
        fp_vec_case(&mut p, &insn, 32);
    }
    p
}

/// LD1-LD4/ST1-ST4 (multiple and single structures), LD1R-LD4R, with and
/// without post-index. Loads: x2..x7/x0 show V2, V3, V31, V30 and the
/// window Q0, Q1; stores: the window is the stored memory, x2..x5 the next
/// 32 bytes. x1 is the (post-indexed) base.
pub fn gen_ldst_struct() -> Prog {
    let mut p = Prog::new(0x57);
    let arr = ["8b", "16b", "4h", "8h", "2s", "4s", "1d", "2d"];
    for _ in 0..1500 {
        let load = p.rng.below(2) == 0;
        let first = *p.rng.pick(&[0u64, 0, 0, 30, 31]);
        let (insn, bytes) = match p.rng.below(3) {
            0 => {
                let t = *p.rng.pick(&arr);
                let n = 1 + p.rng.below(4);
                let t = if n > 1 && t == "1d" { "2d" } else { t };
                let ld = if n == 1 || p.rng.below(2) == 0 { 1 } else { n };
                let list: Vec<String> = (0..n)
                    .map(|k| format!("v{}.{t}", (first + k) % 32))
                    .collect();
                let b = n * if matches!(t, "8b" | "4h" | "2s" | "1d") {
                    8
                } else {
                    16
                };
                let op = if load { "ld" } else { "st" };
                (format!("{op}{ld} {{{}}}", list.join(", ")), b)
            }
            1 => {
                let (e, lanes, eb) =
                    *p.rng
                        .pick(&[("b", 16u64, 1u64), ("h", 8, 2), ("s", 4, 4), ("d", 2, 8)]);
                let n = 1 + p.rng.below(4);
                let list: Vec<String> = (0..n)
                    .map(|k| format!("v{}.{e}", (first + k) % 32))
                    .collect();
                let op = if load { "ld" } else { "st" };
                (
                    format!("{op}{n} {{{}}}[{}]", list.join(", "), p.rng.below(lanes)),
                    n * eb,
                )
            }
            _ => {
                let t = *p.rng.pick(&arr);
                let n = 1 + p.rng.below(4);
                let list: Vec<String> = (0..n)
                    .map(|k| format!("v{}.{t}", (first + k) % 32))
                    .collect();
                let eb = match t {
                    "8b" | "16b" => 1,
                    "4h" | "8h" => 2,
                    "2s" | "4s" => 4,
                    _ => 8,
                };
                (format!("ld{n}r {{{}}}", list.join(", ")), n * eb)
            }
        };
        let load = load || insn.starts_with("ld");
        let post = match p.rng.below(3) {
            0 => String::new(),
            1 => format!(", #{bytes}"),
            _ => ", x3".to_string(),
        };
        let base = 1024 + p.rng.below(8000);
        let scratch = 9216 + 64 * p.rng.below(40);
        let pre = format!(
            "    ldr x12, =data_area+{scratch}\n    ldp q0, q1, [x12]\n    ldp q2, q3, [x12, #32]\n    ldp q30, q31, [x12, #16]\n    ldr x3, ={:#x}\n",
            p.rng.below(64)
        );
        let body = if load {
            let out = 12288 + 32 * p.rng.below(64);
            let b = format!(
                "{pre}    {insn}, [x1]{post}\n    fmov x2, d2\n    mov x3, v2.d[1]\n    fmov x4, d3\n    mov x5, v3.d[1]\n\
                 \x20   fmov x6, d31\n    mov x7, v31.d[1]\n    fmov x0, d30\n    stp q0, q1, [x10]"
            );
            p.case(&b, &[("x1", format!("data_area+{base}"))], out);
            continue;
        } else {
            format!("{pre}    {insn}, [x1]{post}\n    ldp x2, x3, [x10, #32]\n    ldp x4, x5, [x10, #48]")
        };
        p.case(&body, &[("x1", format!("data_area+{base}"))], base);
    }
    p
}
