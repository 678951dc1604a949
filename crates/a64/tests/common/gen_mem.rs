//! Generators: loads and stores.

#![allow(unused_imports)]

use std::fmt::Write as _;

use super::prog::{mem_base, regs, Prog, CONDS, DATA};

pub fn gen_ldst_int() -> Prog {
    let mut p = Prog::new(0x15);
    let forms: [(&str, u64, bool); 15] = [
        ("strb w2", 1, true),
        ("strh w2", 2, true),
        ("str w2", 4, true),
        ("str x2", 8, true),
        ("ldrb w0", 1, false),
        ("ldrh w0", 2, false),
        ("ldr w0", 4, false),
        ("ldr x0", 8, false),
        ("ldrsb w0", 1, false),
        ("ldrsb x0", 1, false),
        ("ldrsh w0", 2, false),
        ("ldrsh x0", 2, false),
        ("ldrsw x0", 4, false),
        ("prfm pldl1keep", 8, false),
        ("prfm pstl2strm", 8, false),
    ];
    for _ in 0..1200 {
        let &(op, size, _) = p.rng.pick(&forms);
        let base = mem_base(&mut p, size);
        let val = ("x2", format!("{:#x}", p.rng.value()));
        let mode = p.rng.below(7);
        let prfm = op.starts_with("prfm");
        let (insn, x1) = match mode {
            0 => {
                let imm = p.rng.below(64) * size;
                (format!("    {op}, [x1, #{imm}]"), base)
            }
            1 if !prfm => {
                let imm = p.rng.below(512) as i64 - 256;
                let u = op.replacen("ldr", "ldur", 1).replacen("str", "stur", 1);
                (format!("    {u}, [x1, #{imm}]"), base)
            }
            2 if !prfm => {
                let imm = p.rng.below(512) as i64 - 256;
                (format!("    {op}, [x1, #{imm}]!"), base)
            }
            3 if !prfm => {
                let imm = p.rng.below(512) as i64 - 256;
                (format!("    {op}, [x1], #{imm}"), base)
            }
            4 if !prfm => {
                let imm = p.rng.below(512) as i64 - 256;
                let t = op.replacen("ldr", "ldtr", 1).replacen("str", "sttr", 1);
                (format!("    {t}, [x1, #{imm}]"), base)
            }
            _ => {
                let k = p.rng.below(64);
                let (ext, idx) = match p.rng.below(4) {
                    0 => ("x3, lsl #0", k),
                    1 => ("w3, sxtw", (-(k as i64)) as u64),
                    2 => ("w3, uxtw", k),
                    _ => ("x3, sxtx", k),
                };
                let scaled = p.rng.below(2) == 1 && !ext.starts_with("x3, lsl");
                let sh = size.trailing_zeros();
                let ext = if scaled {
                    format!("{ext} #{sh}")
                } else {
                    ext.to_string()
                };
                let insn = format!("    ldr x3, ={idx:#x}\n    {op}, [x1, {ext}]");
                (insn, base)
            }
        };
        let window = (x1.saturating_sub(8)) & !7;
        p.case(
            &insn,
            &[("x1", format!("data_area+{x1}")), val],
            window.min(DATA - 32),
        );
    }
    // SP as the base register, XZR as the transfer register.
    for _ in 0..120 {
        let base = (1024 + p.rng.below(8192)) & !15;
        let imm = (p.rng.below(32) as i64 - 16) * 16;
        let insn = match p.rng.below(6) {
            0 => format!(
                "    mov sp, x1\n    ldr x0, [sp, #{}]\n    mov x5, sp",
                imm.unsigned_abs()
            ),
            1 => format!("    mov sp, x1\n    str x2, [sp, #{imm}]!\n    mov x5, sp"),
            2 => format!("    mov sp, x1\n    ldp x0, x4, [sp], #{imm}\n    mov x5, sp"),
            3 => "    str xzr, [x1]\n    strb wzr, [x1, #9]".to_string(),
            4 => "    ldr xzr, [x1]\n    ldrb wzr, [x1, #1]!".to_string(),
            _ => format!("    mov sp, x1\n    stp xzr, x2, [sp, #{imm}]\n    ldrsw x3, [sp, #4]"),
        };
        p.case(
            &insn,
            &[
                ("x1", format!("data_area+{base}")),
                ("x2", format!("{:#x}", p.rng.value())),
            ],
            base - 256,
        );
    }
    for _ in 0..40 {
        p.case("    ldr w0, 2f\n    ldr x1, 2f\n    ldrsw x2, 2f\n    prfm pldl1keep, 2f\n    b 3f\n2:  .quad 0x8badf00dfeedface\n3:", &[], 0);
    }
    // A load then CBZ/CBNZ (fused at decode time): zero and non-zero data,
    // the loaded register or another one tested, 32 and 64 bits.
    let loads: [(&str, u64); 4] = [("ldrb w4", 1), ("ldrh w4", 2), ("ldr w4", 4), ("ldr x4", 8)];
    for _ in 0..300 {
        let &(op, size) = p.rng.pick(&loads);
        let base = mem_base(&mut p, size);
        let stored = match p.rng.below(3) {
            0 => 0,
            1 => 1 << (8 * size - 1),
            _ => p.rng.value(),
        };
        let k = p.rng.below(32);
        let (addr, st) = if p.rng.below(2) == 0 {
            let imm = k * size;
            (format!("[x1, #{imm}]"), format!("[x1, #{imm}]"))
        } else {
            let sh = if size > 1 && p.rng.below(2) == 0 {
                format!(", lsl #{}", size.trailing_zeros())
            } else {
                String::new()
            };
            (format!("[x1, x3{sh}]"), format!("[x1, #{}]", k * size))
        };
        let store = match size {
            1 => "strb w2",
            2 => "strh w2",
            4 => "str w2",
            _ => "str x2",
        };
        let tested = match p.rng.below(4) {
            0 => "w5",
            1 => "x4",
            _ => "w4",
        };
        let branch = if p.rng.below(2) == 0 { "cbz" } else { "cbnz" };
        let idx = if addr.contains("lsl") { k } else { k * size };
        p.case(
            &format!(
                "    ldr x3, ={idx:#x}\n    {store}, {st}\n    mov x0, #0\n    {op}, {addr}\n    {branch} {tested}, 2f\n    mov x0, #1\n2:"
            ),
            &[
                ("x1", format!("data_area+{base}")),
                ("x2", format!("{stored:#x}")),
                ("x5", format!("{:#x}", p.rng.below(2) << 32)),
            ],
            (base.saturating_sub(8) & !7).min(DATA - 32),
        );
    }
    p
}

pub fn gen_ldst_pair_excl() -> Prog {
    let mut p = Prog::new(0x16);
    for _ in 0..800 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let size = if sf { 8 } else { 4 };
        let op = *p.rng.pick(&["ldp", "stp", "ldnp", "stnp", "ldpsw"]);
        let r = if op == "ldpsw" { "x" } else { r };
        let size = if op == "ldpsw" { 4 } else { size };
        let base = mem_base(&mut p, size);
        let imm = (p.rng.below(128) as i64 - 64) * size as i64;
        let mode = if op.contains('n') { 0 } else { p.rng.below(3) };
        let addr = match mode {
            0 => format!("[x1, #{imm}]"),
            1 => format!("[x1, #{imm}]!"),
            _ => format!("[x1], #{imm}"),
        };
        let regs2 = if op.starts_with("st") {
            format!("{r}2, {r}3")
        } else {
            format!("{r}0, {r}4")
        };
        let window = ((base as i64 + imm.min(0) - 8).max(0) as u64 & !7).min(DATA - 32);
        let base = base.max(600);
        p.case(
            &format!("    {op} {regs2}, {addr}"),
            &[
                ("x1", format!("data_area+{base}")),
                ("x2", format!("{:#x}", p.rng.value())),
                ("x3", format!("{:#x}", p.rng.value())),
            ],
            window,
        );
    }
    let excl = [
        ("    ldxr x0, [x1]\n    stxr w3, x2, [x1]", 8),
        ("    ldaxr w0, [x1]\n    stlxr w3, w2, [x1]", 4),
        ("    ldxrb w0, [x1]\n    stxrb w3, w2, [x1]", 1),
        ("    ldaxrh w0, [x1]\n    stlxrh w3, w2, [x1]", 2),
        ("    ldxp x0, x4, [x1]\n    stxp w3, x2, x5, [x1]", 16),
        ("    ldaxp w0, w4, [x1]\n    stlxp w3, w2, w5, [x1]", 8),
        ("    ldxr x0, [x1]\n    clrex\n    stxr w3, x2, [x1]", 8),
        ("    stxr w3, x2, [x1]", 8),
        ("    ldar x0, [x1]\n    stlr x2, [x1, #0]", 8),
        ("    ldarb w0, [x1]\n    stlrb w2, [x1]", 1),
        ("    ldarh w0, [x1]\n    stlrh w2, [x1]", 2),
        ("    ldar w0, [x1]\n    stlr w2, [x1]", 4),
    ];
    for _ in 0..20 {
        for &(insn, align) in &excl {
            let base = (1024 + p.rng.below(8192)) & !(align - 1);
            p.case(
                insn,
                &[
                    ("x1", format!("data_area+{base}")),
                    ("x2", format!("{:#x}", p.rng.value())),
                    ("x5", format!("{:#x}", p.rng.value())),
                ],
                base & !7,
            );
        }
    }
    for _ in 0..30 {
        let base = 1024 + p.rng.below(8192);
        p.case(
            "    dc zva, x1",
            &[("x1", format!("data_area+{base}"))],
            (base & !63) + 32 * p.rng.below(2),
        );
    }
    p
}

pub fn gen_ldst_fp() -> Prog {
    let mut p = Prog::new(0x17);
    let sizes = [("b", 1u64), ("h", 2), ("s", 4), ("d", 8), ("q", 16)];
    for _ in 0..800 {
        let &(r, size) = p.rng.pick(&sizes);
        let base = mem_base(&mut p, size);
        let load = p.rng.below(2) == 0;
        let mode = p.rng.below(6);
        let scale = size.trailing_zeros();
        let addr = match mode {
            0 => format!("[x1, #{}]", p.rng.below(32) * size),
            1 => format!("[x1, #{}]!", p.rng.below(512) as i64 - 256),
            2 => format!("[x1], #{}", p.rng.below(512) as i64 - 256),
            3 => format!("[x1, x3, lsl #{scale}]"),
            4 => "[x1, w3, sxtw]".to_string(),
            _ => String::new(),
        };
        let x3 = format!("{:#x}", p.rng.below(64));
        let insn = if mode == 5 {
            let u = if load { "ldur" } else { "stur" };
            format!(
                "    ldr q0, [x12]\n    {u} {r}0, [x1, #{}]\n    str q0, [x12, #32]",
                p.rng.below(512) as i64 - 256
            )
        } else if load {
            format!("    ldr q0, [x12]\n    ldr {r}0, {addr}\n    str q0, [x12, #32]")
        } else {
            format!("    ldr q0, [x12]\n    str {r}0, {addr}\n    ldr q1, [x1, #0]\n    str q1, [x12, #32]")
        };
        // x12: scratch area whose second half the window shows.
        let scratch = 512 + 64 * p.rng.below(4);
        p.case(
            &format!("    ldr x12, =data_area+{scratch}\n{insn}"),
            &[("x1", format!("data_area+{base}")), ("x3", x3)],
            scratch + 32,
        );
    }
    for _ in 0..300 {
        let &(r, size) = p.rng.pick(&sizes[2..]);
        let base = mem_base(&mut p, size);
        let imm = (p.rng.below(64) as i64 - 32) * size as i64;
        let mode = p.rng.below(3);
        let addr = match mode {
            0 => format!("[x1, #{imm}]"),
            1 => format!("[x1, #{imm}]!"),
            _ => format!("[x1], #{imm}"),
        };
        let scratch = 512 + 64 * p.rng.below(4);
        let insn = if p.rng.below(2) == 0 {
            format!("    ldp {r}0, {r}1, {addr}\n    stp {r}0, {r}1, [x12, #32]")
        } else {
            format!(
                "    ldp {r}0, {r}1, [x12]\n    stp {r}0, {r}1, {addr}\n    ldp x4, x5, [x1, #0]"
            )
        };
        p.case(
            &format!("    ldr x12, =data_area+{scratch}\n{insn}"),
            &[("x1", format!("data_area+{}", base.max(1024)))],
            scratch + 32,
        );
    }
    for _ in 0..10 {
        p.case(
            "    ldr q0, 2f\n    ldr d1, 2f\n    ldr s2, 2f\n    b 3f\n    .balign 16\n2:  .quad 0x0123456789abcdef, 0xfedcba9876543210\n3:  stp q0, q1, [x10]",
            &[],
            0,
        );
    }
    p
}
