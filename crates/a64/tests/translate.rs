//! The translator against the interpreter: random programs (fixed seeds) built from the ops
//! the translator generates code for (ALU, compares, the fused loop pairs and triples, loads
//! and stores, every branch kind) mixed with ops it calls, run on two CPUs, one interpreting
//! and one translating, in random budgets; after every `run` call the registers, flags, PC,
//! instruction count, exit and data memory must be equal. Budgets of one or a few
//! instructions end blocks anywhere, so this compares state at block boundaries of every
//! kind (budget, page end, in-page and out-of-page branches, faults). The programs run in a
//! user-mode process (EL0, flat addresses) and at EL1 with the MMU on (page walks, the EL1
//! TLB tables, exceptions taken to a vector).

mod common;

use a64::{Cpu, CpuProfile, Exit, NoMmio};
use common::Rng;

const RAM_BASE: u64 = 0x4000_0000;
const RAM_SIZE: usize = 1 << 20;
/// Code starts here (and may run into the next page).
const CODE: u64 = RAM_BASE + 0x1ff0;
/// x20 points here: the loads and stores stay inside [DATA, DATA + 64 KiB).
const DATA: u64 = RAM_BASE + 0x8_0000;

/// A scratch register x0-x7.
fn r(rng: &mut Rng) -> u32 {
    rng.below(8) as u32
}

/// One straight-line instruction.
fn straight(rng: &mut Rng) -> u32 {
    let (d, n, m) = (r(rng), r(rng), r(rng));
    let sf = (rng.below(2) as u32) << 31;
    let imm12 = rng.below(4096) as u32;
    let sh = rng.below(3) as u32;
    let amount = rng.below(if sf != 0 { 64 } else { 32 }) as u32;
    match rng.below(23) {
        // ADD/SUB (immediate), with and without flags, shifted or not.
        0 => sf | 0x1100_0000 | (rng.below(2) as u32) << 22 | imm12 << 10 | n << 5 | d,
        1 => sf | 0x5100_0000 | imm12 << 10 | n << 5 | d,
        2 => sf | 0x3100_0000 | imm12 << 10 | n << 5 | d,
        3 => sf | 0x7100_0000 | imm12 << 10 | n << 5 | d,
        // ADDS/SUBS (register): called, or fused when a B.cond follows.
        4 => sf | 0x2B00_0000 | (rng.below(2) as u32) << 30 | m << 16 | n << 5 | d,
        // ORR/AND/EOR (shifted register): called.
        5 => sf | 0x2A00_0000 | (rng.below(3) as u32) << 29 | m << 16 | n << 5 | d,
        // MOVZ/MOVK: called.
        6 => sf | 0x5280_0000 | (rng.below(2) as u32) << 29 | (rng.below(65536) as u32) << 5 | d,
        // LDR/STR (unsigned offset) of 1, 2, 4 or 8 bytes off x20.
        7 | 8 => {
            let size = rng.below(4) as u32;
            let opc = rng.below(2) as u32;
            (size << 30) | 0x3900_0000 | opc << 22 | (rng.below(512) as u32) << 10 | 20 << 5 | d
        }
        // LDUR/STUR (unscaled, may cross nothing: offsets stay in the data page range).
        9 => {
            let size = rng.below(4) as u32;
            let opc = rng.below(2) as u32;
            (size << 30) | 0x3800_0000 | opc << 22 | (rng.below(256) as u32) << 12 | 20 << 5 | d
        }
        // LDR/STR (register, LSL) off x20 with x21 (a small index).
        10 => {
            let size = rng.below(4) as u32;
            let opc = rng.below(2) as u32;
            let s = rng.below(2) as u32;
            (size << 30) | 0x3820_6800 | opc << 22 | 21 << 16 | s << 12 | 20 << 5 | d
        }
        // A load from an unmapped address: the fault exits the run (user mode).
        11 if rng.below(40) == 0 => 0xF940_0000 | 22 << 5 | d,
        // LDP/STP: called.
        12 => {
            0xA900_0000
                | (rng.below(2) as u32) << 22
                | (rng.below(16) as u32) << 15
                | m << 10
                | 20 << 5
                | d
        }
        // ADD/SUB/ADDS/SUBS (shifted register), any shift.
        14 => {
            sf | 0x0B00_0000
                | (rng.below(4) as u32) << 29
                | sh << 22
                | m << 16
                | amount << 10
                | n << 5
                | d
        }
        // AND/ORR/EOR/ANDS and the inverted forms (shifted register), any shift.
        15 => {
            sf | 0x0A00_0000
                | (rng.below(4) as u32) << 29
                | (rng.below(4) as u32) << 22
                | (rng.below(2) as u32) << 21
                | m << 16
                | amount << 10
                | n << 5
                | d
        }
        // UBFM (LSL/LSR/UBFX...).
        16 => {
            let (immr, imms) = (rng.below(64) as u32, rng.below(64) as u32);
            if sf != 0 {
                0xD340_0000 | immr << 16 | imms << 10 | n << 5 | d
            } else {
                0x5300_0000 | (immr & 31) << 16 | (imms & 31) << 10 | n << 5 | d
            }
        }
        // CSEL/CSINC/CSINV/CSNEG.
        17 => {
            sf | 0x1A80_0000
                | (rng.below(2) as u32) << 30
                | m << 16
                | (rng.below(16) as u32) << 12
                | (rng.below(2) as u32) << 10
                | n << 5
                | d
        }
        // ADR/ADRP.
        18 => {
            (rng.below(2) as u32) << 31
                | (rng.below(4) as u32) << 29
                | 0x1000_0000
                | (rng.below(1 << 19) as u32) << 5
                | d
        }
        // DC ZVA through x24, somewhere in the first 4 KiB of the data (set by `program`).
        19 if rng.below(2) == 0 => 0xD50B_7420 | 24,
        // Ops that read NZCV: CCMP/CCMN (register or immediate), ADC/ADCS/SBC/SBCS.
        13 if rng.below(2) == 0 => {
            sf | 0x3A40_0000
                | (rng.below(2) as u32) << 30
                | (rng.below(2) as u32) << 11
                | (rng.below(32) as u32) << 16
                | (rng.below(16) as u32) << 12
                | n << 5
                | rng.below(16) as u32
        }
        13 => sf | 0x1A00_0000 | (rng.below(4) as u32) << 29 | m << 16 | n << 5 | d,
        // LSLV/LSRV/ASRV/RORV, any count (the low 6 or 5 bits count).
        20 => sf | 0x1AC0_2000 | m << 16 | (rng.below(4) as u32) << 10 | n << 5 | d,
        // PRFM (immediate, register, unscaled): does nothing, even unmapped (x22).
        21 => match rng.below(3) {
            0 => 0xF980_0000 | (rng.below(4096) as u32) << 10 | 22 << 5,
            1 => 0xF8A0_6800 | m << 16 | 20 << 5,
            _ => 0xF880_0000 | (rng.below(512) as u32) << 12 | 20 << 5 | 1,
        },
        // ADD/ADDS/SUB/SUBS (extended register): every extension, shifts 0 to 4.
        22 => {
            sf | 0x0B20_0000
                | (rng.below(4) as u32) << 29
                | m << 16
                | (rng.below(8) as u32) << 13
                | (rng.below(5) as u32) << 10
                | n << 5
                | d
        }
        // Keep x21 a small index.
        _ => 0x9240_0C00 | n << 5 | 21, // and x21, xn, #0xf
    }
}

/// A random program of about `len` words ending in `svc #0`.
fn program(rng: &mut Rng, len: usize) -> Vec<u32> {
    let mut p = Vec::with_capacity(len + 16);
    while p.len() < len {
        match rng.below(12) {
            // A counted loop: mov x9, #k; body; subs x9, x9, #1; b.ne body.
            0 => {
                let most = if rng.below(8) == 0 { 2000 } else { 20 };
                let k = 1 + rng.below(most) as u32;
                p.push(0xD280_0009 | k << 5);
                let top = p.len();
                for _ in 0..1 + rng.below(6) {
                    p.push(straight(rng));
                }
                p.push(0xF100_0529); // subs x9, x9, #1
                let back = top as i64 - p.len() as i64;
                p.push(0x5400_0001 | (((back as u32) & 0x7_ffff) << 5)); // b.ne
            }
            // The counted-loop step: add x10, x10, #1; cmp x11, x10; b.ne top.
            1 => {
                p.push(0xD280_000A); // mov x10, #0
                p.push(0xD280_000B | (1 + rng.below(30) as u32) << 5); // mov x11, #k
                let top = p.len();
                for _ in 0..rng.below(4) {
                    p.push(straight(rng));
                }
                p.push(0x9100_054A); // add x10, x10, #1
                p.push(0xEB0A_017F); // cmp x11, x10
                let back = top as i64 - p.len() as i64;
                p.push(0x5400_0001 | (((back as u32) & 0x7_ffff) << 5)); // b.ne
            }
            // A byte scan: ldrb w12, [x20, x13]; cbz w12 (forward) with x13 = x21.
            2 => {
                p.push(0xAA15_03ED); // mov x13, x21
                p.push(0x386D_6A8C); // ldrb w12, [x20, x13]
                let skip = 1 + rng.below(3) as u32;
                p.push(0x3400_000C | (skip + 1) << 5); // cbz w12, over the skipped words
                for _ in 0..skip {
                    p.push(straight(rng));
                }
            }
            // Forward conditional branches of every kind.
            3 => {
                let skip = 1 + rng.below(3) as u32;
                let t = r(rng);
                p.push(match rng.below(4) {
                    0 => 0x5400_0000 | (skip + 1) << 5 | rng.below(16) as u32, // b.cond
                    1 => 0xB400_0000 | (rng.below(2) as u32) << 24 | (skip + 1) << 5 | t, // cbz/cbnz
                    2 => {
                        0x3600_0000
                            | (rng.below(2) as u32) << 24
                            | (rng.below(32) as u32) << 19
                            | (skip + 1) << 5
                            | t
                    } // tbz/tbnz
                    _ => 0x1400_0000 | (skip + 1),                                        // b
                });
                for _ in 0..skip {
                    p.push(straight(rng));
                }
            }
            // A compare of every kind and a forward B.cond of any condition: fused (ADDS/SUBS,
            // immediate or register; CMP/CMN when the result is discarded) or after a TST.
            6 => {
                let (n, m) = (r(rng), r(rng));
                let m = if rng.below(4) == 0 { n } else { m };
                if rng.below(2) == 0 {
                    // A small value, so that immediates compare equal, above and below.
                    p.push(0xD280_0000 | (rng.below(16) as u32) << 5 | n); // mov xn, #k
                }
                let d = if rng.below(2) == 0 { 31 } else { r(rng) };
                let sf = (rng.below(2) as u32) << 31;
                let sub = (rng.below(2) as u32) << 30;
                p.push(match rng.below(3) {
                    0 => sf | sub | 0x3100_0000 | (rng.below(16) as u32) << 10 | n << 5 | d,
                    1 => sf | sub | 0x2B00_0000 | m << 16 | n << 5 | d,
                    _ if sf != 0 => 0xF240_1C00 | n << 5 | d, // ands xd, xn, #0xff
                    _ => 0x7200_1C00 | n << 5 | d,            // ands wd, wn, #0xff
                });
                let skip = 1 + rng.below(3) as u32;
                p.push(0x5400_0000 | (skip + 1) << 5 | rng.below(16) as u32);
                for _ in 0..skip {
                    p.push(straight(rng));
                }
            }
            // Point x24 anywhere in the data's first 4 KiB (any alignment) for DC ZVA.
            7 => p.push(0x9100_0000 | (rng.below(4096) as u32) << 10 | 20 << 5 | 24), // add x24, x20, #k
            // A push and a pop through x23 (pre- and post-index, single or pair).
            5 => {
                let (a, b) = (r(rng), r(rng));
                if rng.below(2) == 0 {
                    p.push(0xF81F_0EE0 | a); // str xa, [x23, #-16]!
                    p.push(straight(rng));
                    p.push(0xF841_06E0 | b); // ldr xb, [x23], #16
                } else {
                    p.push(0xA9BF_02E0 | b << 10 | a); // stp xa, xb, [x23, #-16]!
                    p.push(straight(rng));
                    p.push(0xA8C1_02E0 | a << 10 | b); // ldp xb, xa, [x23], #16
                }
            }
            // A call to the next word and a return: bl +8; b +8; ret.
            4 => {
                p.push(0x9400_0002); // bl .+8
                p.push(0x1400_0002); // b .+8
                p.push(0xD65F_03C0); // ret
            }
            _ => p.push(straight(rng)),
        }
    }
    p.push(0xD400_0001); // svc #0
    p
}

struct Machine {
    cpu: Cpu,
    _ram: Vec<u8>,
}

/// Where the random programs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// EL0 of a user-mode process: flat addresses.
    User,
    /// EL1 with the MMU on: RAM identity-mapped with 4 KiB pages (tables in RAM), every
    /// access through the EL1 TLB tables and page walks; an exception (the final SVC, a
    /// fault) goes to a vector holding `b .`, which halts the PE.
    El1,
}

/// Page tables (level 0 to 3) at the top of RAM.
const TABLES: u64 = RAM_BASE + 0xF_0000;

/// Identity-maps RAM at EL1 with 4 KiB pages, turns the MMU on and points VBAR_EL1 at a
/// vector table whose current-EL synchronous entry is `b .`.
fn el1_with_mmu(cpu: &mut Cpu) {
    let (l0, l1, l2, l3) = (TABLES, TABLES + 0x1000, TABLES + 0x2000, TABLES + 0x3000);
    let table = 3u64;
    // Page: valid, AF, inner shareable, AttrIndx 0 (normal), EL1 read/write, global.
    let page = 3u64 | (1 << 10) | (3 << 8);
    let mut put = |pa: u64, v: u64| {
        cpu.core.phys().write(pa, 8, v).expect("tables in RAM");
    };
    put(l0, l1 | table);
    put(l1 + 8 * ((RAM_BASE >> 30) & 511), l2 | table);
    put(l2 + 8 * ((RAM_BASE >> 21) & 511), l3 | table);
    for n in 0..(RAM_SIZE as u64 >> 12) {
        put(l3 + 8 * n, (RAM_BASE + (n << 12)) | page);
    }
    put(RAM_BASE + 0x200, 0x1400_0000); // b . (synchronous, current EL, SP_ELx)
    let sys = &mut cpu.core.sys;
    sys.mair = 0xff; // attribute 0: normal, write-back
    sys.tcr = 16 | (1 << 23); // T0SZ 16 (48-bit VAs), 4 KiB granule, no TTBR1 walks
    sys.ttbr0 = l0;
    sys.vbar = RAM_BASE;
    sys.sctlr |= 1; // M
}

fn machine(code: &[u32], seed: u64, threshold: Option<u16>) -> Machine {
    machine_at(code, seed, threshold, Level::User)
}

fn machine_at(code: &[u32], seed: u64, threshold: Option<u16>, level: Level) -> Machine {
    let mut ram = vec![0u8; RAM_SIZE];
    let mut cpu = Cpu::new(CpuProfile::default(), Box::new(NoMmio::default()));
    // SAFETY: `ram` lives in the returned Machine with the CPU, which drops it first (field
    // order), and is never touched through references while the CPU exists.
    unsafe {
        cpu.core
            .phys()
            .add_ram(ram.as_mut_ptr(), RAM_BASE, RAM_SIZE as u64)
            .expect("ram");
    }
    for (i, w) in code.iter().enumerate() {
        cpu.core
            .phys()
            .write(CODE + 4 * i as u64, 4, u64::from(*w))
            .expect("code in RAM");
    }
    let rng = Rng::new(seed);
    for i in 0..0x1_0000u64 / 8 {
        cpu.core
            .phys()
            .write(DATA + 8 * i, 8, rng.next() & 0x00ff_00ff_00ff_00ff)
            .expect("data in RAM");
    }
    match level {
        Level::User => cpu.set_user_mode(),
        Level::El1 => el1_with_mmu(&mut cpu),
    }
    for i in 0..8 {
        cpu.core.regs.x[i] = rng.next();
    }
    cpu.core.regs.x[20] = DATA;
    cpu.core.regs.x[21] = rng.below(16);
    cpu.core.regs.x[22] = 0x10; // unmapped
    cpu.core.regs.x[23] = DATA + 0x4000; // a stack for the pushes and pops
    cpu.core.regs.x[24] = DATA; // DC ZVA zeroes around here
    cpu.core.regs.x[usize::from(a64::state::SP)] = DATA + 0x8000;
    cpu.set_pc(CODE);
    assert!(cpu.set_translation(threshold), "this host translates");
    Machine { cpu, _ram: ram }
}

/// What is compared: registers, PC, NZCV, instruction count, data memory, and the
/// exception registers (syndrome, fault address, return address: EL1 runs take exceptions).
type State = (Vec<u64>, u64, u32, u64, Vec<u8>, [u64; 3]);

fn state(m: &mut Machine) -> State {
    let mut data = vec![0u8; 0x1_0000];
    for (i, b) in data.iter_mut().enumerate() {
        *b = m.cpu.core.phys().read(DATA + i as u64, 1).expect("data") as u8;
    }
    (
        // X0-X30, XZR's slot and SP; not the slot discarded writes go to (never read, and
        // translated code does not write it).
        m.cpu.core.regs.x[..=usize::from(a64::state::SP)].to_vec(),
        m.cpu.core.regs.pc,
        m.cpu.core.regs.nzcv,
        m.cpu.core.icount,
        data,
        [m.cpu.core.sys.esr, m.cpu.core.sys.far, m.cpu.core.sys.elr],
    )
}

/// Runs `code` on both CPUs in random budgets, comparing after every run.
fn compare(code: &[u32], seed: u64, threshold: u16, level: Level) -> (u64, a64::JitStats) {
    let mut i = machine_at(code, seed, None, level);
    let mut t = machine_at(code, seed, Some(threshold), level);
    let rng = Rng::new(seed ^ 0x5555);
    let mut runs = 0u64;
    loop {
        // Small budgets end blocks anywhere; large ones let blocks run to the loop's own
        // limit (4096), after which the next block starts inside the same run.
        let budget = match rng.below(5) {
            0 => 1,
            1 => 1 + rng.below(8),
            2 => 1 + rng.below(100),
            3 => 1 + rng.below(5000),
            _ => 1 + rng.below(100_000),
        };
        let (ei, et) = (i.cpu.run(budget), t.cpu.run(budget));
        runs += 1;
        assert_eq!(ei, et, "seed {seed}: exits differ after {runs} runs");
        let (si, st) = (state(&mut i), state(&mut t));
        let differ: Vec<String> =
            si.0.iter()
                .zip(&st.0)
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .map(|(r, (a, b))| format!("x{r} {a:#x} vs {b:#x}"))
                .collect();
        assert!(
            si == st,
            "seed {seed}, threshold {threshold}: state differs after run {runs} (budget {budget}): regs equal {} {differ:?}, pc {:#x} vs {:#x}, nzcv {:#x} vs {:#x}, icount {} vs {}, data equal {}, ESR/FAR/ELR {:x?} vs {:x?}",
            si.0 == st.0,
            si.1,
            st.1,
            si.2,
            st.2,
            si.3,
            st.3,
            si.4 == st.4,
            si.5,
            st.5
        );
        if !matches!(ei, Exit::Budget) || runs > 20_000 {
            break;
        }
    }
    (runs, t.cpu.translation_stats().expect("translating"))
}

#[test]
fn random_programs_run_the_same_translated_and_interpreted() {
    if !a64::jit::supported() {
        eprintln!("no translator on this host: nothing to compare");
        return;
    }
    let mut native = 0;
    let mut translations = 0;
    for seed in 0..60u64 {
        let mut rng = Rng::new(seed);
        let len = 200 + rng.below(1200) as usize;
        let code = program(&mut rng, len);
        for threshold in [0u16, 2, 7] {
            let (_, stats) = compare(&code, seed, threshold, Level::User);
            native += stats.native_ops;
            translations += stats.translations;
        }
    }
    // The comparison means something only if code was translated, natively too.
    assert!(translations > 1000, "{translations} translations");
    assert!(native > 1000, "{native} ops with generated code");
}

#[test]
fn random_programs_at_el1_with_the_mmu_run_the_same_translated_and_interpreted() {
    if !a64::jit::supported() {
        return;
    }
    let mut native = 0;
    let mut walks_seen = false;
    for seed in 100..130u64 {
        let mut rng = Rng::new(seed);
        let len = 200 + rng.below(1200) as usize;
        let code = program(&mut rng, len);
        for threshold in [0u16, 7] {
            let (runs, stats) = compare(&code, seed, threshold, Level::El1);
            native += stats.native_ops;
            walks_seen |= runs > 1;
        }
    }
    assert!(walks_seen, "the programs ran in more than one piece");
    assert!(native > 1000, "{native} ops with generated code");
}

#[test]
fn a_store_into_translated_code_drops_the_translation() {
    if !a64::jit::supported() {
        return;
    }
    // x0 counts loop iterations; the loop patches its own `add x0, x0, #1` into
    // `add x0, x0, #2` through x1 after the translation exists, so the translated run must
    // see the new instruction exactly when the interpreter does.
    //   L: add x0, x0, #1      (slot 0)
    //      subs x2, x2, #1
    //      b.ne L
    //      str w3, [x1]        (x1 = address of slot 0, w3 = add x0, x0, #2)
    //      subs x4, x4, #1
    //      b.ne L... (re-enter)
    // The code starts 16 bytes before a page boundary: laid out as it is, the loops' back
    // branches leave the page (the block ends there anyway); after four NOPs all of it is in
    // one page.
    for lead in [0usize, 4] {
        let body = [
            0x9100_0400u32, // add x0, x0, #1
            0xF100_0442,    // subs x2, x2, #1
            0x54FF_FFC1,    // b.ne -8
            0xB900_0023,    // str w3, [x1]
            0xD280_0142,    // mov x2, #10
            0xF100_0484,    // subs x4, x4, #1
            0x54FF_FF41,    // b.ne -24 (to L)
            0xD400_0001,    // svc #0
        ];
        let mut code = vec![0xD503_201Fu32; lead]; // nop
        code.extend(body);
        let run = |threshold: Option<u16>| {
            let mut m = machine(&code, 1, threshold);
            m.cpu.core.regs.x[0] = 0;
            m.cpu.core.regs.x[1] = CODE + 4 * lead as u64;
            m.cpu.core.regs.x[2] = 50;
            m.cpu.core.regs.x[3] = 0x9100_0800; // add x0, x0, #2
            m.cpu.core.regs.x[4] = 3;
            let exit = m.cpu.run(1_000_000);
            (exit, m.cpu.core.regs.x[0], m.cpu.core.icount)
        };
        let (ei, xi, ni) = run(None);
        assert_eq!(ei, Exit::Svc(0));
        assert_eq!(xi, 50 + 2 * 20, "the interpreter sees the patched add");
        for threshold in [0, 2, 10] {
            assert_eq!(
                run(Some(threshold)),
                (ei, xi, ni),
                "threshold {threshold}, {lead} NOPs first"
            );
        }
    }
}

#[test]
fn a_translated_block_storing_into_itself_ends_at_its_next_branch() {
    if !a64::jit::supported() {
        return;
    }
    // One page, one loop: each pass patches its own first instruction (alternately
    // `add x0, x0, #2` and `add x0, x0, #1`) and branches back to it. The store raises
    // `attention`, so the block ends at the branch and the next pass runs the new add; a
    // translation holding the whole loop (made once every slot has run) must do the same.
    //   L: add x0, x0, #1      (patched)
    //      subs x2, x2, #1
    //      b.ne L
    //      str w3, [x1]        (x1 = address of L)
    //      eor w3, w3, w5      (the other add next time)
    //      mov x2, #10
    //      subs x4, x4, #1
    //      b.ne L
    //      svc #0
    let mut code = vec![0xD503_201Fu32; 4]; // nops: L starts a page
    code.extend([
        0x9100_0400u32, // add x0, x0, #1
        0xF100_0442,    // subs x2, x2, #1
        0x54FF_FFC1,    // b.ne -8
        0xB900_0023,    // str w3, [x1]
        0x4A05_0063,    // eor w3, w3, w5
        0xD280_0142,    // mov x2, #10
        0xF100_0484,    // subs x4, x4, #1
        0x54FF_FF21,    // b.ne -28 (to L)
        0xD400_0001,    // svc #0
    ]);
    let run = |threshold: Option<u16>| {
        let mut m = machine(&code, 1, threshold);
        m.cpu.core.regs.x[0] = 0;
        m.cpu.core.regs.x[1] = CODE + 16;
        m.cpu.core.regs.x[2] = 1;
        m.cpu.core.regs.x[3] = 0x9100_0800; // add x0, x0, #2
        m.cpu.core.regs.x[5] = 0x9100_0800 ^ 0x9100_0400;
        m.cpu.core.regs.x[4] = 40;
        let exit = m.cpu.run(1_000_000);
        (exit, m.cpu.core.regs.x[0], m.cpu.core.icount)
    };
    let (ei, xi, ni) = run(None);
    assert_eq!(ei, Exit::Svc(0));
    // Pass 1 adds 1 once; passes 2 to 40 add 10 times 2, 1, 2, ...
    assert_eq!(
        xi,
        1 + 20 * 20 + 19 * 10,
        "the interpreter runs each pass's add"
    );
    for threshold in [0, 2, 10] {
        assert_eq!(run(Some(threshold)), (ei, xi, ni), "threshold {threshold}");
    }
}
