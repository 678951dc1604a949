//! The differential program generator: each case sets registers and
//! flags, runs the instruction(s) under test and appends a fixed-size record
//! (x0..x7, NZCV, 32 bytes of memory at x10) to an output buffer that the
//! program writes to stdout at exit.

use std::fmt::Write as _;

use super::{build, run_qemu, Rng};

/// x0..x7, NZCV, then 32 bytes of memory at x10.
pub const RECORD: usize = 13 * 8;
/// Size of the data area (4 pages).
pub const DATA: u64 = 16384;

pub const CONDS: [&str; 15] = [
    "eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al",
];

#[derive(Debug)]
pub struct Case {
    text: String,
    inputs: String,
}

/// A generated test program.
pub struct Prog {
    /// Generator of operands.
    pub rng: Rng,
    body: String,
    /// Cases so far.
    pub cases: Vec<Case>,
}

impl Prog {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            body: String::new(),
            cases: Vec::new(),
        }
    }

    /// One case: set x0..x7 (fillers, then `inputs`), x10 = data_area +
    /// `window`, random NZCV; run `insn`; dump the record.
    pub fn case(&mut self, insn: &str, inputs: &[(&str, String)], window: u64) {
        let mut setup = String::new();
        let mut shown = String::new();
        for i in 0..8 {
            let v = self.rng.value();
            let _ = writeln!(setup, "    ldr x{i}, ={v:#x}");
        }
        for (reg, val) in inputs {
            let _ = writeln!(setup, "    ldr {reg}, ={val}");
            let _ = write!(shown, "{reg}={val} ");
        }
        let nzcv = self.rng.below(16) << 28;
        let _ = write!(shown, "nzcv={:#x}", nzcv >> 28);
        let _ = writeln!(setup, "    ldr x10, =data_area+{window}");
        let _ = writeln!(setup, "    ldr x9, ={nzcv:#x}\n    msr nzcv, x9");
        let n = self.cases.len();
        let _ = write!(
            self.body,
            "// case {n}\n{setup}{insn}\n    mrs x9, nzcv\n\
             \x20   stp x0, x1, [x28], #16\n    stp x2, x3, [x28], #16\n\
             \x20   stp x4, x5, [x28], #16\n    stp x6, x7, [x28], #16\n\
             \x20   str x9, [x28], #8\n    ldp x11, x12, [x10]\n    ldp x13, x14, [x10, #16]\n\
             \x20   stp x11, x12, [x28], #16\n    stp x13, x14, [x28], #16\n"
        );
        if n % 16 == 15 {
            self.body.push_str("    b 9f\n    .ltorg\n9:\n");
        }
        self.cases.push(Case {
            text: insn.trim().replace('\n', "; "),
            inputs: shown,
        });
    }

    pub fn asm(&mut self) -> String {
        let mut data = String::new();
        for i in 0..DATA / 8 {
            let v = self.rng.next();
            let _ = writeln!(data, "    .quad {v:#x} // {i}");
        }
        format!(
            "    .arch armv8-a+crc\n    .text\n    .global _start\n_start:\n\
             \x20   adrp x28, out_buf\n    add x28, x28, :lo12:out_buf\n{body}\
             \x20   adrp x1, out_buf\n    add x1, x1, :lo12:out_buf\n    sub x2, x28, x1\n\
             \x20   mov x0, #1\n    mov x8, #64\n    svc #0\n\
             \x20   mov x0, #0\n    mov x8, #93\n    svc #0\n    .ltorg\n\
             \x20   .data\n    .balign 4096\ndata_area:\n{data}\
             \x20   .bss\n    .balign 4096\nout_buf:\n    .skip {out}\n",
            body = self.body,
            out = self.cases.len() * RECORD + 4096,
        )
    }
}

fn fmt_record(r: &[u8]) -> String {
    let q = |i: usize| u64::from_le_bytes(r[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let mut s = String::new();
    for i in 0..8 {
        let _ = write!(s, "x{i}={:#x} ", q(i));
    }
    let _ = write!(
        s,
        "nzcv={:#x} mem=[{:#x} {:#x} {:#x} {:#x}]",
        q(8) >> 28,
        q(9),
        q(10),
        q(11),
        q(12)
    );
    s
}

/// Build, run under both, and compare; panics listing the mismatches.
pub fn check(mut p: Prog, tag: &str) {
    let asm = p.asm();
    let exe = build(&asm, tag);
    let q = run_qemu(&exe);
    let (o, icount) = super::run_ours_with(&exe, &["prog"], 200_000_000, None);
    if super::translates() {
        // Every block translated before it first runs: the same output, status and
        // instruction count as the interpreter.
        let (t, t_icount) = super::run_ours_with(&exe, &["prog"], 200_000_000, Some(0));
        assert!(
            t.stdout == o.stdout && t.status == o.status,
            "{tag}: translated run differs from the interpreter: status {} vs {}, first differing byte {:?}",
            t.status,
            o.status,
            t.stdout.iter().zip(&o.stdout).position(|(a, b)| a != b)
        );
        assert_eq!(
            t_icount, icount,
            "{tag}: translated run retired a different count"
        );
    }
    let mut bad = Vec::new();
    for (i, c) in p.cases.iter().enumerate() {
        let r = i * RECORD..(i + 1) * RECORD;
        let (qr, or) = (q.stdout.get(r.clone()), o.stdout.get(r));
        if qr != or {
            bad.push(format!(
                "case {i}: `{}` inputs {}\n   qemu: {}\n   ours: {}",
                c.text,
                c.inputs,
                qr.map_or("<missing>".into(), fmt_record),
                or.map_or("<missing>".into(), fmt_record),
            ));
        }
    }
    eprintln!("{tag}: {} cases, {} mismatches", p.cases.len(), bad.len());
    assert!(
        bad.is_empty() && q.status == o.status && q.stdout.len() == o.stdout.len(),
        "{tag}: {} of {} cases differ (qemu {}, ours {}):\n{}",
        bad.len(),
        p.cases.len(),
        q.status,
        o.status,
        bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
    assert_eq!(q.status, "exit 0", "{tag}: qemu did not finish the program");
    assert_eq!(
        q.stdout.len(),
        p.cases.len() * RECORD,
        "{tag}: qemu output is incomplete"
    );
}

pub fn regs(sf: bool) -> &'static str {
    if sf {
        "x"
    } else {
        "w"
    }
}

/// A data-area offset for an access: aligned, unaligned, or page-crossing.
pub fn mem_base(p: &mut Prog, size: u64) -> u64 {
    match p.rng.below(4) {
        0 => 4096 * (1 + p.rng.below(2)) - p.rng.below(size.max(2)) - 1 + size / 2,
        1 => 1024 + p.rng.below(8192),
        _ => (1024 + p.rng.below(8192)) & !(size - 1),
    }
}
