//! Generator: AdvSIMD integer subset and FP register moves.

#![allow(unused_imports)]

use std::fmt::Write as _;

use super::prog::{mem_base, regs, Prog, CONDS, DATA};

const ARR: [(&str, u32, u32); 7] = [
    ("8b", 8, 0),
    ("16b", 8, 1),
    ("4h", 16, 0),
    ("8h", 16, 1),
    ("2s", 32, 0),
    ("4s", 32, 1),
    ("2d", 64, 1),
];

pub fn gen_simd() -> Prog {
    let mut p = Prog::new(0x5D);
    // Every case: v1, v2, v0 loaded from random data at x12; the op; then
    // q0 and q1 stored to the window at x10.
    let emit = |p: &mut Prog, insn: String, x1: Option<u64>| {
        let scratch = 1024 + 64 * p.rng.below(64);
        let out = 12288 + 32 * p.rng.below(64);
        let body = format!(
            "    ldr x12, =data_area+{scratch}\n    ldr q1, [x12]\n    ldr q2, [x12, #16]\n    ldr q0, [x12, #32]\n{insn}\n    str q0, [x10]\n    str q1, [x10, #16]"
        );
        let x1 = x1.map_or_else(
            || format!("{:#x}", p.rng.value()),
            |o| format!("data_area+{o}"),
        );
        p.case(&body, &[("x1", x1)], out);
    };
    for _ in 0..250 {
        let &(t, es, q) = p.rng.pick(&ARR);
        let lanes = if q == 1 { 128 / es } else { 64 / es };
        let ts = ["b", "h", "s", "d"][(es.trailing_zeros() - 3) as usize];
        let r = if es == 64 { "x1" } else { "w1" };
        let i = p.rng.below(u64::from(128 / es));
        let j = p.rng.below(u64::from(128 / es));
        let insn = match p.rng.below(7) {
            0 => format!("    dup v0.{t}, {r}"),
            1 => format!(
                "    dup v0.{t}, v1.{ts}[{}]",
                p.rng.below(u64::from(lanes.min(128 / es)))
            ),
            2 => format!("    mov v0.{ts}[{i}], {r}"),
            3 => format!("    mov v0.{ts}[{i}], v1.{ts}[{j}]"),
            4 if es < 64 => format!("    umov w0, v1.{ts}[{i}]"),
            4 => format!("    umov x0, v1.d[{i}]"),
            5 if es < 32 => format!("    smov w0, v1.{ts}[{i}]\n    smov x2, v1.{ts}[{j}]"),
            5 if es == 32 => format!("    smov x0, v1.s[{i}]"),
            _ => format!("    dup v0.{t}, {r}\n    mov v0.{ts}[{i}], v2.{ts}[{j}]"),
        };
        emit(&mut p, insn, None);
    }
    let fimm = ["1.0", "-2.5", "0.125", "31.0", "-0.1875", "2.0"];
    for _ in 0..200 {
        let imm8 = p.rng.below(256);
        let insn = match p.rng.below(10) {
            0 => format!("    movi v0.{}, #{imm8}", p.rng.pick(&["8b", "16b"])),
            1 => format!(
                "    movi v0.{}, #{imm8}, lsl #{}",
                p.rng.pick(&["2s", "4s"]),
                p.rng.pick(&[0, 8, 16, 24])
            ),
            2 => format!(
                "    mvni v0.{}, #{imm8}, lsl #{}",
                p.rng.pick(&["4h", "8h"]),
                p.rng.pick(&[0, 8])
            ),
            3 => format!(
                "    movi v0.{}, #{imm8}, msl #{}",
                p.rng.pick(&["2s", "4s"]),
                p.rng.pick(&[8, 16])
            ),
            4 => format!("    mvni v0.4s, #{imm8}, msl #{}", p.rng.pick(&[8, 16])),
            5 => {
                let m: u64 = (0..8)
                    .map(|b| {
                        if p.rng.below(2) == 1 {
                            0xffu64 << (8 * b)
                        } else {
                            0
                        }
                    })
                    .sum();
                if p.rng.below(2) == 0 {
                    format!("    movi v0.2d, #{m:#x}")
                } else {
                    format!("    movi d0, #{m:#x}")
                }
            }
            6 => format!(
                "    orr v0.{}, #{imm8}, lsl #{}",
                p.rng.pick(&["2s", "4s"]),
                p.rng.pick(&[0, 8, 16, 24])
            ),
            7 => format!(
                "    bic v0.{}, #{imm8}, lsl #{}",
                p.rng.pick(&["4h", "8h"]),
                p.rng.pick(&[0, 8])
            ),
            8 => format!(
                "    fmov v0.{}, #{}",
                p.rng.pick(&["2s", "4s", "2d"]),
                p.rng.pick(&fimm)
            ),
            _ => format!("    mvni v0.2s, #{imm8}"),
        };
        emit(&mut p, insn, None);
    }
    let three = [
        "add", "sub", "cmeq", "cmtst", "cmgt", "cmhi", "cmge", "cmhs", "smax", "smin", "umax",
        "umin", "addp", "umaxp", "uminp", "smaxp", "sminp", "mul",
    ];
    for _ in 0..700 {
        let op = *p.rng.pick(&three);
        let no_d = matches!(
            op,
            "smax" | "smin" | "umax" | "umin" | "umaxp" | "uminp" | "smaxp" | "sminp" | "mul"
        );
        let &(t, es, q) = p.rng.pick(&ARR);
        if es == 64 && (no_d || q == 0) {
            continue;
        }
        emit(&mut p, format!("    {op} v0.{t}, v1.{t}, v2.{t}"), None);
    }
    for _ in 0..200 {
        let op = *p
            .rng
            .pick(&["and", "bic", "orr", "orn", "eor", "bsl", "bit", "bif"]);
        let t = *p.rng.pick(&["8b", "16b"]);
        emit(&mut p, format!("    {op} v0.{t}, v1.{t}, v2.{t}"), None);
    }
    for _ in 0..400 {
        let &(t, es, q) = p.rng.pick(&ARR[..6]);
        let insn = match p.rng.below(10) {
            0 => format!(
                "    {} v0.{t}, v1.{t}, #0",
                p.rng.pick(&["cmeq", "cmgt", "cmge", "cmle", "cmlt"])
            ),
            1 => format!("    {} v0.{t}, v1.{t}", p.rng.pick(&["abs", "neg"])),
            2 => {
                let b = ["8b", "16b"][q as usize];
                format!("    {} v0.{b}, v1.{b}", p.rng.pick(&["cnt", "not", "rbit"]))
            }
            3 => {
                let b = ["8b", "16b"][q as usize];
                format!("    rev16 v0.{b}, v1.{b}")
            }
            4 if es <= 16 => format!("    rev32 v0.{t}, v1.{t}"),
            5 if es <= 32 => format!("    rev64 v0.{t}, v1.{t}"),
            6 if es <= 32 => {
                let wide = ["8h", "4s", "2d"][(es.trailing_zeros() - 3) as usize];
                let narrow = ["8b", "4h", "2s"][(es.trailing_zeros() - 3) as usize];
                let narrow2 = ["16b", "8h", "4s"][(es.trailing_zeros() - 3) as usize];
                format!("    xtn v0.{narrow}, v1.{wide}\n    xtn2 v0.{narrow2}, v2.{wide}")
            }
            7 if es <= 32 && t != "2s" => {
                let v = if es == 32 {
                    "4s".to_string()
                } else {
                    t.to_string()
                };
                let sz = ["b", "h", "s"][(es.trailing_zeros() - 3) as usize];
                format!(
                    "    {} {sz}0, v1.{v}",
                    p.rng.pick(&["addv", "umaxv", "uminv", "smaxv", "sminv"])
                )
            }
            _ => format!("    cmeq v0.{t}, v1.{t}, #0"),
        };
        emit(&mut p, insn, None);
    }
    for _ in 0..400 {
        let &(t, es, q) = p.rng.pick(&ARR);
        if es == 64 && q == 0 {
            continue;
        }
        let insn = match p.rng.below(6) {
            0 => format!("    shl v0.{t}, v1.{t}, #{}", p.rng.below(u64::from(es))),
            1 => format!(
                "    {} v0.{t}, v1.{t}, #{}",
                p.rng.pick(&["ushr", "sshr", "usra", "ssra"]),
                1 + p.rng.below(u64::from(es))
            ),
            2 | 3 if es <= 32 => {
                let wide = ["8h", "4s", "2d"][(es.trailing_zeros() - 3) as usize];
                let narrow = ["8b", "4h", "2s"][(es.trailing_zeros() - 3) as usize];
                let narrow2 = ["16b", "8h", "4s"][(es.trailing_zeros() - 3) as usize];
                if p.rng.below(2) == 0 {
                    format!("    shrn v0.{narrow}, v1.{wide}, #{}\n    shrn2 v0.{narrow2}, v2.{wide}, #{}", 1 + p.rng.below(u64::from(es)), 1 + p.rng.below(u64::from(es)))
                } else {
                    let u = p.rng.pick(&["u", "s"]);
                    format!("    {u}shll v0.{wide}, v1.{narrow}, #{}\n    {u}shll2 v1.{wide}, v2.{narrow2}, #{}", p.rng.below(u64::from(es)), p.rng.below(u64::from(es)))
                }
            }
            4 => {
                let n = p.rng.below(if q == 1 { 16 } else { 8 });
                let b = ["8b", "16b"][q as usize];
                format!("    ext v0.{b}, v1.{b}, v2.{b}, #{n}")
            }
            _ => format!("    {}xtl v0.8h, v1.8b", p.rng.pick(&["u", "s"])),
        };
        emit(&mut p, insn, None);
    }
    for _ in 0..20 {
        for insn in [
            "    fmov x0, d1\n    fmov d0, x1",
            "    fmov w0, s1\n    fmov s0, w1",
            "    fmov x0, v1.d[1]\n    fmov v0.d[1], x1",
            "    fmov s0, s1\n    fmov d1, d2",
        ] {
            emit(&mut p, insn.to_string(), None);
        }
    }
    for _ in 0..250 {
        let t = *p.rng.pick(&["8b", "16b", "4s", "2d", "1d", "8h"]);
        let n = 1 + p.rng.below(4);
        let first = *p.rng.pick(&[0u64, 30, 31]);
        let list: Vec<String> = (0..n)
            .map(|k| format!("v{}.{t}", (first + k) % 32))
            .collect();
        let list = list.join(", ");
        let bytes = n * if matches!(t, "8b" | "1d") { 8 } else { 16 };
        let base = 1024 + p.rng.below(8000);
        let load = p.rng.below(2) == 0;
        let op = if load { "ld1" } else { "st1" };
        let post = match p.rng.below(3) {
            0 => String::new(),
            1 => format!(", #{bytes}"),
            _ => ", x3".to_string(),
        };
        let pre = if load {
            String::new()
        } else {
            "    ldr q30, [x12, #16]\n    ldr q31, [x12, #32]\n    ldr q3, [x12]\n    ldr q2, [x12, #48]\n".to_string()
        };
        let insn = format!("    ldr x3, ={:#x}\n{pre}    {op} {{{list}}}, [x1]{post}\n    mov x5, x1\n    ldr x4, =data_area+{base}\n    ldp x6, x7, [x4]", p.rng.below(64));
        emit(&mut p, insn, Some(base));
    }
    p
}
