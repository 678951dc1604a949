//! Two PEs sharing one guest RAM, run in turn on one thread the way the VMM's
//! scheduler (crates/vmm/src/vm/run.rs) runs them: what one PE's broadcast maintenance
//! (TLBI ...IS, IC IVAU, IC IALLUIS), exclusives, WFE and SEV mean for the other.
//!
//! Between turns the embedder collects the shootdowns of the PE that ran and applies them
//! to the others, then clears that PE's exclusive monitor; SEV makes it set every PE's
//! event register. [`Smp::turn`] does exactly that; the tests that check one obligation at
//! a time do the steps by hand. Every vector holds `hvc #n` (n = vector index), so an
//! unexpected exception ends a run with `Exit::Hvc(n)`, not `DONE`.

use a64::{Cpu, CpuProfile, Exit, NoMmio, Shootdown};

const RAM: u64 = 0x4000_0000;
const SIZE: u64 = 8 << 20;
const VBAR: u64 = RAM + 0x1_0000;
const TABLES: u64 = RAM + 0x10_0000;
/// Level-1 table (TTBR0 and TTBR1 both point at it).
const L1: u64 = TABLES;
/// Level-2 table for VA 0..1 GiB (the low window the tests remap).
const L2_LOW: u64 = TABLES + 0x1000;
/// Level-3 table for VA 0..2 MiB: entries written by [`Smp::page`].
const L3_LOW: u64 = TABLES + 0x2000;
/// Level-2 table for VA 1 GiB.. (identity map of RAM).
const L2_RAM: u64 = TABLES + 0x3000;
/// Level-3 table identity-mapping the first 2 MiB of RAM with 4 KiB pages (so that no
/// TLB entry of the tests' code or data comes from a block descriptor).
const L3_RAM: u64 = TABLES + 0x4000;

/// The PEs.
const A: usize = 0;
const B: usize = 1;

const DONE: u16 = 0x99;
const CODE_A: u64 = RAM + 0x2_0000;
const CODE_B: u64 = RAM + 0x2_1000;
const FUNC: u64 = RAM + 0x2_2800;
const DATA: u64 = RAM + 0x3_0000;
const DATA2: u64 = RAM + 0x3_1000;

/// Page descriptor bits.
const PAGE: u64 = 3;
const BLOCK: u64 = 1;
const AF: u64 = 1 << 10;
const NG: u64 = 1 << 11;
const UXN: u64 = 1 << 54;

// Instruction words (checked with aarch64-linux-gnu-as / objdump).
/// hvc #0x99
const HVC_DONE: u32 = 0xd400_0002 | ((DONE as u32) << 5);
/// ldr x0, [x1]
const LDR_X0_X1: u32 = 0xf940_0020;
/// ldr x0, [x2]
const LDR_X0_X2: u32 = 0xf940_0040;
/// str x2, [x1]
const STR_X2_X1: u32 = 0xf900_0022;
/// str w2, [x1]
const STR_W2_X1: u32 = 0xb900_0022;
/// stlr wzr, [x1]
const STLR_WZR_X1: u32 = 0x889f_fc3f;
/// tlbi vae1is, x7
const TLBI_VAE1IS_X7: u32 = 0xd508_8327;
/// tlbi vae1, x7
const TLBI_VAE1_X7: u32 = 0xd508_8727;
/// tlbi vaae1is, x7
const TLBI_VAAE1IS_X7: u32 = 0xd508_8367;
/// tlbi vmalle1is
const TLBI_VMALLE1IS: u32 = 0xd508_831f;
/// tlbi vmalle1
const TLBI_VMALLE1: u32 = 0xd508_871f;
/// tlbi aside1is, x8
const TLBI_ASIDE1IS_X8: u32 = 0xd508_8348;
/// tlbi aside1, x8
const TLBI_ASIDE1_X8: u32 = 0xd508_8748;
/// ic ivau, x1
const IC_IVAU_X1: u32 = 0xd50b_7521;
/// ic ialluis
const IC_IALLUIS: u32 = 0xd508_711f;
/// ic iallu
const IC_IALLU: u32 = 0xd508_751f;
/// dsb ish
const DSB_ISH: u32 = 0xd503_3b9f;
/// isb
const ISB: u32 = 0xd503_3fdf;
/// blr x5
const BLR_X5: u32 = 0xd63f_00a0;
/// mov x0, #1
const MOV_X0_1: u32 = 0xd280_0020;
/// mov x0, #2
const MOV_X0_2: u32 = 0xd280_0040;
/// ret
const RET: u32 = 0xd65f_03c0;
/// ldxr x0, [x1]
const LDXR_X0_X1: u32 = 0xc85f_7c20;
/// add x0, x0, #1
const ADD_X0_1: u32 = 0x9100_0400;
/// stxr w3, x2, [x1]
const STXR_W3_X2_X1: u32 = 0xc803_7c22;
/// stxr w3, x0, [x1]
const STXR_W3_X0_X1: u32 = 0xc803_7c20;
/// wfe
const WFE: u32 = 0xd503_205f;
/// sev
const SEV: u32 = 0xd503_209f;
/// sevl
const SEVL: u32 = 0xd503_20bf;

/// An atomic increment of `[x1]`, `x4` times, counting failed store-exclusives in `x5`:
/// ```text
/// loop: ldxr  x0, [x1]
///       add   x0, x0, #1
///       stxr  w3, x0, [x1]
///       cbz   w3, ok
///       add   x5, x5, #1
///       b     loop
/// ok:   subs  x4, x4, #1
///       b.ne  loop
///       hvc   #0x99
/// ```
const ATOMIC_INC_LOOP: [u32; 9] = [
    LDXR_X0_X1,
    ADD_X0_1,
    STXR_W3_X0_X1,
    0x3400_0063,
    0x9100_04a5,
    0x17ff_fffb,
    0xf100_0484,
    0x54ff_ff21,
    HVC_DONE,
];

/// A spin-lock acquire that waits with WFE (as Linux's `smp_cond_load_acquire` does):
/// ```text
///       sevl
/// 1:    wfe
///       ldaxr w0, [x1]
///       cbnz  w0, 1b
///       hvc   #0x99
/// ```
const WFE_SPIN: [u32; 5] = [SEVL, WFE, 0x885f_fc20, 0x35ff_ffc0, HVC_DONE];

/// `x4` times: `tlbi vae1is, x7; x7 += 1`, then `dsb ish; isb; hvc #0x99`:
/// ```text
/// 1:    tlbi  vae1is, x7
///       add   x7, x7, #1
///       subs  x4, x4, #1
///       b.ne  1b
/// ```
const TLBI_LOOP: [u32; 7] = [
    TLBI_VAE1IS_X7,
    0x9100_04e7,
    0xf100_0484,
    0x54ff_ffa1,
    DSB_ISH,
    ISB,
    HVC_DONE,
];

/// Two PEs over one RAM buffer.
struct Smp {
    pes: [Cpu; 2],
    // Declared after `pes`: dropped after both CPUs.
    _ram: Vec<u8>,
}

impl Smp {
    /// Delivers A's broadcast maintenance to B, as the run loop does between turns.
    fn deliver_to_b(&mut self, ops: Vec<Shootdown>) {
        for op in ops {
            self.pes[B].apply_shootdown(op);
        }
    }

    /// B's code at CODE_B reads the old mapping's 0x1111 from its own TLB until A's
    /// maintenance `ops` reach it, then the new mapping's 0x2222.
    fn b_sees_the_remap_once_delivered(&mut self, ops: Vec<Shootdown>) {
        assert_eq!(self.run_at(B, CODE_B), DONE);
        assert_eq!(self.x(B, 0), 0x1111, "B's TLB caches the translation");
        self.deliver_to_b(ops);
        assert_eq!(self.run_at(B, CODE_B), DONE);
        assert_eq!(self.x(B, 0), 0x2222);
    }

    /// Two PEs at EL1 with IRQs unmasked, the vectors installed, the MMU off, and
    /// `multi_pe` set as the VMM sets it when more than one PE starts.
    fn new() -> Self {
        let mut ram = vec![0u8; SIZE as usize];
        let ptr = ram.as_mut_ptr();
        let mut pes = [0, 1].map(|_| {
            let mut cpu = Cpu::new(CpuProfile::default(), Box::new(NoMmio::default()));
            // SAFETY: `ram` lives in the same struct as the CPUs and is dropped after
            // them; the Vec's heap buffer never moves or resizes. Both CPUs map the same
            // buffer, but their accesses are never concurrent: the tests run them in turn
            // on one thread, as the VMM does.
            unsafe { cpu.core.phys().add_ram(ptr, RAM, SIZE).expect("ram") };
            cpu.core.sys.vbar = VBAR;
            cpu.core.regs.pstate.daif = 0;
            cpu.core.multi_pe = true;
            cpu
        });
        // Start with the event registers clear (their reset value).
        for cpu in &mut pes {
            assert!(!cpu.core.event);
        }
        let mut m = Self { pes, _ram: ram };
        for i in 0..16u32 {
            m.put(VBAR + 0x80 * u64::from(i), &[0xd400_0002 | (i << 5)]);
        }
        m
    }

    /// Writes instructions as a loader would (both PEs told to drop decoded code there).
    fn put(&mut self, addr: u64, words: &[u32]) {
        for (i, w) in words.iter().enumerate() {
            self.poke32(addr + 4 * i as u64, *w);
        }
        for cpu in &mut self.pes {
            cpu.invalidate_code(addr, 4 * words.len() as u64);
        }
    }

    fn poke32(&mut self, addr: u64, v: u32) {
        self.pes[A]
            .core
            .phys()
            .write(addr, 4, u64::from(v))
            .expect("ram");
    }

    fn poke(&mut self, addr: u64, v: u64) {
        self.pes[A].core.phys().write(addr, 8, v).expect("ram");
    }

    /// Reads shared RAM through PE `k`'s view (the same buffer for both).
    fn peek_via(&mut self, k: usize, addr: u64) -> u64 {
        self.pes[k].core.phys().read(addr, 8).expect("ram")
    }

    fn x(&self, k: usize, i: usize) -> u64 {
        self.pes[k].core.regs.x[i]
    }

    fn set_x(&mut self, k: usize, i: usize, v: u64) {
        self.pes[k].core.regs.x[i] = v;
    }

    /// Runs PE `k` from `pc` until an HVC exit; returns its immediate.
    fn run_at(&mut self, k: usize, pc: u64) -> u16 {
        self.pes[k].set_pc(pc);
        match self.pes[k].run(100_000) {
            Exit::Hvc(n) => n,
            other => panic!("PE {k}: expected an HVC exit, got {other:?}"),
        }
    }

    /// Builds the shared stage-1 tables (3 levels, T0SZ = T1SZ = 25): RAM's first 2 MiB
    /// identity-mapped with global EL1 RWX pages; VA 0..2 MiB (and its TTBR1 twin
    /// 0xffff_ff80_0000_0000..) through `L3_LOW`, whose entries the tests set.
    fn tables(&mut self) {
        self.poke(L1, L2_LOW | 3);
        self.poke(L1 + 8, L2_RAM | 3); // VA 1 GiB.. = RAM
        self.poke(L2_LOW, L3_LOW | 3);
        self.poke(L2_RAM, L3_RAM | 3);
        for i in 0..512 {
            self.poke(L3_RAM + 8 * i, (RAM + (i << 12)) | PAGE | AF);
        }
    }

    /// Turns PE `k`'s MMU on over the shared tables with ASID `asid`.
    fn mmu_on(&mut self, k: usize, asid: u64) {
        let c = &mut self.pes[k].core;
        c.sys.mair = 0xff;
        c.sys.tcr = 25 | (25 << 16) | (1 << 36); // T0SZ = T1SZ = 25, 16-bit ASIDs
        c.sys.ttbr0 = L1 | (asid << 48);
        c.sys.ttbr1 = L1;
        c.sys.sctlr |= 1;
        c.flush_tlb();
        c.sync_asid();
    }

    /// Both PEs' MMUs on over the same tables, with ASID `asid`.
    fn both_mmu_on(&mut self, asid: u64) {
        self.tables();
        self.mmu_on(A, asid);
        self.mmu_on(B, asid);
    }

    /// Sets the level-3 entry for VA `va` (< 2 MiB) of the low window.
    fn page(&mut self, va: u64, desc: u64) {
        self.poke(L3_LOW + 8 * (va >> 12), desc);
    }

    /// One scheduler turn of PE `k`, doing between turns what the VMM does: SEV sets
    /// every PE's event register; PE `k`'s shootdowns go to the other PE; PE `k`'s
    /// exclusive monitor is cleared.
    fn turn(&mut self, k: usize, budget: u64) -> Exit {
        let exit = self.pes[k].run(budget);
        if exit == Exit::Sev {
            for cpu in &mut self.pes {
                cpu.core.event = true;
            }
        }
        let ops = self.pes[k].take_shootdowns();
        for op in ops {
            self.pes[1 - k].apply_shootdown(op);
        }
        self.pes[k].clear_monitor();
        exit
    }
}

// ---- Broadcast TLB maintenance -------------------------------------------------------

/// Both PEs load `[0x1000]` (filling their TLBs), the test remaps the page, and PE A runs
/// `run_a`: returns A's shootdowns after checking that B still reads the old page until
/// they are applied.
fn remap_then_maintain_on_a(m: &mut Smp, desc_old: u64, desc_new: u64, run_a: &[u32]) {
    m.page(0x1000, desc_old);
    m.poke(DATA, 0x1111);
    m.poke(DATA2, 0x2222);
    m.put(CODE_A, &[LDR_X0_X1, HVC_DONE]);
    m.put(CODE_A + 0x100, run_a);
    m.put(CODE_B, &[LDR_X0_X1, HVC_DONE]);
    m.set_x(A, 1, 0x1000);
    m.set_x(B, 1, 0x1000);
    m.set_x(A, 7, 0x1000 >> 12);
    m.set_x(A, 8, m.pes[A].core.sys.ttbr0 & (0xffff << 48));
    for k in [A, B] {
        assert_eq!(m.run_at(k, CODE_A + 0x1000 * k as u64), DONE);
        assert_eq!(m.x(k, 0), 0x1111, "PE {k} reads the old page");
        assert!(
            m.pes[k].take_shootdowns().is_empty(),
            "loads broadcast nothing"
        );
    }
    m.page(0x1000, desc_new);
}

#[test]
fn tlbi_vae1is_is_recorded_and_reaches_the_other_pe_when_applied() {
    let mut m = Smp::new();
    m.both_mmu_on(0);
    remap_then_maintain_on_a(
        &mut m,
        DATA | PAGE | AF | UXN,
        DATA2 | PAGE | AF | UXN,
        // tlbi vae1is, x7; dsb ish; isb; ldr x0, [x1]; hvc
        &[TLBI_VAE1IS_X7, DSB_ISH, ISB, LDR_X0_X1, HVC_DONE],
    );
    assert_eq!(m.run_at(A, CODE_A + 0x100), DONE);
    assert_eq!(m.x(A, 0), 0x2222, "A's own TLB was invalidated");
    let ops = m.pes[A].take_shootdowns();
    assert_eq!(ops, [Shootdown::TlbVa(0x1000)]);
    assert!(
        m.pes[A].take_shootdowns().is_empty(),
        "taking drains the record"
    );
    assert!(m.pes[B].take_shootdowns().is_empty());
    // Not yet applied: B's TLB still holds the old translation (so the next check is
    // meaningful).
    assert_eq!(m.run_at(B, CODE_B), DONE);
    assert_eq!(m.x(B, 0), 0x1111, "B's TLB caches the translation");
    m.deliver_to_b(ops);
    assert_eq!(m.run_at(B, CODE_B), DONE);
    assert_eq!(
        m.x(B, 0),
        0x2222,
        "B walks the new tables after the shootdown"
    );
}

#[test]
fn tlbi_vmalle1is_is_recorded_and_drops_every_translation_of_the_other_pe() {
    let mut m = Smp::new();
    m.both_mmu_on(0);
    // B also caches VA 0x2000 (via x2), remapped too: "all" must drop it as well.
    m.page(0x2000, (DATA + 0x2000) | PAGE | AF | UXN);
    m.poke(DATA + 0x2000, 0x3333);
    m.poke(DATA + 0x3000, 0x4444);
    m.put(CODE_B + 0x100, &[LDR_X0_X2, HVC_DONE]);
    m.set_x(B, 2, 0x2000);
    assert_eq!(m.run_at(B, CODE_B + 0x100), DONE);
    assert_eq!(m.x(B, 0), 0x3333);
    remap_then_maintain_on_a(
        &mut m,
        DATA | PAGE | AF | UXN,
        DATA2 | PAGE | AF | UXN,
        &[TLBI_VMALLE1IS, DSB_ISH, ISB, LDR_X0_X1, HVC_DONE],
    );
    m.page(0x2000, (DATA + 0x3000) | PAGE | AF | UXN);
    assert_eq!(m.run_at(A, CODE_A + 0x100), DONE);
    assert_eq!(m.x(A, 0), 0x2222);
    let ops = m.pes[A].take_shootdowns();
    assert_eq!(ops, [Shootdown::TlbAll]);
    m.b_sees_the_remap_once_delivered(ops);
    assert_eq!(m.run_at(B, CODE_B + 0x100), DONE);
    assert_eq!(m.x(B, 0), 0x4444, "the other page's translation went too");
}

#[test]
fn tlbi_aside1is_is_recorded_and_drops_the_other_pes_non_global_translations() {
    let mut m = Smp::new();
    m.both_mmu_on(1);
    remap_then_maintain_on_a(
        &mut m,
        DATA | PAGE | AF | UXN | NG,
        DATA2 | PAGE | AF | UXN | NG,
        // tlbi aside1is, x8 (x8 = ASID 1 << 48); dsb ish; isb; ldr x0, [x1]; hvc
        &[TLBI_ASIDE1IS_X8, DSB_ISH, ISB, LDR_X0_X1, HVC_DONE],
    );
    assert_eq!(m.x(A, 8), 1 << 48);
    assert_eq!(m.run_at(A, CODE_A + 0x100), DONE);
    assert_eq!(m.x(A, 0), 0x2222);
    let ops = m.pes[A].take_shootdowns();
    assert_eq!(ops, [Shootdown::TlbNonGlobal]);
    m.b_sees_the_remap_once_delivered(ops);
}

#[test]
fn tlbi_vaae1is_of_a_kernel_half_address_reaches_the_other_pe() {
    // Linux's flush_tlb_kernel_range: TLBI VAALE1IS/VAAE1IS with Xt = VA<55:12>.
    let kva: u64 = 0xffff_ff80_0000_1000; // TTBR1, same level-3 entry as VA 0x1000
    let mut m = Smp::new();
    m.both_mmu_on(0);
    remap_then_maintain_on_a(
        &mut m,
        DATA | PAGE | AF | UXN,
        DATA2 | PAGE | AF | UXN,
        &[TLBI_VAAE1IS_X7, DSB_ISH, ISB, LDR_X0_X1, HVC_DONE],
    );
    // Redo the loads through the kernel-half alias, with the *old* descriptor in place.
    m.page(0x1000, DATA | PAGE | AF | UXN);
    for k in [A, B] {
        m.pes[k].core.flush_tlb();
        m.set_x(k, 1, kva);
        assert_eq!(m.run_at(k, CODE_A + 0x1000 * k as u64), DONE);
        assert_eq!(m.x(k, 0), 0x1111);
    }
    m.page(0x1000, DATA2 | PAGE | AF | UXN);
    m.set_x(A, 7, (kva >> 12) & ((1 << 44) - 1));
    assert_eq!(m.run_at(A, CODE_A + 0x100), DONE);
    assert_eq!(m.x(A, 0), 0x2222);
    let ops = m.pes[A].take_shootdowns();
    assert!(matches!(ops[..], [Shootdown::TlbVa(_)]), "{ops:x?}");
    m.b_sees_the_remap_once_delivered(ops);
}

#[test]
fn local_maintenance_and_a_lone_pe_broadcast_nothing() {
    let mut m = Smp::new();
    m.both_mmu_on(1);
    m.page(0x1000, DATA | PAGE | AF | UXN);
    m.set_x(A, 7, 1);
    m.set_x(A, 8, 1 << 48);
    m.put(
        CODE_A,
        &[
            TLBI_VAE1_X7,
            TLBI_VMALLE1,
            TLBI_ASIDE1_X8,
            IC_IALLU,
            DSB_ISH,
            ISB,
            HVC_DONE,
        ],
    );
    assert_eq!(m.run_at(A, CODE_A), DONE);
    assert!(m.pes[A].take_shootdowns().is_empty());
    // The broadcast forms do record, while A shares the machine...
    m.set_x(A, 1, 0x1000);
    m.put(
        CODE_A + 0x100,
        &[
            TLBI_VAE1IS_X7,
            TLBI_VMALLE1IS,
            TLBI_ASIDE1IS_X8,
            IC_IALLUIS,
            IC_IVAU_X1,
            DSB_ISH,
            ISB,
            HVC_DONE,
        ],
    );
    assert_eq!(m.run_at(A, CODE_A + 0x100), DONE);
    assert_eq!(
        m.pes[A].take_shootdowns(),
        [
            Shootdown::TlbVa(0x1000),
            Shootdown::TlbAll,
            Shootdown::TlbNonGlobal,
            Shootdown::CodeAll,
            Shootdown::Code(DATA, 64),
        ]
    );
    // ...and not when it is alone.
    m.pes[A].core.multi_pe = false;
    assert_eq!(m.run_at(A, CODE_A + 0x100), DONE);
    assert!(m.pes[A].take_shootdowns().is_empty());
}

#[test]
fn an_overflowing_shootdown_record_collapses_into_everything() {
    let mut m = Smp::new();
    m.both_mmu_on(0);
    remap_then_maintain_on_a(
        &mut m,
        DATA | PAGE | AF | UXN,
        DATA2 | PAGE | AF | UXN,
        &TLBI_LOOP,
    );
    // 300 TLBI VAE1IS, for VA 0x1000 (first, so lost in the collapse) and up.
    m.set_x(A, 4, 300);
    assert_eq!(m.run_at(A, CODE_A + 0x100), DONE);
    let ops = m.pes[A].take_shootdowns();
    assert!(ops.len() <= 256, "bounded: {}", ops.len());
    assert!(ops.contains(&Shootdown::TlbAll), "{ops:x?}");
    assert!(ops.contains(&Shootdown::CodeAll), "{ops:x?}");
    assert!(!ops.contains(&Shootdown::TlbVa(0x1000)));
    m.b_sees_the_remap_once_delivered(ops);
}

#[test]
fn a_tlbi_by_va_drops_the_other_pes_instruction_fetches_from_the_whole_block() {
    // B runs code at VA 0x20_1000, inside a 2 MiB block (VA 0x20_0000..0x40_0000). A
    // remaps the block and invalidates it by its first address, as Linux does for a huge
    // mapping (flush_tlb_range with a PMD stride). The TLBI covers every address the block
    // entry translates, so B must fetch through the new block.
    let mut m = Smp::new();
    m.both_mmu_on(0);
    let (old, new) = (RAM + (2 << 20), RAM + (4 << 20));
    m.put(old + 0x1000, &[MOV_X0_1, RET]);
    m.put(new + 0x1000, &[MOV_X0_2, RET]);
    m.poke(L2_LOW + 8, old | BLOCK | AF);
    // B: isb; blr x5 (to VA 0x20_1000); hvc. Its code and data are page-mapped, so the
    // only block-backed TLB entry it holds is the fetch one.
    m.put(CODE_B, &[ISB, BLR_X5, HVC_DONE]);
    m.set_x(B, 5, 0x20_1000);
    assert_eq!(m.run_at(B, CODE_B), DONE);
    assert_eq!(m.x(B, 0), 1);
    // A: tlbi vae1is, x7 (VA 0x20_0000); dsb ish; isb; hvc
    m.poke(L2_LOW + 8, new | BLOCK | AF);
    m.put(CODE_A, &[TLBI_VAE1IS_X7, DSB_ISH, ISB, HVC_DONE]);
    m.set_x(A, 7, 0x20_0000 >> 12);
    assert_eq!(m.run_at(A, CODE_A), DONE);
    let ops = m.pes[A].take_shootdowns();
    assert_eq!(ops, [Shootdown::TlbVa(0x20_0000)]);
    m.deliver_to_b(ops);
    assert_eq!(m.run_at(B, CODE_B), DONE);
    assert_eq!(
        m.x(B, 0),
        2,
        "B still fetches VA 0x20_1000 through the old block entry"
    );
}

#[test]
fn a_local_tlbi_by_va_drops_instruction_fetches_from_the_whole_block() {
    // The same on one PE (no shootdown involved): where the stale fetch entry comes from.
    let mut m = Smp::new();
    m.both_mmu_on(0);
    let (old, new) = (RAM + (2 << 20), RAM + (4 << 20));
    m.put(old + 0x1000, &[MOV_X0_1, RET]);
    m.put(new + 0x1000, &[MOV_X0_2, RET]);
    m.poke(L2_LOW + 8, old | BLOCK | AF);
    // blr x5; hvc -- then: tlbi vae1, x7; dsb ish; isb; blr x5; hvc
    m.put(CODE_A, &[BLR_X5, HVC_DONE]);
    m.put(
        CODE_A + 0x100,
        &[TLBI_VAE1_X7, DSB_ISH, ISB, BLR_X5, HVC_DONE],
    );
    m.set_x(A, 5, 0x20_1000);
    m.set_x(A, 7, 0x20_0000 >> 12);
    assert_eq!(m.run_at(A, CODE_A), DONE);
    assert_eq!(m.x(A, 0), 1);
    m.poke(L2_LOW + 8, new | BLOCK | AF);
    assert_eq!(m.run_at(A, CODE_A + 0x100), DONE);
    assert_eq!(
        m.x(A, 0),
        2,
        "A still fetches VA 0x20_1000 through the old block entry"
    );
}

// ---- Broadcast instruction-cache maintenance -----------------------------------------

/// B calls FUNC (`mov x0, #1; ret`) so that it is decoded; A overwrites its first word
/// with `mov x0, #2` through the alias VA 0x4000 (another page of A's address space) and
/// runs `maintain`. Returns A's shootdowns, after checking that B still runs the old code
/// until they are applied.
fn patch_code_on_a(m: &mut Smp, maintain: &[u32]) -> Vec<Shootdown> {
    m.both_mmu_on(0);
    m.page(0x4000, (FUNC & !0xfff) | PAGE | AF | UXN);
    let alias = 0x4000 + (FUNC & 0xfff);
    m.put(FUNC, &[MOV_X0_1, RET]);
    // B: blr x5; hvc
    m.put(CODE_B, &[BLR_X5, HVC_DONE]);
    m.set_x(B, 5, FUNC);
    assert_eq!(m.run_at(B, CODE_B), DONE);
    assert_eq!(m.x(B, 0), 1);
    // A: str w2, [x1] (the alias); <maintain>; hvc
    let mut code = vec![STR_W2_X1];
    code.extend_from_slice(maintain);
    code.push(HVC_DONE);
    m.put(CODE_A, &code);
    m.set_x(A, 1, alias);
    m.set_x(A, 2, u64::from(MOV_X0_2));
    assert_eq!(m.run_at(A, CODE_A), DONE);
    assert_eq!(m.peek_via(B, FUNC) as u32, MOV_X0_2, "one RAM for both PEs");
    let ops = m.pes[A].take_shootdowns();
    // Not yet applied: B still runs its decoded copy (so the next check is meaningful).
    assert_eq!(m.run_at(B, CODE_B), DONE);
    assert_eq!(m.x(B, 0), 1, "B's decoded code is cached");
    ops
}

#[test]
fn ic_ivau_on_one_pe_makes_the_other_run_the_new_code() {
    let mut m = Smp::new();
    // ic ivau, x1; dsb ish; isb
    let ops = patch_code_on_a(&mut m, &[IC_IVAU_X1, DSB_ISH, ISB]);
    // The record names the physical line (A used an alias B does not have).
    match ops[..] {
        [Shootdown::Code(pa, len)] => {
            assert!(pa <= FUNC && FUNC + 4 <= pa + len, "{pa:#x}+{len:#x}");
        }
        _ => panic!("expected one code shootdown, got {ops:x?}"),
    }
    m.deliver_to_b(ops);
    assert_eq!(m.run_at(B, CODE_B), DONE);
    assert_eq!(m.x(B, 0), 2, "B runs the patched code");
}

#[test]
fn ic_ialluis_on_one_pe_makes_the_other_run_the_new_code() {
    let mut m = Smp::new();
    // ic ialluis; dsb ish; isb
    let ops = patch_code_on_a(&mut m, &[IC_IALLUIS, DSB_ISH, ISB]);
    assert_eq!(ops, [Shootdown::CodeAll]);
    m.deliver_to_b(ops);
    assert_eq!(m.run_at(B, CODE_B), DONE);
    assert_eq!(m.x(B, 0), 2, "B runs the patched code");
}

#[test]
fn local_ic_iallu_leaves_the_other_pe_alone() {
    let mut m = Smp::new();
    let ops = patch_code_on_a(&mut m, &[IC_IALLU, DSB_ISH, ISB]);
    assert!(ops.is_empty(), "{ops:x?}");
}

// ---- Exclusives ----------------------------------------------------------------------

#[test]
fn a_store_by_another_pe_between_turns_fails_the_store_exclusive() {
    let mut m = Smp::new();
    m.both_mmu_on(0);
    m.poke(DATA, 7);
    m.put(CODE_A, &[LDXR_X0_X1, HVC_DONE]);
    m.put(CODE_A + 0x100, &[STXR_W3_X2_X1, HVC_DONE]);
    m.put(CODE_B, &[STR_X2_X1, HVC_DONE]);
    for k in [A, B] {
        m.set_x(k, 1, DATA);
    }
    m.set_x(A, 2, 0xaaaa);
    m.set_x(B, 2, 0xbbbb);
    // A's turn: the load-exclusive; the turn ends and the embedder clears A's monitor.
    assert_eq!(m.run_at(A, CODE_A), DONE);
    assert_eq!(m.x(A, 0), 7);
    assert!(m.pes[A].core.monitor.is_some(), "LDXR armed the monitor");
    m.pes[A].clear_monitor();
    assert_eq!(m.pes[A].core.monitor, None);
    // B's turn: a plain store to the granule.
    assert_eq!(m.run_at(B, CODE_B), DONE);
    m.pes[B].clear_monitor();
    // A's next turn: the store-exclusive must fail and leave B's value.
    m.set_x(A, 3, 0x55);
    assert_eq!(m.run_at(A, CODE_A + 0x100), DONE);
    assert_eq!(m.x(A, 3), 1, "STXR fails");
    assert_eq!(m.peek_via(A, DATA), 0xbbbb, "B's store is not overwritten");
}

#[test]
fn an_exclusive_pair_within_one_turn_succeeds_whatever_the_other_pe_did() {
    let mut m = Smp::new();
    m.both_mmu_on(0);
    m.poke(DATA, 7);
    // ldxr x0, [x1]; add x0, x0, #1; stxr w3, x0, [x1]; hvc
    let inc = [LDXR_X0_X1, ADD_X0_1, STXR_W3_X0_X1, HVC_DONE];
    m.put(CODE_A, &inc);
    m.put(CODE_B, &[STR_X2_X1, HVC_DONE]);
    m.put(CODE_B + 0x100, &inc);
    for k in [A, B] {
        m.set_x(k, 1, DATA);
        m.set_x(k, 3, 0x55);
    }
    m.set_x(B, 2, 100);
    m.pes[A].set_pc(CODE_A);
    m.pes[B].set_pc(CODE_B);
    // B stores; A increments in one turn; B increments in one turn.
    assert_eq!(m.turn(B, 100), Exit::Hvc(DONE));
    assert_eq!(m.turn(A, 100), Exit::Hvc(DONE));
    assert_eq!(m.x(A, 3), 0, "A's STXR succeeds");
    m.pes[B].set_pc(CODE_B + 0x100);
    assert_eq!(m.turn(B, 100), Exit::Hvc(DONE));
    assert_eq!(m.x(B, 3), 0, "B's STXR succeeds");
    assert_eq!(m.peek_via(B, DATA), 102);
}

#[test]
fn ldxr_stxr_increments_lose_no_update_when_turns_split_the_pairs() {
    const N: u64 = 300;
    let mut m = Smp::new();
    m.both_mmu_on(0);
    m.poke(DATA, 0);
    m.put(CODE_A, &ATOMIC_INC_LOOP);
    for k in [A, B] {
        m.set_x(k, 1, DATA);
        m.set_x(k, 4, N);
        m.set_x(k, 5, 0);
        m.pes[k].set_pc(CODE_A);
    }
    // Small, varying budgets (3..=10 instructions) so that turn ends fall between the
    // LDXR and the STXR of many pairs; a turn of 3 or more can complete a pair.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut done = [false; 2];
    let mut turns = 0;
    while !(done[A] && done[B]) {
        for k in [A, B] {
            if done[k] {
                continue;
            }
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            match m.turn(k, 3 + seed % 8) {
                Exit::Budget => {}
                Exit::Hvc(DONE) => done[k] = true,
                other => panic!("PE {k}: unexpected {other:?}"),
            }
        }
        turns += 1;
        assert!(turns < 100_000, "no progress: {:?}", [m.x(A, 4), m.x(B, 4)]);
    }
    let failures = [m.x(A, 5), m.x(B, 5)];
    assert!(
        failures.iter().all(|&f| f > 0),
        "turn ends split some pairs on both PEs: {failures:?}"
    );
    assert_eq!(m.peek_via(A, DATA), 2 * N, "failures {failures:?}");
}

// ---- WFE / SEV -----------------------------------------------------------------------

#[test]
fn wfe_yields_on_a_shared_machine_until_the_event_register_is_set() {
    let mut m = Smp::new();
    m.put(CODE_A, &[WFE, HVC_DONE]);
    m.pes[A].set_pc(CODE_A);
    assert_eq!(m.pes[A].run(100), Exit::Yield);
    assert_eq!(m.pes[A].core.regs.pc, CODE_A + 4, "resumes after the WFE");
    // Run it again with the event register still clear: it waits again.
    m.pes[A].set_pc(CODE_A);
    assert_eq!(m.pes[A].run(100), Exit::Yield);
    // With the event set, WFE consumes it and goes on.
    m.pes[A].core.event = true;
    assert_eq!(m.run_at(A, CODE_A), DONE);
    assert!(!m.pes[A].core.event, "WFE consumed the event");
    // A PE alone in the machine never waits.
    m.pes[A].core.multi_pe = false;
    assert_eq!(m.run_at(A, CODE_A), DONE);
}

#[test]
fn sevl_sets_only_the_own_event_register() {
    let mut m = Smp::new();
    m.put(CODE_A, &[SEVL, WFE, HVC_DONE]);
    m.put(CODE_B, &[WFE, HVC_DONE]);
    assert_eq!(m.run_at(A, CODE_A), DONE, "SEVL; WFE does not wait");
    assert!(!m.pes[A].core.event);
    m.pes[B].set_pc(CODE_B);
    assert_eq!(m.pes[B].run(100), Exit::Yield, "B's event is still clear");
}

#[test]
fn sev_exits_so_that_the_embedder_wakes_every_pe() {
    let mut m = Smp::new();
    m.put(CODE_A, &[SEV, WFE, HVC_DONE]);
    m.put(CODE_B, &[WFE, HVC_DONE]);
    m.pes[A].set_pc(CODE_A);
    assert_eq!(m.pes[A].run(100), Exit::Sev);
    assert_eq!(m.pes[A].core.regs.pc, CODE_A + 4);
    assert!(m.pes[A].core.event, "SEV sets the sender's own event too");
    assert!(
        !m.pes[B].core.event,
        "the CPU does not reach the other PE itself"
    );
    // The embedder's part (run.rs): every PE's event register.
    for cpu in &mut m.pes {
        cpu.core.event = true;
    }
    assert_eq!(m.run_at(B, CODE_B), DONE, "B's WFE completes");
    m.pes[A].set_pc(CODE_A + 4);
    assert_eq!(m.pes[A].run(100), Exit::Hvc(DONE), "A's WFE completes");
    // Alone, SEV is no reason to stop.
    m.pes[A].core.multi_pe = false;
    assert_eq!(m.run_at(A, CODE_A), DONE);
}

#[test]
fn clearing_the_monitor_sets_the_event_register() {
    let mut m = Smp::new();
    m.put(CODE_A, &[WFE, HVC_DONE]);
    m.pes[A].core.monitor = Some((DATA, 8));
    m.pes[A].clear_monitor();
    assert_eq!(m.pes[A].core.monitor, None);
    assert!(m.pes[A].core.event);
    assert_eq!(m.run_at(A, CODE_A), DONE, "the WFE completes");
}

#[test]
fn a_wfe_spin_lock_is_released_by_the_other_pe() {
    let mut m = Smp::new();
    m.both_mmu_on(0);
    m.poke(DATA, 1); // held by A
    m.put(CODE_A, &[STLR_WZR_X1, SEV, HVC_DONE]);
    m.put(CODE_B, &WFE_SPIN);
    for k in [A, B] {
        m.set_x(k, 1, DATA);
    }
    m.pes[A].set_pc(CODE_A);
    m.pes[B].set_pc(CODE_B);
    // B waits: SEVL; WFE; LDAXR (held); WFE with the event clear -> yield.
    assert_eq!(m.turn(B, 1000), Exit::Yield);
    assert_eq!(m.pes[B].core.regs.pc, CODE_B + 8);
    // A releases (STLR) and signals.
    assert_eq!(m.turn(A, 1000), Exit::Sev);
    assert_eq!(m.turn(A, 1000), Exit::Hvc(DONE));
    // B takes the lock.
    assert_eq!(m.turn(B, 1000), Exit::Hvc(DONE));
    assert_eq!(m.x(B, 0), 0);
}

#[test]
fn power_on_keeps_the_pe_in_the_shared_machine() {
    // PSCI CPU_ON / a spin-table release: the secondary must still wait in WFE and
    // broadcast its maintenance.
    let mut m = Smp::new();
    m.put(
        CODE_B,
        &[WFE, TLBI_VMALLE1IS, IC_IALLUIS, DSB_ISH, ISB, HVC_DONE],
    );
    m.pes[B].core.event = true;
    m.pes[B].core.monitor = Some((DATA, 8));
    m.pes[B].power_on(CODE_B, 0x1234);
    let c = &m.pes[B].core;
    assert!(c.multi_pe);
    assert!(!c.event, "reset clears the event register");
    assert_eq!(c.monitor, None);
    assert_eq!(c.regs.x[0], 0x1234);
    assert_eq!(m.pes[B].run(100), Exit::Yield);
    m.pes[B].core.event = true;
    assert_eq!(m.pes[B].run(100), Exit::Hvc(DONE));
    assert_eq!(
        m.pes[B].take_shootdowns(),
        [Shootdown::TlbAll, Shootdown::CodeAll]
    );
}
