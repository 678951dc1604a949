//! System-level behaviour at EL0/EL1 with hand-built state: exception entry
//! and return, syndromes, MMU faults, the exclusive monitor, decoded-code
//! invalidation, WFI and the timer. Every vector holds `hvc #n` (n = vector
//! index), so a run stops with `Exit::Hvc(n)` when an exception is taken.

use a64::{Cpu, CpuProfile, Exit, NoMmio};

const RAM: u64 = 0x4000_0000;
const SIZE: u64 = 4 << 20;
const VBAR: u64 = RAM + 0x1_0000;
const TABLES: u64 = RAM + 0x10_0000;
/// Vector indexes (offset / 0x80).
const EL1H_SYNC: u16 = 4;
const EL1H_IRQ: u16 = 5;
const EL0_SYNC: u16 = 8;
const DONE: u16 = 0x99;

// Instruction words (from aarch64-linux-gnu-as).
const SVC_42: u32 = 0xd400_0841;
const ERET: u32 = 0xd69f_03e0;
const HVC_DONE: u32 = 0xd400_0002 | ((DONE as u32) << 5);
const LDR_X0_X1: u32 = 0xf940_0020;
const STR_X2_X1: u32 = 0xf900_0022;
const MRS_X0_MIDR: u32 = 0xd538_0000;
const MRS_X0_SCTLR: u32 = 0xd538_1000;
const LDR_Q0_X1: u32 = 0x3dc0_0020;
const LDXR_X0_X1: u32 = 0xc85f_7c20;
const STXR_W3_X2_X1: u32 = 0xc803_7c22;
const CLREX: u32 = 0xd503_3f5f;
const MOV_X0_1: u32 = 0xd280_0020;
const MOV_X0_2: u32 = 0xd280_0040;
const RET: u32 = 0xd65f_03c0;
const IC_IVAU_X1: u32 = 0xd50b_7521;
const DSB_ISH: u32 = 0xd503_3b9f;
const ISB: u32 = 0xd503_3fdf;
const BLR_X5: u32 = 0xd63f_00a0;
const WFI: u32 = 0xd503_207f;
const LDTR_X0_X1: u32 = 0xf840_0820;
const LDUR_W0_X1_1: u32 = 0xb840_1020;
const LDAR_X0_X1: u32 = 0xc8df_fc20;
const AT_S1E1R_X1: u32 = 0xd508_7801;
const NOP: u32 = 0xd503_201f;

struct Machine {
    cpu: Cpu,
    // Declared after `cpu`: dropped after it.
    _ram: Vec<u8>,
}

impl Machine {
    fn new() -> Self {
        let mut ram = vec![0u8; SIZE as usize];
        let mut cpu = Cpu::new(CpuProfile::default(), Box::new(NoMmio::default()));
        // SAFETY: `ram` lives in the same struct and is dropped after the CPU;
        // the Vec's heap buffer does not move.
        unsafe {
            cpu.core
                .phys()
                .add_ram(ram.as_mut_ptr(), RAM, SIZE)
                .expect("ram")
        };
        let mut m = Self { cpu, _ram: ram };
        for i in 0..16u32 {
            m.put(VBAR + 0x80 * u64::from(i), &[0xd400_0002 | (i << 5)]);
        }
        m.cpu.core.sys.vbar = VBAR;
        m.cpu.core.regs.pstate.daif = 0;
        m
    }

    fn put(&mut self, addr: u64, words: &[u32]) {
        for (i, w) in words.iter().enumerate() {
            self.cpu
                .core
                .phys()
                .write(addr + 4 * i as u64, 4, u64::from(*w))
                .expect("ram");
        }
        self.cpu.invalidate_code(addr, 4 * words.len() as u64);
    }

    fn poke(&mut self, addr: u64, v: u64) {
        self.cpu.core.phys().write(addr, 8, v).expect("ram");
    }

    fn peek(&mut self, addr: u64) -> u64 {
        self.cpu.core.phys().read(addr, 8).expect("ram")
    }

    /// Run code at `pc` until an HVC exit.
    fn run_at(&mut self, pc: u64) -> u16 {
        self.cpu.set_pc(pc);
        self.run()
    }

    fn run(&mut self) -> u16 {
        match self.cpu.run(100_000) {
            Exit::Hvc(n) => n,
            other => panic!("expected an HVC exit, got {other:?}"),
        }
    }

    fn enter_el0(&mut self) {
        self.cpu.core.regs.switch_sp(0, false);
    }

    fn esr(&self) -> u64 {
        self.cpu.core.sys.esr
    }

    /// Enable a 3-level (T0SZ = 25) stage-1 map: RAM identity-mapped as an
    /// EL1-only RWX 2 MiB block pair; VA 0..2 MiB through a level-3 table
    /// whose entries `page` fills.
    fn mmu_on(&mut self, asid: u64) {
        let l1 = TABLES;
        let l2_low = TABLES + 0x1000;
        let l3 = TABLES + 0x2000;
        let l2_ram = TABLES + 0x3000;
        self.poke(l1, l2_low | 3);
        self.poke(l1 + 8, l2_ram | 3); // VA 1 GiB.. = RAM base
        self.poke(l2_low, l3 | 3);
        for i in 0..2 {
            // Block, AF, AttrIndx 0, AP=00 (EL1 RW).
            self.poke(l2_ram + 8 * i, (RAM + (i << 21)) | 1 | (1 << 10));
        }
        let c = &mut self.cpu.core;
        c.sys.mair = 0xff;
        c.sys.tcr = 25 | (1 << 36); // T0SZ = 25, 16-bit ASIDs
        c.sys.ttbr0 = l1 | (asid << 48);
        c.sys.sctlr |= 1;
        c.flush_tlb();
        c.sync_asid();
    }

    /// Set the level-3 entry for VA `va` (< 2 MiB).
    fn page(&mut self, va: u64, desc: u64) {
        self.poke(TABLES + 0x2000 + 8 * (va >> 12), desc);
    }
}

/// Page descriptor bits.
const PAGE: u64 = 3;
const AF: u64 = 1 << 10;
const AP_EL0: u64 = 1 << 6;
const AP_RO: u64 = 1 << 7;
const NG: u64 = 1 << 11;
const UXN: u64 = 1 << 54;

const CODE: u64 = RAM + 0x2_0000;
const DATA: u64 = RAM + 0x3_0000;

#[test]
fn svc_from_el0_takes_the_lower_el_sync_vector_with_full_syndrome() {
    let mut m = Machine::new();
    m.put(CODE, &[SVC_42]);
    m.enter_el0();
    m.cpu.core.regs.nzcv = 0x6000_0000;
    assert_eq!(m.run_at(CODE), EL0_SYNC);
    let c = &m.cpu.core;
    assert_eq!(c.sys.esr, (0x15 << 26) | (1 << 25) | 0x42);
    assert_eq!(c.sys.elr, CODE + 4);
    assert_eq!(c.sys.spsr, 0x6000_0000, "EL0t, flags saved, DAIF clear");
    assert_eq!(c.regs.pstate.el, 1);
    assert!(c.regs.pstate.sp_sel);
    assert_eq!(c.regs.pstate.daif, 0x3c0, "all of DAIF masked on entry");
}

#[test]
fn eret_restores_pstate_and_returns_to_elr() {
    let mut m = Machine::new();
    m.put(CODE, &[ERET]);
    m.put(DATA, &[HVC_DONE]);
    m.cpu.core.sys.elr = DATA;
    m.cpu.core.sys.spsr = 0x9000_0000 | 0x80; // N, V, I masked, EL0t
    m.cpu.core.regs.sp_el[0] = 0x1234_0000;
    m.cpu.set_pc(CODE);
    assert_eq!(m.cpu.run(1), Exit::Budget);
    let r = &m.cpu.core.regs;
    assert_eq!(
        (r.pc, r.pstate.el, r.nzcv, r.pstate.daif),
        (DATA, 0, 0x9000_0000, 0x80)
    );
    assert_eq!(r.x[32], 0x1234_0000, "SP_EL0 selected");
}

#[test]
fn illegal_exception_return_sets_il_and_traps_next_instruction() {
    let mut m = Machine::new();
    m.put(CODE, &[ERET]);
    m.put(DATA, &[NOP]);
    m.cpu.core.sys.elr = DATA;
    m.cpu.core.sys.spsr = 0b01001; // EL2h: not implemented
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr() >> 26, 0x0E);
    assert_eq!(
        m.cpu.core.sys.spsr & (1 << 20),
        1 << 20,
        "SPSR.IL records the illegal state"
    );
}

#[test]
fn el0_mrs_of_id_register_traps_with_sysreg_syndrome() {
    let mut m = Machine::new();
    m.put(CODE, &[MRS_X0_MIDR]);
    m.enter_el0();
    assert_eq!(m.run_at(CODE), EL0_SYNC);
    // EC 0x18, op0=3 op2=0 op1=0 CRn=0 Rt=0 CRm=0, direction read.
    assert_eq!(m.esr(), (0x18 << 26) | (1 << 25) | (3 << 20) | 1);
    assert_eq!(m.cpu.core.sys.elr, CODE);
}

#[test]
fn el0_mrs_of_sctlr_is_undefined() {
    let mut m = Machine::new();
    m.put(CODE, &[MRS_X0_SCTLR]);
    m.enter_el0();
    assert_eq!(m.run_at(CODE), EL0_SYNC);
    assert_eq!(m.esr(), 1 << 25);
}

#[test]
fn el1_reads_id_registers_and_unknown_id_space_as_zero() {
    let mut m = Machine::new();
    // mrs x0, midr_el1; mrs x1, s3_0_c0_c2_7 (ID_ISAR6-like, unnamed)
    m.put(CODE, &[MRS_X0_MIDR, 0xd538_02e1, HVC_DONE]);
    m.cpu.core.regs.x[1] = 0xdead;
    assert_eq!(m.run_at(CODE), DONE);
    assert_eq!(m.cpu.core.regs.x[0], 0x410F_D034);
    assert_eq!(m.cpu.core.regs.x[1], 0);
}

#[test]
fn fp_access_traps_until_cpacr_enables_it() {
    let mut m = Machine::new();
    m.put(CODE, &[LDR_Q0_X1, HVC_DONE]);
    m.cpu.core.regs.x[1] = DATA;
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr(), (0x07 << 26) | (1 << 25) | (1 << 24) | (0xE << 20));
    m.cpu.core.sys.cpacr = 1 << 20;
    m.cpu.core.regs.pstate.daif = 0;
    assert_eq!(m.run_at(CODE), DONE);
}

#[test]
fn every_fp_and_simd_table_entry_traps_while_cpacr_disables_fp() {
    use a64::decode::{decoder, Group, Handler, Pattern};
    use a64::table::INSNS;
    let mut m = Machine::new();
    let mut seed = 0x1234_5678_9abc_def0u64;
    for insn in INSNS {
        let p = Pattern::parse(insn.pattern).expect("valid pattern");
        let fp_group = Group::of(p.value) == Group::SimdFp;
        let structures =
            insn.name.starts_with("LDST_multi") || insn.name.starts_with("LDST_single");
        if !fp_group && !structures {
            continue;
        }
        let mut tried = 0;
        for _ in 0..256 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Alternate dense and sparse field values (fields that must be
            // zero, such as FMOV's imm5, need the sparse ones).
            let bits = (seed >> 32) as u32 & !p.mask;
            let w = p.value
                | if seed & 1 == 0 {
                    bits
                } else {
                    bits & (seed >> 8) as u32 & (seed >> 16) as u32
                };
            let op = decoder().decode(w);
            if decoder().name_of(w) != Some(insn.name)
                || std::ptr::fn_addr_eq(op.h, a64::exec::undefined as Handler)
            {
                continue;
            }
            m.put(CODE, &[w, HVC_DONE]);
            m.cpu.core.sys.cpacr = 0;
            m.cpu.core.regs.pstate.daif = 0;
            m.cpu.core.regs.x[1] = DATA;
            assert_eq!(m.run_at(CODE), EL1H_SYNC, "{} {w:#010x}", insn.name);
            assert_eq!(
                m.esr(),
                (0x07 << 26) | (1 << 25) | (1 << 24) | (0xE << 20),
                "{} {w:#010x}",
                insn.name
            );
            tried += 1;
            if tried == 8 {
                break;
            }
        }
        assert!(tried > 0, "{}: no allocated encoding found", insn.name);
    }
}

#[test]
fn undefined_words_are_counted_per_group() {
    let mut m = Machine::new();
    m.put(CODE, &[0x0000_0000]);
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr(), 1 << 25);
    let counts = m.cpu.undefined_counts();
    assert!(counts.contains(&("reserved", 1)), "{counts:?}");
    assert_eq!(m.cpu.undefined_words(), &[(0, 1)]);
}

#[test]
fn translation_fault_reports_level_far_and_direction() {
    let mut m = Machine::new();
    m.mmu_on(0);
    m.put(CODE, &[STR_X2_X1]);
    m.cpu.core.regs.x[1] = 0x8008; // level-3 entry is empty
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr(), (0x25 << 26) | (1 << 25) | (1 << 6) | 0x07);
    assert_eq!(m.cpu.core.sys.far, 0x8008);
    assert_eq!(m.cpu.core.sys.elr, CODE);
}

#[test]
fn permission_and_access_flag_faults_have_their_status_codes() {
    let mut m = Machine::new();
    m.mmu_on(0);
    m.page(0x1000, DATA | PAGE | AF | AP_RO | UXN); // EL1 read-only
    m.page(0x2000, DATA | PAGE | UXN); // AF clear
    m.put(CODE, &[STR_X2_X1]);
    m.cpu.core.regs.x[1] = 0x1010;
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr() & 0x7f, (1 << 6) | 0x0F);
    m.put(CODE, &[LDR_X0_X1]);
    m.cpu.core.regs.x[1] = 0x2000;
    m.cpu.core.regs.pstate.daif = 0;
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr() & 0x7f, 0x0B);
}

#[test]
fn el0_and_ldtr_accesses_obey_el0_permissions() {
    let mut m = Machine::new();
    m.mmu_on(0);
    m.page(0x1000, DATA | PAGE | AF | UXN); // EL1 only
    m.page(0x3000, (CODE + 0x1000) | PAGE | AF | AP_EL0 | AP_RO); // EL0 code
    m.put(CODE + 0x1000, &[LDR_X0_X1]);
    m.put(CODE, &[LDTR_X0_X1]);
    m.cpu.core.regs.x[1] = 0x1000;
    // LDTR at EL1 checks EL0 permissions.
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr() >> 26, 0x25);
    assert_eq!(m.esr() & 0x3f, 0x0F);
    // A plain load at EL0 takes the lower-EL data abort.
    m.enter_el0();
    m.cpu.core.regs.pstate.daif = 0;
    assert_eq!(m.run_at(0x3000), EL0_SYNC);
    assert_eq!(m.esr() >> 26, 0x24);
    assert_eq!(m.esr() & 0x3f, 0x0F);
    // EL1 cannot execute EL0-writable or EL0 code through PXN... but EL0 can
    // execute its own page: the fault above came from the load, not the fetch.
    assert_eq!(m.cpu.core.sys.elr, 0x3000);
}

#[test]
fn instruction_fetch_from_unmapped_page_is_an_instruction_abort() {
    let mut m = Machine::new();
    m.mmu_on(0);
    assert_eq!(m.run_at(0x5000), EL1H_SYNC);
    assert_eq!(m.esr(), (0x21 << 26) | (1 << 25) | 0x07);
    assert_eq!(m.cpu.core.sys.far, 0x5000);
}

#[test]
fn alignment_faults_for_acquire_and_device_accesses() {
    let mut m = Machine::new();
    m.put(CODE, &[LDAR_X0_X1]);
    m.cpu.core.regs.x[1] = DATA + 4;
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr() & 0x3f, 0x21);
    // MMU off: data accesses are Device memory, so unaligned ones fault too.
    m.put(CODE, &[LDUR_W0_X1_1]);
    m.cpu.core.regs.x[1] = DATA;
    m.cpu.core.regs.pstate.daif = 0;
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr() & 0x3f, 0x21);
    assert_eq!(m.cpu.core.sys.far, DATA + 1);
}

#[test]
fn unmapped_physical_access_is_a_synchronous_external_abort() {
    let mut m = Machine::new();
    m.put(CODE, &[LDR_X0_X1]);
    m.cpu.core.regs.x[1] = 0x0900_0000;
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr() & 0x3f, 0x10);
}

#[test]
fn at_s1e1r_writes_par() {
    let mut m = Machine::new();
    m.mmu_on(0);
    m.page(0x1000, DATA | PAGE | AF | UXN);
    m.put(CODE, &[AT_S1E1R_X1, HVC_DONE]);
    m.cpu.core.regs.x[1] = 0x1234;
    assert_eq!(m.run_at(CODE), DONE);
    assert_eq!(m.cpu.core.sys.par & 0xffff_ffff_f001, DATA);
    m.cpu.core.regs.x[1] = 0x9000;
    assert_eq!(m.run_at(CODE), DONE);
    assert_eq!(m.cpu.core.sys.par & 0x7f, 1 | (0x07 << 1));
}

#[test]
fn exclusive_monitor_pairs_loads_with_stores() {
    let mut m = Machine::new();
    m.mmu_on(0);
    m.page(0x1000, DATA | PAGE | AF | UXN);
    let seq = [
        LDXR_X0_X1,
        STXR_W3_X2_X1,
        0xaa03_03e4, /* mov x4, x3 */
        STXR_W3_X2_X1,
        HVC_DONE,
    ];
    m.put(CODE, &seq);
    m.cpu.core.regs.x[1] = 0x1008;
    m.cpu.core.regs.x[2] = 0x55;
    assert_eq!(m.run_at(CODE), DONE);
    assert_eq!(m.cpu.core.regs.x[4], 0, "first store-exclusive succeeds");
    assert_eq!(m.cpu.core.regs.x[3], 1, "second fails: monitor was cleared");
    assert_eq!(m.peek(DATA + 8), 0x55);
    m.put(CODE, &[LDXR_X0_X1, CLREX, STXR_W3_X2_X1, HVC_DONE]);
    m.cpu.core.regs.x[2] = 0x66;
    assert_eq!(m.run_at(CODE), DONE);
    assert_eq!(m.cpu.core.regs.x[3], 1, "CLREX clears the monitor");
    assert_eq!(m.peek(DATA + 8), 0x55);
}

#[test]
fn exception_entry_clears_the_monitor() {
    let mut m = Machine::new();
    m.put(CODE, &[LDXR_X0_X1, SVC_42]);
    m.put(CODE + 0x100, &[STXR_W3_X2_X1, HVC_DONE]);
    m.cpu.core.regs.x[1] = DATA;
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    m.cpu.core.regs.pstate.daif = 0;
    assert_eq!(m.run_at(CODE + 0x100), DONE);
    assert_eq!(m.cpu.core.regs.x[3], 1);
}

#[test]
fn code_patched_through_an_alias_is_seen_after_ic_ivau() {
    let mut m = Machine::new();
    m.mmu_on(0);
    let func = CODE + 0x800;
    // Alias VA 0x4000 -> the physical page holding `func`, writable at EL1.
    m.page(0x4000, (func & !0xfff) | PAGE | AF | UXN);
    let alias = 0x4000 + (func & 0xfff);
    m.put(func, &[MOV_X0_1, RET]);
    // blr x5; mov x6, x0; str w2, [x1] (alias); ic ivau, x1; dsb; isb; blr x5; hvc
    let str_w2_x1 = 0xb900_0022;
    let mov_x6_x0 = 0xaa00_03e6;
    m.put(
        CODE,
        &[
            BLR_X5, mov_x6_x0, str_w2_x1, IC_IVAU_X1, DSB_ISH, ISB, BLR_X5, HVC_DONE,
        ],
    );
    m.cpu.core.regs.x[5] = func;
    m.cpu.core.regs.x[1] = alias;
    m.cpu.core.regs.x[2] = u64::from(MOV_X0_2);
    assert_eq!(m.run_at(CODE), DONE);
    assert_eq!(m.cpu.core.regs.x[6], 1);
    assert_eq!(m.cpu.core.regs.x[0], 2, "patched code executed");
}

#[test]
fn plain_store_to_decoded_code_is_seen_after_a_branch() {
    let mut m = Machine::new();
    let func = CODE + 0x800;
    m.put(func, &[MOV_X0_1, RET]);
    let str_w2_x1 = 0xb900_0022;
    let mov_x6_x0 = 0xaa00_03e6;
    m.put(CODE, &[BLR_X5, mov_x6_x0, str_w2_x1, ISB, BLR_X5, HVC_DONE]);
    m.cpu.core.regs.x[5] = func;
    m.cpu.core.regs.x[1] = func;
    m.cpu.core.regs.x[2] = u64::from(MOV_X0_2);
    assert_eq!(m.run_at(CODE), DONE);
    assert_eq!((m.cpu.core.regs.x[6], m.cpu.core.regs.x[0]), (1, 2));
}

#[test]
fn wfi_reports_idle_until_the_timer_deadline_then_irq_is_taken() {
    let mut m = Machine::new();
    m.put(CODE, &[WFI, HVC_DONE]);
    m.cpu.core.sys.cntv_cval = 5000;
    m.cpu.core.sys.cntv_ctl = 1;
    m.cpu.set_pc(CODE);
    assert_eq!(
        m.cpu.run(100),
        Exit::Idle {
            deadline: Some(5000)
        }
    );
    assert!(!m.cpu.core.vtimer_irq());
    m.cpu.advance_counter_to(5000);
    assert!(m.cpu.core.vtimer_irq());
    m.cpu.set_irq(true);
    assert_eq!(m.run(), EL1H_IRQ);
    assert_eq!(m.cpu.core.sys.elr, CODE + 4, "IRQ returns after the WFI");
}

#[test]
fn run_stops_at_the_timer_deadline() {
    let mut m = Machine::new();
    m.put(CODE, &[0x1400_0000]); // b .
    m.cpu.core.sys.cntv_cval = 777;
    m.cpu.core.sys.cntv_ctl = 1;
    m.cpu.set_pc(CODE);
    assert_eq!(m.cpu.run(1_000_000), Exit::Budget);
    assert_eq!(m.cpu.core.counter(), 777);
    assert!(m.cpu.core.vtimer_irq());
}

#[test]
fn new_asid_drops_non_global_translations_without_tlbi() {
    let mut m = Machine::new();
    m.mmu_on(1);
    m.page(0x1000, DATA | PAGE | AF | UXN | NG);
    m.poke(DATA, 111);
    m.poke(DATA + 0x1000, 222);
    m.put(CODE, &[LDR_X0_X1, HVC_DONE]);
    m.cpu.core.regs.x[1] = 0x1000;
    assert_eq!(m.run_at(CODE), DONE);
    assert_eq!(m.cpu.core.regs.x[0], 111);
    // Remap without TLBI: the cached translation may still be used.
    m.page(0x1000, (DATA + 0x1000) | PAGE | AF | UXN | NG);
    assert_eq!(m.run_at(CODE), DONE);
    assert_eq!(m.cpu.core.regs.x[0], 111);
    // Switching ASID (as a context switch does) must not reuse it.
    m.cpu.core.sys.ttbr0 = TABLES | (2 << 48);
    m.cpu.core.sync_asid();
    assert_eq!(m.run_at(CODE), DONE);
    assert_eq!(m.cpu.core.regs.x[0], 222);
}

#[test]
fn tlbi_vae1_drops_a_stale_translation() {
    let mut m = Machine::new();
    m.mmu_on(0);
    m.page(0x1000, DATA | PAGE | AF | UXN);
    m.poke(DATA, 1);
    m.poke(DATA + 0x1000, 2);
    // ldr x0, [x1]; tlbi vae1, x7; dsb; isb; ldr x0, [x1]... as two runs.
    let tlbi_vae1_x7 = 0xd508_8727;
    m.put(CODE, &[LDR_X0_X1, HVC_DONE]);
    m.put(
        CODE + 0x100,
        &[tlbi_vae1_x7, DSB_ISH, ISB, LDR_X0_X1, HVC_DONE],
    );
    m.cpu.core.regs.x[1] = 0x1000;
    m.cpu.core.regs.x[7] = 0x1000 >> 12;
    assert_eq!(m.run_at(CODE), DONE);
    m.page(0x1000, (DATA + 0x1000) | PAGE | AF | UXN);
    assert_eq!(m.run_at(CODE + 0x100), DONE);
    assert_eq!(m.cpu.core.regs.x[0], 2);
}

#[test]
fn masked_irq_waits_until_daifclr_then_returns_after_it() {
    let mut m = Machine::new();
    let msr_daifclr_2 = 0xd503_42ff;
    m.put(CODE, &[NOP, msr_daifclr_2, NOP, HVC_DONE]);
    m.cpu.core.regs.pstate.daif = 0x80; // I masked
    m.cpu.set_irq(true);
    assert_eq!(m.run_at(CODE), EL1H_IRQ);
    assert_eq!(
        m.cpu.core.sys.elr,
        CODE + 8,
        "taken right after the unmasking MSR"
    );
    assert_eq!(m.cpu.core.sys.spsr & 0x3c0, 0, "SPSR shows I unmasked");
}

#[test]
fn el0_dc_zva_traps_unless_sctlr_dze() {
    let mut m = Machine::new();
    let dc_zva_x1 = 0xd50b_7421;
    m.put(CODE, &[dc_zva_x1, SVC_42]);
    m.poke(DATA + 0x40, u64::MAX);
    m.mmu_on(0);
    m.page(0x3000, DATA | PAGE | AF | AP_EL0 | UXN);
    m.page(0x1000, CODE | PAGE | AF | AP_EL0 | AP_RO);
    m.cpu.core.regs.x[1] = 0x3048;
    m.cpu.core.sys.sctlr = 1;
    m.enter_el0();
    assert_eq!(m.run_at(0x1000), EL0_SYNC);
    assert_eq!(m.esr() >> 26, 0x18);
    m.cpu.core.sys.sctlr = 1 | (1 << 14); // DZE
    m.enter_el0();
    m.cpu.core.regs.pstate.daif = 0;
    assert_eq!(m.run_at(0x1000), EL0_SYNC);
    assert_eq!(m.esr() >> 26, 0x15, "DC ZVA ran, then the SVC");
    assert_eq!(m.peek(DATA + 0x40), 0);
}

#[test]
fn unaligned_sp_base_faults_when_sctlr_sa_is_set() {
    let mut m = Machine::new();
    let ldr_x0_sp = 0xf940_03e0;
    m.put(CODE, &[ldr_x0_sp, HVC_DONE]);
    m.cpu.core.regs.x[32] = DATA + 8;
    assert_eq!(m.run_at(CODE), DONE, "SA clear: no check");
    m.cpu.core.sys.sctlr |= 1 << 3;
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr() >> 26, 0x26);
}

#[test]
fn dc_zva_to_device_memory_is_an_alignment_fault() {
    let mut m = Machine::new();
    let dc_zva_x1 = 0xd50b_7421;
    m.put(CODE, &[dc_zva_x1, HVC_DONE]);
    m.cpu.core.regs.x[1] = DATA; // MMU off: Device-nGnRnE
    assert_eq!(m.run_at(CODE), EL1H_SYNC);
    assert_eq!(m.esr() & 0x7f, (1 << 6) | 0x21);
}

/// An embedder answering one extra system register (as a GICv3 CPU
/// interface would).
#[derive(Debug, Default)]
struct IccHook {
    pmr: u64,
}

impl a64::Mmio for IccHook {
    fn read(&mut self, _pa: u64, _size: u8) -> Result<u64, a64::BusFault> {
        Err(a64::BusFault)
    }
    fn write(&mut self, _pa: u64, _size: u8, _v: u64) -> Result<(), a64::BusFault> {
        Err(a64::BusFault)
    }
    fn sysreg_read(&mut self, key: u32) -> Option<u64> {
        (key == a64::sysreg::key(3, 0, 4, 6, 0)).then_some(self.pmr)
    }
    fn sysreg_write(&mut self, key: u32, v: u64) -> bool {
        if key == a64::sysreg::key(3, 0, 4, 6, 0) {
            self.pmr = v;
        }
        key == a64::sysreg::key(3, 0, 4, 6, 0)
    }
}

#[test]
fn unknown_el1_system_registers_go_to_the_embedder() {
    let mut ram = vec![0u8; 0x1000];
    let mut cpu = Cpu::new(CpuProfile::default(), Box::new(IccHook::default()));
    // SAFETY: `ram` outlives `cpu` (dropped explicitly below).
    unsafe { cpu.core.phys().add_ram(ram.as_mut_ptr(), RAM, 0x1000) }.expect("ram");
    // msr icc_pmr_el1, x1 ; mrs x0, icc_pmr_el1 ; hvc #0x99
    for (i, w) in [0xd518_4601u32, 0xd538_4600, HVC_DONE].iter().enumerate() {
        cpu.core
            .phys()
            .write(RAM + 4 * i as u64, 4, u64::from(*w))
            .expect("ram");
    }
    cpu.core.regs.x[1] = 0xf0;
    cpu.set_pc(RAM);
    assert_eq!(cpu.run(100), Exit::Hvc(DONE));
    assert_eq!(cpu.core.regs.x[0], 0xf0);
    drop(cpu);
}

#[test]
fn el0_wfe_that_would_wait_traps_unless_sctlr_ntwe() {
    let mut m = Machine::new();
    let wfe = 0xd503_205f;
    m.put(CODE, &[wfe, SVC_42]);
    m.mmu_on(0);
    m.page(0x1000, CODE | PAGE | AF | AP_EL0 | AP_RO);
    m.cpu.core.sys.sctlr = 1;
    m.cpu.core.event = false;
    m.enter_el0();
    assert_eq!(m.run_at(0x1000), EL0_SYNC);
    assert_eq!(
        m.esr(),
        (0x01 << 26) | (1 << 25) | (1 << 24) | (0xe << 20) | 1
    );
    assert_eq!(m.cpu.core.sys.elr, 0x1000, "the trapped WFE is re-executed");
    // The event register set: the WFE completes at once and does not trap.
    m.cpu.core.event = true;
    m.enter_el0();
    m.cpu.core.regs.pstate.daif = 0;
    assert_eq!(m.run_at(0x1000), EL0_SYNC);
    assert_eq!(m.esr() >> 26, 0x15, "WFE ran, then the SVC");
    // nTWE set: not trapped.
    m.cpu.core.sys.sctlr = 1 | (1 << 18);
    m.enter_el0();
    m.cpu.core.regs.pstate.daif = 0;
    assert_eq!(m.run_at(0x1000), EL0_SYNC);
    assert_eq!(m.esr() >> 26, 0x15, "WFE ran, then the SVC");
}
