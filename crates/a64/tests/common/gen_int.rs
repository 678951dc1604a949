//! Generators: data processing, branches, system instructions.

#![allow(unused_imports)]

use a64::exec::dp_imm::decode_bit_masks;

use std::fmt::Write as _;

use super::prog::{mem_base, regs, Prog, CONDS, DATA};

pub fn gen_dp_imm() -> Prog {
    let mut p = Prog::new(0xD1);
    for _ in 0..300 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = *p.rng.pick(&["add", "adds", "sub", "subs"]);
        let imm = p.rng.below(4096);
        let sh = if p.rng.below(2) == 1 { ", lsl #12" } else { "" };
        let v = format!("{:#x}", p.rng.value());
        let s = p.rng.below(4);
        let insn = match s {
            0 if sf && !op.ends_with('s') => format!("    mov sp, x1\n    {op} x0, sp, #{imm}{sh}"),
            1 if sf && !op.ends_with('s') => format!("    {op} sp, x1, #{imm}{sh}\n    mov x0, sp"),
            _ => format!("    {op} {r}0, {r}1, #{imm}{sh}"),
        };
        let v = if s < 2 && sf {
            format!("data_area+{}", p.rng.below(4096) * 16)
        } else {
            v
        };
        p.case(&insn, &[("x1", v)], 0);
    }
    for _ in 0..300 {
        let sf = p.rng.below(2);
        let n = if sf == 1 { p.rng.below(2) as u32 } else { 0 };
        let (immr, imms) = (p.rng.below(64) as u32, p.rng.below(64) as u32);
        let (immr, imms) = if sf == 0 {
            (immr & 31, imms & 31)
        } else {
            (immr, imms)
        };
        if decode_bit_masks(n, imms, immr, true, if sf == 1 { 64 } else { 32 }).is_none() {
            continue;
        }
        let opc = p.rng.below(4) as u32;
        let rn = if p.rng.below(8) == 0 { 31 } else { 1 };
        let word = ((sf as u32) << 31)
            | (opc << 29)
            | (0b100100 << 23)
            | (n << 22)
            | (immr << 16)
            | (imms << 10)
            | (rn << 5);
        let name = ["and", "orr", "eor", "ands"][opc as usize];
        let v = format!("{:#x}", p.rng.value());
        p.case(
            &format!("    .inst {word:#010x} // {name}_imm sf={sf} N={n} immr={immr} imms={imms} rn={rn}"),
            &[("x1", v)],
            0,
        );
    }
    for _ in 0..150 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = *p.rng.pick(&["movz", "movn", "movk"]);
        let hw = p.rng.below(if sf { 4 } else { 2 }) * 16;
        let imm = p.rng.below(65536);
        p.case(&format!("    {op} {r}0, #{imm:#x}, lsl #{hw}"), &[], 0);
    }
    for _ in 0..400 {
        let sf = p.rng.below(2) as u32;
        let opc = p.rng.below(3) as u32;
        let m = if sf == 1 { 64 } else { 32 };
        let (immr, imms) = (p.rng.below(m) as u32, p.rng.below(m) as u32);
        let word = (sf << 31)
            | (opc << 29)
            | (0b100110 << 23)
            | (sf << 22)
            | (immr << 16)
            | (imms << 10)
            | (1 << 5);
        let name = ["sbfm", "bfm", "ubfm"][opc as usize];
        let (v0, v1) = (
            format!("{:#x}", p.rng.value()),
            format!("{:#x}", p.rng.value()),
        );
        p.case(
            &format!("    .inst {word:#010x} // {name} sf={sf} immr={immr} imms={imms}"),
            &[("x0", v0), ("x1", v1)],
            0,
        );
    }
    for _ in 0..100 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let lsb = p.rng.below(if sf { 64 } else { 32 });
        let (v1, v2) = (
            format!("{:#x}", p.rng.value()),
            format!("{:#x}", p.rng.value()),
        );
        p.case(
            &format!("    extr {r}0, {r}1, {r}2, #{lsb}"),
            &[("x1", v1), ("x2", v2)],
            0,
        );
    }
    for _ in 0..40 {
        let off = p.rng.below(DATA);
        p.case(
            &format!("    adr x0, data_area+{off}\n    adrp x1, data_area+{off}"),
            &[],
            0,
        );
    }
    p
}

pub fn gen_dp_reg() -> Prog {
    let mut p = Prog::new(0xD2);
    let two = |p: &mut Prog| {
        [
            ("x1", format!("{:#x}", p.rng.value())),
            ("x2", format!("{:#x}", p.rng.value())),
        ]
    };
    for _ in 0..400 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = *p
            .rng
            .pick(&["and", "bic", "orr", "orn", "eor", "eon", "ands", "bics"]);
        let sh = *p.rng.pick(&["lsl", "lsr", "asr", "ror"]);
        let amt = p.rng.below(if sf { 64 } else { 32 });
        let rn = if p.rng.below(8) == 0 {
            format!("{r}zr")
        } else {
            format!("{r}1")
        };
        let ins = two(&mut p);
        p.case(&format!("    {op} {r}0, {rn}, {r}2, {sh} #{amt}"), &ins, 0);
    }
    for _ in 0..400 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = *p.rng.pick(&["add", "adds", "sub", "subs"]);
        let sh = *p.rng.pick(&["lsl", "lsr", "asr"]);
        let amt = p.rng.below(if sf { 64 } else { 32 });
        let rd = if p.rng.below(8) == 0 && op.ends_with('s') {
            format!("{r}zr")
        } else {
            format!("{r}0")
        };
        let ins = two(&mut p);
        p.case(&format!("    {op} {rd}, {r}1, {r}2, {sh} #{amt}"), &ins, 0);
    }
    for _ in 0..300 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = *p.rng.pick(&["add", "adds", "sub", "subs"]);
        let ext = *p.rng.pick(&[
            "uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx",
        ]);
        let amt = p.rng.below(5);
        let m = if sf && ext.ends_with('x') { "x2" } else { "w2" };
        let use_sp = sf && p.rng.below(3) == 0;
        let ins = two(&mut p);
        let insn = if use_sp {
            let rd = if op.ends_with('s') { "x0" } else { "sp" };
            format!("    mov sp, x1\n    {op} {rd}, sp, {m}, {ext} #{amt}\n    mov x3, sp")
        } else {
            format!("    {op} {r}0, {r}1, {m}, {ext} #{amt}")
        };
        let ins = if use_sp {
            [
                ("x1", format!("data_area+{}", p.rng.below(256) * 16)),
                ins[1].clone(),
            ]
        } else {
            ins
        };
        p.case(&insn, &ins, 0);
    }
    for _ in 0..200 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = *p.rng.pick(&["adc", "adcs", "sbc", "sbcs"]);
        let ins = two(&mut p);
        p.case(&format!("    {op} {r}0, {r}1, {r}2"), &ins, 0);
    }
    for _ in 0..300 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = *p.rng.pick(&["ccmp", "ccmn"]);
        let cond = *p.rng.pick(&CONDS);
        let nzcv = p.rng.below(16);
        let b = if p.rng.below(2) == 0 {
            format!("{r}2")
        } else {
            format!("#{}", p.rng.below(32))
        };
        let ins = two(&mut p);
        p.case(&format!("    {op} {r}1, {b}, #{nzcv}, {cond}"), &ins, 0);
    }
    for _ in 0..300 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = *p.rng.pick(&["csel", "csinc", "csinv", "csneg"]);
        let cond = *p.rng.pick(&CONDS);
        let ins = two(&mut p);
        p.case(&format!("    {op} {r}0, {r}1, {r}2, {cond}"), &ins, 0);
    }
    for _ in 0..400 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = *p.rng.pick(&[
            "udiv", "sdiv", "lslv", "lsrv", "asrv", "rorv", "crc", "crcc", "mul",
        ]);
        let ins = two(&mut p);
        let insn = match op {
            "crc" | "crcc" => {
                let c = if op == "crcc" { "c" } else { "" };
                let (sz, m) = *p
                    .rng
                    .pick(&[("b", "w2"), ("h", "w2"), ("w", "w2"), ("x", "x2")]);
                format!("    crc32{c}{sz} w0, w1, {m}")
            }
            _ => format!("    {op} {r}0, {r}1, {r}2"),
        };
        p.case(&insn, &ins, 0);
    }
    for _ in 0..300 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = *p.rng.pick(&["rbit", "rev16", "rev32", "rev", "clz", "cls"]);
        let r = if op == "rev32" { "x" } else { r };
        let ins = two(&mut p);
        p.case(&format!("    {op} {r}0, {r}1"), &ins, 0);
    }
    for _ in 0..400 {
        let op = *p.rng.pick(&[
            "madd", "msub", "smaddl", "smsubl", "umaddl", "umsubl", "smulh", "umulh", "wmadd",
            "wmsub",
        ]);
        let [a, b] = two(&mut p);
        let c = ("x3", format!("{:#x}", p.rng.value()));
        let insn = match op {
            "madd" | "msub" => format!("    {op} x0, x1, x2, x3"),
            "wmadd" | "wmsub" => format!("    {} w0, w1, w2, w3", &op[1..]),
            "smulh" | "umulh" => format!("    {op} x0, x1, x2"),
            _ => format!("    {op} x0, w1, w2, x3"),
        };
        p.case(&insn, &[a, b, c], 0);
    }
    p
}

pub fn gen_branch() -> Prog {
    let mut p = Prog::new(0xB1);
    for _ in 0..300 {
        let cond = *p.rng.pick(&CONDS);
        p.case(
            &format!("    mov x0, #0\n    b.{cond} 2f\n    mov x0, #1\n2:"),
            &[],
            0,
        );
    }
    // Flag-setting add/subtract + branch pairs (fused at decode time).
    for _ in 0..400 {
        let cond = *p.rng.pick(&CONDS);
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let op = match p.rng.below(4) {
            0 => "cmp".to_string(),
            1 => "cmn".to_string(),
            2 => format!("subs {r}3,"),
            _ => format!("adds {r}3,"),
        };
        let b = if p.rng.below(2) == 0 {
            format!("{r}2")
        } else {
            let sh = if p.rng.below(4) == 0 { ", lsl #12" } else { "" };
            format!("#{}{sh}", p.rng.below(4096))
        };
        let (v1, v2) = (
            format!("{:#x}", p.rng.value()),
            format!("{:#x}", p.rng.value()),
        );
        p.case(
            &format!("    mov x0, #0\n    {op} {r}1, {b}\n    b.{cond} 2f\n    mov x0, #1\n2:"),
            &[("x1", v1), ("x2", v2)],
            0,
        );
    }
    // ADD/SUB immediate of a register to itself, register compare, B.cond
    // (fused as one op at decode time): flags, wrap-around at 32 bits, taken
    // or not, and counted loops.
    for _ in 0..300 {
        let cond = *p.rng.pick(&CONDS);
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let step = if p.rng.below(2) == 0 { "add" } else { "sub" };
        let imm = p.rng.below(4096);
        let (a, b) = if p.rng.below(2) == 0 {
            ("1", "2")
        } else {
            ("2", "1")
        };
        let cmp = if p.rng.below(4) == 0 { "cmn" } else { "cmp" };
        let v1 = match p.rng.below(3) {
            0 => 0xffff_fff0,
            1 => 0x7fff_fffe,
            _ => p.rng.value(),
        };
        p.case(
            &format!("    mov x0, #0\n    {step} {r}1, {r}1, #{imm}\n    {cmp} {r}{a}, {r}{b}\n    b.{cond} 2f\n    mov x0, #1\n2:"),
            &[("x1", format!("{v1:#x}")), ("x2", format!("{:#x}", p.rng.value()))],
            0,
        );
    }
    for _ in 0..40 {
        let n = 1 + p.rng.below(40);
        p.case(
            "    mov x0, #0\n    mov x2, #0\n2:  add x2, x2, #3\n    add x0, x0, #1\n    cmp x0, x1\n    b.ne 2b",
            &[("x1", format!("{n}"))],
            0,
        );
        p.case(
            &format!("    mov w0, #{}\n    mov x2, #0\n2:  add x2, x2, x0\n    sub w0, w0, #2\n    cmp w1, w0\n    b.lo 2b", 2 * n),
            &[("x1", "0x0".to_string())],
            0,
        );
    }
    for _ in 0..300 {
        let sf = p.rng.below(2) == 1;
        let r = regs(sf);
        let v = match p.rng.below(3) {
            0 => 0,
            1 => 1 << 32,
            _ => p.rng.value(),
        };
        let insn = match p.rng.below(4) {
            0 => format!("    mov x0, #0\n    cbz {r}1, 2f\n    mov x0, #1\n2:"),
            1 => format!("    mov x0, #0\n    cbnz {r}1, 2f\n    mov x0, #1\n2:"),
            2 => format!(
                "    mov x0, #0\n    tbz x1, #{}, 2f\n    mov x0, #1\n2:",
                p.rng.below(64)
            ),
            _ => format!(
                "    mov x0, #0\n    tbnz w1, #{}, 2f\n    mov x0, #1\n2:",
                p.rng.below(32)
            ),
        };
        p.case(&insn, &[("x1", format!("{v:#x}"))], 0);
    }
    for _ in 0..20 {
        p.case("    mov x0, #0\n    b 2f\n    mov x0, #1\n2:", &[], 0);
        p.case("    mov x2, #0\n    mov x0, #0\n2:  add x0, x0, #1\n    add x2, x2, x0\n    cmp x0, #40\n    b.lo 2b", &[], 0);
        p.case(
            "    mov x0, #0\n    bl 2f\n    mov x0, #1\n2:  mov x7, x30",
            &[],
            0,
        );
        p.case(
            "    mov x0, #0\n    adr x1, 2f\n    blr x1\n    mov x0, #1\n2:  mov x6, x30",
            &[],
            0,
        );
        p.case(
            "    mov x0, #0\n    adr x1, 2f\n    br x1\n    mov x0, #1\n2:",
            &[],
            0,
        );
        p.case(
            "    mov x0, #0\n    adr x30, 2f\n    ret\n    mov x0, #1\n2:",
            &[],
            0,
        );
        p.case(
            "    mov x2, #0\n    mov x0, #37\n2:  add x2, x2, x0\n    subs x0, x0, #1\n    b.ne 2b",
            &[],
            0,
        );
    }
    p
}

pub fn gen_system() -> Prog {
    let mut p = Prog::new(0x5A);
    for _ in 0..40 {
        let v = format!("{:#x}", p.rng.value());
        p.case(
            "    msr nzcv, x1\n    mrs x0, nzcv",
            &[("x1", v.clone())],
            0,
        );
        p.case(
            "    msr tpidr_el0, x1\n    mrs x0, tpidr_el0",
            &[("x1", v)],
            0,
        );
        p.case("    mrs x0, dczid_el0", &[], 0);
        p.case(
            "    nop\n    yield\n    sev\n    sevl\n    hint #34\n    csdb\n    hint #0x7f",
            &[],
            0,
        );
        p.case(
            "    dmb ish\n    dsb sy\n    isb\n    dmb oshld\n    clrex",
            &[],
            0,
        );
        let base = 1024 + p.rng.below(8192);
        p.case(
            "    dc civac, x1\n    dc cvau, x1\n    dc cvac, x1\n    ic ivau, x1\n    dsb ish\n    isb",
            &[("x1", format!("data_area+{base}"))],
            0,
        );
    }
    // Self-modifying code in an RWX mapping: the decoded code must follow writes.
    let smc = "    mov x0, #0\n    mov x1, #4096\n    mov x2, #7\n    mov x3, #0x22\n    mov x4, #-1\n    mov x5, #0\n    mov x8, #222\n    svc #0\n\
               \x20   mov x6, x0\n    ldr w1, =0xd2800020\n    ldr w2, =0xd65f03c0\n    str w1, [x6]\n    str w2, [x6, #4]\n\
               \x20   dc cvau, x6\n    dsb ish\n    ic ivau, x6\n    dsb ish\n    isb\n    blr x6\n    mov x7, x0\n\
               \x20   ldr w1, =0xd2800540\n    str w1, [x6]\n    dc cvau, x6\n    dsb ish\n    ic ivau, x6\n    dsb ish\n    isb\n    blr x6\n    mov x5, x0\n    mov x6, #0";
    p.case(smc, &[], 0);
    p
}
