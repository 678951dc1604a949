//! A GIC with four PEs, driven as Linux 7.3's irq-gic-v3.c / irq-gic.c drive an SMP system:
//! the boot CPU initialises the distributor, then every CPU (gic_starting_cpu /
//! gic_cpu_init) finds its own redistributor by walking the GICR frames, wakes it, sets up
//! its banked SGIs/PPIs and its CPU interface. Each test checks that an interrupt reaches
//! exactly the PEs it must (their IRQ lines, as `connect_pe` wires them, and what their
//! IAR returns), so it fails if the GIC confuses one PE's state or routing with another's.
//!
//! GICv3 PEs have the MPIDRs 0x0, 0x1, 0x100, 0x101 (two Aff1 clusters of two); GICv2 CPU
//! interfaces are 0-3.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::gic::*;
use common::{poll, readb, readl, readq, writeb, writel, writeq};
use devices::gic::v2::{GiccMmio, GicdV2Mmio};
use devices::gic::{Gic, GicdMmio, GicrMmio, IccReg, SPURIOUS};

const NR_PES: usize = 4;
const MPIDRS: [u64; NR_PES] = [0x0, 0x1, 0x100, 0x101];

// heap-soc.dts: UART SPI 1 (level), virtual timer PPI 11.
const UART: u32 = 32 + 1;
const VTIMER: u32 = 16 + 11;

fn repeat_byte(b: u8) -> u32 {
    u32::from_ne_bytes([b; 4])
}

/// The IRQ lines the GIC drives, one per PE; checks each against `irq_pending_for`.
fn line_levels(gic: &Rc<RefCell<Gic>>, lines: &[Arc<AtomicBool>]) -> [bool; NR_PES] {
    let g = gic.borrow();
    std::array::from_fn(|k| {
        let v = lines[k].load(Ordering::Relaxed);
        assert_eq!(
            v,
            g.irq_pending_for(k),
            "PE {k}: the IRQ line and irq_pending_for disagree"
        );
        v
    })
}

fn connect_lines(gic: &Rc<RefCell<Gic>>) -> Vec<Arc<AtomicBool>> {
    (0..NR_PES)
        .map(|k| {
            let line = Arc::new(AtomicBool::new(false));
            gic.borrow_mut().connect_pe(k, line.clone());
            line
        })
        .collect()
}

/// Only PE `pe`'s line is up.
fn only(pe: usize) -> [bool; NR_PES] {
    std::array::from_fn(|k| k == pe)
}

// ---------------------------------------------------------------------------------------
// GICv3
// ---------------------------------------------------------------------------------------

struct Smp3 {
    gic: Rc<RefCell<Gic>>,
    d: GicdMmio,
    r: GicrMmio,
    lines: Vec<Arc<AtomicBool>>,
}

/// MPIDR_AFFINITY_LEVEL(mpidr, 3..0) packed as GICR_TYPER[63:32] holds them
/// (gic_populate_rdist).
fn packed_affinity(mpidr: u64) -> u64 {
    ((mpidr >> 32 & 0xff) << 24) | (mpidr & 0xff_ffff)
}

/// gic_cpu_to_affinity: what gic_set_affinity writes to GICD_IROUTER.
fn irouter_affinity(mpidr: u64) -> u64 {
    mpidr & 0xff_00ff_ffff
}

/// gic_iterate_rdists / __gic_populate_rdist: walk the frames from the region's base until
/// one's TYPER affinity is `mpidr`'s or the Last frame; returns the frame's offset.
fn find_rdist(r: &mut GicrMmio, mpidr: u64) -> Option<u64> {
    let aff = packed_affinity(mpidr);
    let mut ptr = 0;
    loop {
        let arch = readl(r, ptr + GICR_PIDR2) & GIC_PIDR2_ARCH_MASK;
        assert!(
            arch == 0x30 || arch == 0x40,
            "no redistributor at 0x{ptr:x}"
        );
        let typer = readq(r, ptr + GICR_TYPER);
        if typer >> 32 == aff {
            return Some(ptr);
        }
        if typer & GICR_TYPER_LAST != 0 {
            return None;
        }
        ptr += 2 * 0x1_0000;
        if typer & GICR_TYPER_VLPIS != 0 {
            ptr += 2 * 0x1_0000;
        }
        assert!(ptr < 64 * GICR_STRIDE, "no Last redistributor");
    }
}

impl Smp3 {
    fn with_mpidrs(mpidrs: &[u64]) -> Smp3 {
        let gic = Rc::new(RefCell::new(Gic::with_pes(64, mpidrs, false)));
        Smp3 {
            d: GicdMmio(gic.clone()),
            r: GicrMmio(gic.clone()),
            lines: connect_lines(&gic),
            gic,
        }
    }

    /// gic_init_bases on the boot CPU (PE 0), then gic_cpu_init + gic_cpu_sys_reg_init on
    /// every CPU in turn (the boot CPU first, then each secondary's gic_starting_cpu).
    fn booted() -> Smp3 {
        let mut g = Smp3::with_mpidrs(&MPIDRS);
        g.gic.borrow_mut().set_current_pe(0);
        let lines = (((readl(&mut g.d, GICD_TYPER) & 0x1f) + 1) * 32).min(1020);
        // gic_dist_init
        let d = &mut g.d;
        writel(d, 0, GICD_CTLR);
        poll(d, GICD_CTLR, |v| v & GICD_CTLR_RWP == 0);
        for i in (32..lines).step_by(32) {
            writel(d, !0, GICD_IGROUPR + u64::from(i / 8));
        }
        for i in (32..lines).step_by(16) {
            writel(d, 0, GICD_ICFGR + u64::from(i / 4));
        }
        for i in (32..lines).step_by(4) {
            writel(
                d,
                repeat_byte(GICV3_PRIO_IRQ),
                GICD_IPRIORITYR + u64::from(i),
            );
        }
        for i in (32..lines).step_by(32) {
            writel(d, !0, GICD_ICACTIVER + u64::from(i / 8));
            writel(d, !0, GICD_ICENABLER + u64::from(i / 8));
        }
        writel(
            d,
            GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A | GICD_CTLR_ENABLE_G1,
            GICD_CTLR,
        );
        poll(d, GICD_CTLR, |v| v & GICD_CTLR_RWP == 0);
        // Every SPI to the boot CPU.
        for i in 32..lines {
            writeq(
                d,
                irouter_affinity(MPIDRS[0]),
                GICD_IROUTER + u64::from(i) * 8,
            );
        }
        for pe in 0..NR_PES {
            g.cpu_init(pe);
        }
        assert_eq!(line_levels(&g.gic, &g.lines), [false; NR_PES]);
        g
    }

    /// gic_cpu_init + gic_cpu_sys_reg_init as CPU `pe` runs them.
    fn cpu_init(&mut self, pe: usize) {
        self.gic.borrow_mut().set_current_pe(pe);
        let rbase = find_rdist(&mut self.r, MPIDRS[pe]).expect("gic_populate_rdist");
        assert_eq!(rbase, pe as u64 * GICR_STRIDE, "PE {pe}'s frames");
        let r = &mut self.r;
        // gic_enable_redist(true)
        let waker = readl(r, rbase + GICR_WAKER) & !GICR_WAKER_PROCESSOR_SLEEP;
        writel(r, waker, rbase + GICR_WAKER);
        poll(r, rbase + GICR_WAKER, |v| {
            v & GICR_WAKER_CHILDREN_ASLEEP == 0
        });
        writel(r, !0, rbase + SGI_BASE + GICD_IGROUPR);
        // gic_cpu_config
        writel(r, !0, rbase + SGI_BASE + GICD_ICACTIVER);
        writel(r, !0, rbase + SGI_BASE + GICD_ICENABLER);
        for i in (0..32).step_by(4) {
            writel(
                r,
                repeat_byte(GICV3_PRIO_IRQ),
                rbase + SGI_BASE + GICD_IPRIORITYR + i,
            );
        }
        poll(r, rbase + GICR_CTLR, |v| v & GICD_CTLR_RWP == 0);
        // gic_cpu_sys_reg_init (EOImode 0)
        let mut gic = self.gic.borrow_mut();
        assert_eq!(gic.current_pe(), pe);
        assert_ne!(gic.icc_read(IccReg::Sre) & 1, 0);
        gic.icc_write(IccReg::Pmr, DEFAULT_PMR_VALUE);
        gic.icc_write(IccReg::Bpr1, 0);
        gic.icc_write(IccReg::Ctlr, 0);
        gic.icc_write(IccReg::Ap0r(0), 0);
        gic.icc_write(IccReg::Ap1r(0), 0);
        gic.icc_write(IccReg::Igrpen1, 1);
    }

    fn levels(&self) -> [bool; NR_PES] {
        line_levels(&self.gic, &self.lines)
    }

    /// A system-register access by PE `pe`.
    fn on<T>(&self, pe: usize, f: impl FnOnce(&mut Gic) -> T) -> T {
        let mut g = self.gic.borrow_mut();
        g.set_current_pe(pe);
        f(&mut g)
    }

    fn iar1(&self, pe: usize) -> u32 {
        self.on(pe, |g| g.icc_read(IccReg::Iar1) as u32)
    }

    fn eoir1(&self, pe: usize, intid: u32) {
        self.on(pe, |g| g.icc_write(IccReg::Eoir1, u64::from(intid)));
    }

    fn sgi1r(&self, pe: usize, value: u64) {
        self.on(pe, |g| g.icc_write(IccReg::Sgi1r, value));
    }

    /// ipi_setup -> enable_percpu_irq -> gic_unmask_irq on CPU `pe`: GICR_ISENABLER0 in
    /// its own SGI_base frame.
    fn enable_private(&mut self, pe: usize, mask: u32) {
        let base = pe as u64 * GICR_STRIDE + SGI_BASE;
        writel(&mut self.r, mask, base + GICD_ISENABLER);
    }

    /// gic_set_affinity's IROUTER write (gic_write_irouter is a writeq).
    fn route(&mut self, intid: u32, value: u64) {
        writeq(&mut self.d, value, GICD_IROUTER + u64::from(intid) * 8);
    }

    /// gic_unmask_irq on an SPI.
    fn enable_spi(&mut self, intid: u32) {
        writel(
            &mut self.d,
            1 << (intid % 32),
            GICD_ISENABLER + u64::from(intid / 32) * 4,
        );
    }
}

/// gic_send_sgi: one ICC_SGI1R_EL1 write per Aff3.Aff2.Aff1 cluster.
fn sgi1r(intid: u32, aff3: u64, aff2: u64, aff1: u64, tlist: u16) -> u64 {
    (aff3 << ICC_SGI1R_AFFINITY_3_SHIFT)
        | (aff2 << ICC_SGI1R_AFFINITY_2_SHIFT)
        | (u64::from(intid) << ICC_SGI1R_SGI_ID_SHIFT)
        | (aff1 << ICC_SGI1R_AFFINITY_1_SHIFT)
        | (u64::from(tlist) << ICC_SGI1R_TARGET_LIST_SHIFT)
}

#[test]
fn v3_sgi1r_target_list_in_cluster_0_reaches_only_the_listed_pe() {
    let mut g = Smp3::booted();
    for pe in 0..NR_PES {
        g.enable_private(pe, 0xff); // IPIs 0-7
    }
    // PE 0 sends IPI 5 to Aff1 = 0, Aff0 in {1, 3}: only MPIDR 0x1 exists there (MPIDR
    // 0x101 has Aff0 = 1 too, but in cluster 1).
    g.sgi1r(0, sgi1r(5, 0, 0, 0, 0b1010));
    assert_eq!(g.levels(), only(1), "only PE 1 (MPIDR 0x1)");
    for pe in [0, 2, 3] {
        assert_eq!(g.iar1(pe), SPURIOUS, "PE {pe} has nothing to acknowledge");
    }
    assert_eq!(
        g.iar1(1),
        5,
        "PE 1 acknowledges the SGI from its own ICC_IAR1_EL1"
    );
    assert_eq!(g.levels(), [false; NR_PES], "active on PE 1");
    assert_eq!(
        g.on(1, |gic| gic.icc_read(IccReg::Rpr)),
        u64::from(GICV3_PRIO_IRQ),
        "PE 1's running priority"
    );
    assert_eq!(
        g.on(0, |gic| gic.icc_read(IccReg::Rpr)),
        0xff,
        "PE 0 is idle"
    );
    g.eoir1(1, 5);
    assert_eq!(g.iar1(1), SPURIOUS, "one SGI, taken once");
    assert_eq!(g.levels(), [false; NR_PES]);
}

#[test]
fn v3_sgi1r_aff1_selects_the_cluster() {
    let mut g = Smp3::booted();
    for pe in 0..NR_PES {
        g.enable_private(pe, 0xff);
    }
    // Aff1 = 1, target bit 0: MPIDR 0x100 (PE 2), not MPIDR 0x0 (PE 0, the sender).
    g.sgi1r(0, sgi1r(3, 0, 0, 1, 0b1));
    assert_eq!(g.levels(), only(2));
    assert_eq!(g.iar1(2), 3);
    g.eoir1(2, 3);
    // Aff1 = 1, target bit 1: MPIDR 0x101 (PE 3), sent by PE 1 (MPIDR 0x1).
    g.sgi1r(1, sgi1r(4, 0, 0, 1, 0b10));
    assert_eq!(g.levels(), only(3));
    assert_eq!(g.iar1(3), 4);
    g.eoir1(3, 4);
    // Both PEs of cluster 1 in one write; a cluster that does not exist reaches no one.
    g.sgi1r(3, sgi1r(6, 0, 0, 1, 0b11));
    assert_eq!(
        g.levels(),
        [false, false, true, true],
        "PE 3 may IPI itself"
    );
    assert_eq!(g.iar1(2), 6);
    assert_eq!(g.iar1(3), 6);
    g.eoir1(2, 6);
    g.eoir1(3, 6);
    g.sgi1r(0, sgi1r(6, 0, 0, 2, 0xffff));
    g.sgi1r(0, sgi1r(6, 0, 1, 0, 0xffff));
    assert_eq!(
        g.levels(),
        [false; NR_PES],
        "Aff1 = 2 and Aff2 = 1 name no PE"
    );
}

#[test]
fn v3_sgi1r_irm_reaches_every_pe_but_the_sender() {
    let mut g = Smp3::booted();
    for pe in 0..NR_PES {
        g.enable_private(pe, 0xff);
    }
    // IRM = 1: the target list and affinity fields are ignored.
    let irm = 1 << ICC_SGI1R_IRQ_ROUTING_MODE_BIT;
    g.sgi1r(0, irm | sgi1r(7, 0, 0, 1, 0b1));
    assert_eq!(
        g.levels(),
        [false, true, true, true],
        "PE 0's own line stays low"
    );
    assert_eq!(g.iar1(0), SPURIOUS);
    for pe in 1..NR_PES {
        assert_eq!(g.iar1(pe), 7, "PE {pe}");
        g.eoir1(pe, 7);
    }
    assert_eq!(g.levels(), [false; NR_PES]);
    g.sgi1r(2, irm | sgi1r(1, 0, 0, 0, 0));
    assert_eq!(
        g.levels(),
        [true, true, false, true],
        "from PE 2: all but PE 2"
    );
}

#[test]
fn v3_cpu_interface_state_is_per_pe() {
    let mut g = Smp3::booted();
    for pe in 0..NR_PES {
        g.enable_private(pe, 0xff);
    }
    // PE 2 masks everything with its PMR; the others keep Linux's 0xf0.
    g.on(2, |gic| gic.icc_write(IccReg::Pmr, 0));
    assert_eq!(g.on(2, |gic| gic.icc_read(IccReg::Pmr)), 0);
    assert_eq!(g.on(1, |gic| gic.icc_read(IccReg::Pmr)), DEFAULT_PMR_VALUE);
    // PE 3 disables group 1 at its CPU interface.
    g.on(3, |gic| gic.icc_write(IccReg::Igrpen1, 0));
    assert_eq!(g.on(0, |gic| gic.icc_read(IccReg::Igrpen1)), 1);
    g.sgi1r(
        0,
        (1 << ICC_SGI1R_IRQ_ROUTING_MODE_BIT) | sgi1r(2, 0, 0, 0, 0),
    );
    assert_eq!(
        g.levels(),
        only(1),
        "PE 2 masked by its PMR, PE 3 by IGRPEN1"
    );
    assert_eq!(g.iar1(1), 2);
    assert_eq!(
        g.on(1, |gic| gic.icc_read(IccReg::Hppir1)),
        u64::from(SPURIOUS)
    );
    assert_eq!(
        g.on(2, |gic| gic.icc_read(IccReg::Hppir1)),
        2,
        "pending on PE 2, only masked"
    );
    g.on(2, |gic| gic.icc_write(IccReg::Pmr, DEFAULT_PMR_VALUE));
    assert_eq!(
        g.levels(),
        only(2),
        "PE 1's SGI is active, PE 2's now unmasked"
    );
    g.on(3, |gic| gic.icc_write(IccReg::Igrpen1, 1));
    assert_eq!(g.levels(), [false, false, true, true]);
}

#[test]
fn v3_ppis_and_sgis_are_banked_per_redistributor() {
    let mut g = Smp3::booted();
    // The virtual timer of every PE enabled, then only PE 2's timer fires.
    for pe in 0..NR_PES {
        g.enable_private(pe, 1 << VTIMER);
    }
    g.gic.borrow_mut().set_ppi_level(2, VTIMER, true);
    assert_eq!(g.levels(), only(2));
    assert_eq!(g.iar1(0), SPURIOUS);
    assert_eq!(g.iar1(2), VTIMER);
    g.gic.borrow_mut().set_ppi_level(2, VTIMER, false);
    g.eoir1(2, VTIMER);
    assert_eq!(g.levels(), [false; NR_PES]);
    // set_level on a PPI is PE 0's input.
    g.gic.borrow_mut().set_level(VTIMER, true);
    assert_eq!(g.levels(), only(0));
}

#[test]
fn v3_gicr_isenabler0_enables_only_its_own_pe() {
    let mut g = Smp3::booted();
    g.gic.borrow_mut().set_ppi_level(0, VTIMER, true);
    g.gic.borrow_mut().set_ppi_level(1, VTIMER, true);
    assert_eq!(g.levels(), [false; NR_PES], "disabled by gic_cpu_config");
    let frame = |pe: usize| pe as u64 * GICR_STRIDE + SGI_BASE;
    // Both PEs' timer inputs are pending, each in its own frame.
    for pe in 0..NR_PES {
        let pending = readl(&mut g.r, frame(pe) + GICD_ISPENDR) & (1 << VTIMER) != 0;
        assert_eq!(pending, pe < 2, "GICR_ISPENDR0 of PE {pe}");
    }
    // gic_unmask_irq run by PE 1 writes its own frame; PE 0's PPI stays disabled.
    g.gic.borrow_mut().set_current_pe(0); // the frame, not the current PE, selects
    writel(&mut g.r, 1 << VTIMER, frame(1) + GICD_ISENABLER);
    assert_eq!(g.levels(), only(1));
    assert_eq!(readl(&mut g.r, frame(0) + GICD_ISENABLER), 0);
    assert_eq!(readl(&mut g.r, frame(1) + GICD_ISENABLER), 1 << VTIMER);
    // With ARE, GICD_ISENABLER0 is RAZ/WI: it enables no PE's PPI.
    writel(&mut g.d, 1 << VTIMER, GICD_ISENABLER);
    assert_eq!(g.levels(), only(1));
    // PE 0 enables its own.
    writel(&mut g.r, 1 << VTIMER, frame(0) + GICD_ISENABLER);
    assert_eq!(g.levels(), [true, true, false, false]);
    // Disabling in PE 1's frame leaves PE 0's enabled.
    writel(&mut g.r, 1 << VTIMER, frame(1) + GICD_ICENABLER);
    assert_eq!(g.levels(), only(0));
    // Priorities are banked too: a byte write in PE 3's frame (gic_irq_set_prio).
    writeb(
        &mut g.r,
        0x80,
        frame(3) + GICD_IPRIORITYR + u64::from(VTIMER),
    );
    assert_eq!(
        readb(&mut g.r, frame(3) + GICD_IPRIORITYR + u64::from(VTIMER)),
        0x80
    );
    assert_eq!(
        readb(&mut g.r, frame(0) + GICD_IPRIORITYR + u64::from(VTIMER)),
        GICV3_PRIO_IRQ
    );
    // An SGI made pending through PE 3's GICR_ISPENDR0 is PE 3's alone.
    g.enable_private(3, 1 << 2);
    g.enable_private(2, 1 << 2);
    writel(&mut g.r, 1 << 2, frame(3) + GICD_ISPENDR);
    assert_eq!(g.levels(), [true, false, false, true]);
    assert_eq!(g.iar1(3), 2);
}

#[test]
fn v3_spi_irouter_affinity_routes_to_that_pe_and_follows_rerouting() {
    let mut g = Smp3::booted();
    // gic_set_affinity to CPU 3 (MPIDR 0x101), then gic_unmask_irq.
    g.route(UART, irouter_affinity(MPIDRS[3]));
    assert_eq!(readq(&mut g.d, GICD_IROUTER + u64::from(UART) * 8), 0x101);
    g.enable_spi(UART);
    g.gic.borrow_mut().set_level(UART, true);
    assert_eq!(g.levels(), only(3));
    for pe in 0..3 {
        assert_eq!(g.iar1(pe), SPURIOUS, "PE {pe}");
    }
    assert_eq!(g.iar1(3), UART);
    g.eoir1(3, UART);
    // Still asserted: pending again on PE 3; rerouting moves it (IROUTER's Aff1 and Aff0
    // both matter: 0x100 is PE 2, 0x1 is PE 1).
    assert_eq!(g.levels(), only(3));
    g.route(UART, irouter_affinity(MPIDRS[2]));
    assert_eq!(g.levels(), only(2));
    g.route(UART, irouter_affinity(MPIDRS[1]));
    assert_eq!(g.levels(), only(1));
    assert_eq!(g.iar1(2), SPURIOUS);
    assert_eq!(g.iar1(1), UART);
    // Rerouting an active SPI does not make it pending elsewhere; its EOI by PE 1 does.
    g.route(UART, irouter_affinity(MPIDRS[0]));
    assert_eq!(g.levels(), [false; NR_PES]);
    g.eoir1(1, UART);
    assert_eq!(g.levels(), only(0));
    // An affinity no PE has: nobody.
    g.route(UART, 0x200);
    assert_eq!(g.levels(), [false; NR_PES]);
}

#[test]
fn v3_spi_irm_is_delivered_to_exactly_one_pe() {
    let mut g = Smp3::booted();
    g.route(UART, GICD_IROUTER_SPI_MODE_ANY);
    assert_eq!(
        readq(&mut g.d, GICD_IROUTER + u64::from(UART) * 8),
        GICD_IROUTER_SPI_MODE_ANY
    );
    g.enable_spi(UART);
    g.gic.borrow_mut().set_level(UART, true);
    // The model picks the lowest-numbered PE whose ICC_IGRPEN1_EL1 is set: PE 0.
    let levels = g.levels();
    assert_eq!(
        levels.iter().filter(|&&l| l).count(),
        1,
        "one PE: {levels:?}"
    );
    assert_eq!(levels, only(0));
    let acked: Vec<usize> = (0..NR_PES).rev().filter(|&pe| g.iar1(pe) == UART).collect();
    assert_eq!(acked, [0], "exactly one PE acknowledges it");
    g.gic.borrow_mut().set_level(UART, false);
    g.eoir1(0, UART);
    assert_eq!(g.levels(), [false; NR_PES]);
    // With PE 0's group 1 off (as when it goes offline), PE 1 is the one.
    g.on(0, |gic| gic.icc_write(IccReg::Igrpen1, 0));
    g.gic.borrow_mut().set_level(UART, true);
    assert_eq!(g.levels(), only(1));
    let acked: Vec<usize> = (0..NR_PES).filter(|&pe| g.iar1(pe) == UART).collect();
    assert_eq!(acked, [1]);
}

#[test]
fn v3_gicr_typer_of_each_frame_and_the_linux_walk() {
    let mut g = Smp3::with_mpidrs(&MPIDRS);
    for (pe, &mpidr) in MPIDRS.iter().enumerate() {
        let base = pe as u64 * GICR_STRIDE;
        let typer = readq(&mut g.r, base + GICR_TYPER);
        assert_eq!(typer >> 32, mpidr, "PE {pe}: affinity");
        assert_eq!(
            (typer >> 8) & 0xffff,
            pe as u64,
            "PE {pe}: Processor_Number"
        );
        assert_eq!(
            typer & GICR_TYPER_LAST != 0,
            pe == NR_PES - 1,
            "PE {pe}: Last"
        );
        assert_eq!(typer & GICR_TYPER_VLPIS, 0, "no VLPIs: 2 frames per PE");
        assert_eq!(
            readl(&mut g.r, base + GICR_TYPER),
            typer as u32,
            "32-bit read of the low half"
        );
        assert_eq!(
            readl(&mut g.r, base + GICR_PIDR2) & GIC_PIDR2_ARCH_MASK,
            0x30,
            "PE {pe}: GICR_PIDR2"
        );
        assert_eq!(
            readl(&mut g.r, base + GICR_WAKER),
            GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP,
            "PE {pe} asleep at reset"
        );
        assert_eq!(find_rdist(&mut g.r, mpidr), Some(base));
    }
    assert_eq!(find_rdist(&mut g.r, 0x200), None, "the walk stops at Last");
    assert_eq!(
        readq(&mut g.r, NR_PES as u64 * GICR_STRIDE + GICR_TYPER),
        0,
        "past the last frame"
    );
    // Waking PE 2's redistributor wakes no other.
    writel(&mut g.r, 0, 2 * GICR_STRIDE + GICR_WAKER);
    for pe in 0..NR_PES {
        let asleep = readl(&mut g.r, pe as u64 * GICR_STRIDE + GICR_WAKER) & 6 != 0;
        assert_eq!(asleep, pe != 2, "PE {pe}'s GICR_WAKER");
    }
}

#[test]
fn v3_aff2_and_aff3_route_sgis_spis_and_appear_in_typer() {
    // Two PEs: 0.0.0.0 and Aff3.Aff2.Aff1.Aff0 = 1.2.3.4 (MPIDR_EL1 Aff3 is [39:32]).
    let far = 0x01_0002_0304;
    let mut g = Smp3::with_mpidrs(&[0, far]);
    let typer = readq(&mut g.r, GICR_STRIDE + GICR_TYPER);
    assert_eq!(
        typer >> 32,
        0x0102_0304,
        "GICR_TYPER packs Aff3 into [63:56]"
    );
    assert_ne!(typer & GICR_TYPER_LAST, 0);
    assert_eq!(find_rdist(&mut g.r, far), Some(GICR_STRIDE));
    let gic = g.gic.clone();
    let levels = || {
        let gic = gic.borrow();
        [gic.irq_pending_for(0), gic.irq_pending_for(1)]
    };
    writel(&mut g.d, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A, GICD_CTLR);
    for pe in 0..2 {
        writel(&mut g.r, !0, pe * GICR_STRIDE + SGI_BASE + GICD_IGROUPR);
        writel(
            &mut g.r,
            1 << 1,
            pe * GICR_STRIDE + SGI_BASE + GICD_ISENABLER,
        );
        g.on(pe as usize, |gic| {
            gic.icc_write(IccReg::Pmr, DEFAULT_PMR_VALUE);
            gic.icc_write(IccReg::Igrpen1, 1);
        });
    }
    // An SGI for Aff0 = 4 in cluster 1.2.3; the same list in clusters 0.2.3 and 1.0.3 is
    // nobody.
    g.sgi1r(0, sgi1r(1, 0, 2, 3, 1 << 4));
    g.sgi1r(0, sgi1r(1, 1, 0, 3, 1 << 4));
    assert_eq!(levels(), [false, false]);
    g.sgi1r(0, sgi1r(1, 1, 2, 3, 1 << 4));
    assert_eq!(levels(), [false, true]);
    assert_eq!(g.iar1(1), 1);
    g.eoir1(1, 1);
    // GICD_IROUTER with Aff3 in [39:32].
    writel(&mut g.d, !0, GICD_IGROUPR + 4);
    g.route(UART, irouter_affinity(far));
    g.enable_spi(UART);
    g.gic.borrow_mut().set_level(UART, true);
    assert_eq!(levels(), [false, true]);
    g.route(UART, 0x00_0002_0304); // Aff3 = 0
    assert_eq!(levels(), [false, false]);
}

// ---------------------------------------------------------------------------------------
// GICv2
// ---------------------------------------------------------------------------------------

struct Smp2 {
    gic: Rc<RefCell<Gic>>,
    d: GicdV2Mmio,
    c: GiccMmio,
    lines: Vec<Arc<AtomicBool>>,
}

impl Smp2 {
    /// __gic_init_bases on CPU 0 (gic_dist_init), then gic_cpu_init + gic_cpu_if_up on
    /// every CPU, each through its own banked distributor words and CPU interface.
    fn booted() -> Smp2 {
        let gic = Rc::new(RefCell::new(Gic::with_pes(64, &[0, 1, 2, 3], true)));
        let mut g = Smp2 {
            d: GicdV2Mmio(gic.clone()),
            c: GiccMmio(gic.clone()),
            lines: connect_lines(&gic),
            gic,
        };
        g.at(0);
        let d = &mut g.d;
        let ctr = readl(d, GIC_DIST_CTR);
        assert_eq!((ctr >> 5) & 7, NR_PES as u32 - 1, "GICD_TYPER.CPUNumber");
        let gic_irqs = (((ctr & 0x1f) + 1) * 32).min(1020);
        // gic_dist_init
        writel(d, 0, GIC_DIST_CTRL);
        let cpumask = gic_get_cpumask(d);
        assert_eq!(cpumask, 1, "CPU 0's interface");
        gic_dist_spis(d, gic_irqs, cpumask);
        writel(d, 1, GIC_DIST_CTRL);
        for pe in 0..NR_PES {
            g.cpu_init(pe);
        }
        assert_eq!(g.levels(), [false; NR_PES]);
        g
    }

    /// gic_cpu_init + gic_cpu_if_up as CPU `pe` runs them.
    fn cpu_init(&mut self, pe: usize) {
        self.at(pe);
        let d = &mut self.d;
        assert_eq!(
            gic_get_cpumask(d),
            1 << pe,
            "banked ITARGETSR0-7 of CPU {pe}"
        );
        gic_cpu_config(d);
        let c = &mut self.c;
        writel(c, 0xf0, GIC_CPU_PRIMASK);
        assert_eq!(readl(c, GIC_CPU_IDENT) & 0xff_0fff, 0x02_043b);
        for i in 0..4 {
            writel(c, 0, GIC_CPU_ACTIVEPRIO + i * 4);
        }
        let bypass = readl(c, GIC_CPU_CTRL) & 0x1e0;
        writel(c, bypass | 1, GIC_CPU_CTRL);
    }

    /// The machine switches to PE `pe` before it runs it.
    fn at(&mut self, pe: usize) {
        self.gic.borrow_mut().set_current_pe(pe);
    }

    fn levels(&self) -> [bool; NR_PES] {
        line_levels(&self.gic, &self.lines)
    }

    /// GICC_IAR read by PE `pe` (with the source CPU ID in [12:10] for an SGI).
    fn iar(&mut self, pe: usize) -> u32 {
        self.at(pe);
        readl(&mut self.c, GIC_CPU_INTACK)
    }

    /// gic_eoi_irq by PE `pe`: the whole IAR value for an SGI.
    fn eoi(&mut self, pe: usize, irqstat: u32) {
        self.at(pe);
        writel(&mut self.c, irqstat, GIC_CPU_EOI);
    }

    /// GICD_SGIR written by PE `pe`.
    fn sgir(&mut self, pe: usize, filter: u32, list: u8, intid: u32) {
        self.at(pe);
        writel(
            &mut self.d,
            (filter << 24) | (u32::from(list) << 16) | intid,
            GIC_DIST_SOFTINT,
        );
    }

    /// ipi_setup on CPU `pe`: GICD_ISENABLER0 is banked, so each CPU enables its own.
    fn enable_private(&mut self, pe: usize, mask: u32) {
        self.at(pe);
        writel(&mut self.d, mask, GIC_DIST_ENABLE_SET);
    }
}

#[test]
fn v2_sgir_target_list_from_pe2_carries_its_source_id() {
    let mut g = Smp2::booted();
    for pe in 0..NR_PES {
        g.enable_private(pe, 0xffff);
    }
    // gic_ipi_send_mask: filter 0, the target list {CPU 0}.
    g.sgir(2, 0, 0b0001, 3);
    assert_eq!(g.levels(), only(0));
    assert_eq!(g.iar(2), SPURIOUS, "not the sender's");
    let irqstat = g.iar(0);
    assert_eq!(irqstat & GICC_IAR_INT_ID_MASK, 3);
    assert_eq!((irqstat >> 10) & 7, 2, "GICC_IAR.CPUID: sent by CPU 2");
    assert_eq!(g.levels(), [false; NR_PES]);
    assert_eq!(g.iar(0) & GICC_IAR_INT_ID_MASK, SPURIOUS, "active");
    g.eoi(0, irqstat);
    assert_eq!(
        g.iar(0),
        SPURIOUS,
        "completed by the EOI of the whole IAR value"
    );
    // Two CPUs in one list.
    g.sgir(2, 0, 0b1010, 4);
    assert_eq!(g.levels(), [false, true, false, true]);
    for pe in [1, 3] {
        let irqstat = g.iar(pe);
        assert_eq!(irqstat, 4 | (2 << 10), "CPU {pe}");
        g.eoi(pe, irqstat);
    }
    assert_eq!(g.levels(), [false; NR_PES]);
}

#[test]
fn v2_sgir_filter_1_reaches_all_but_the_sender() {
    let mut g = Smp2::booted();
    for pe in 0..NR_PES {
        g.enable_private(pe, 0xffff);
    }
    // The CPUTargetList (here: only the sender) is ignored with filter 1.
    g.sgir(2, 1, 0b0100, 6);
    assert_eq!(g.levels(), [true, true, false, true]);
    assert_eq!(g.iar(2), SPURIOUS);
    for pe in [0, 1, 3] {
        let irqstat = g.iar(pe);
        assert_eq!(irqstat, 6 | (2 << 10), "CPU {pe}");
        g.eoi(pe, irqstat);
        assert_eq!(g.iar(pe), SPURIOUS, "CPU {pe}");
    }
    assert_eq!(g.levels(), [false; NR_PES]);
}

#[test]
fn v2_sgir_filter_2_reaches_only_the_sender() {
    let mut g = Smp2::booted();
    for pe in 0..NR_PES {
        g.enable_private(pe, 0xffff);
    }
    // The CPUTargetList (here: every other CPU) is ignored with filter 2.
    g.sgir(2, 2, 0b1011, 5);
    assert_eq!(g.levels(), only(2));
    let irqstat = g.iar(2);
    assert_eq!(irqstat, 5 | (2 << 10));
    g.eoi(2, irqstat);
    assert_eq!(g.levels(), [false; NR_PES]);
    // Filter 3 is reserved: nobody.
    g.sgir(2, 3, 0xff, 5);
    assert_eq!(g.levels(), [false; NR_PES]);
}

#[test]
fn v2_sgi_from_two_sources_is_taken_once_per_source() {
    let mut g = Smp2::booted();
    for pe in 0..NR_PES {
        g.enable_private(pe, 0xffff);
    }
    g.sgir(3, 0, 0b0010, 1);
    g.sgir(2, 0, 0b0010, 1);
    // GICD_SPENDSGIR0 as CPU 1 sees it: SGI 1's byte has the bits of CPUs 2 and 3.
    g.at(1);
    assert_eq!(
        readl(&mut g.d, GIC_DIST_SGI_PENDING_SET) >> 8 & 0xff,
        0b1100
    );
    g.at(0);
    assert_eq!(
        readl(&mut g.d, GIC_DIST_SGI_PENDING_SET),
        0,
        "CPU 0 has none"
    );
    assert_eq!(g.levels(), only(1));
    let first = g.iar(1);
    assert_eq!(first, 1 | (2 << 10), "the lowest source first: CPU 2");
    g.eoi(1, first);
    let second = g.iar(1);
    assert_eq!(second, 1 | (3 << 10), "then CPU 3's");
    g.eoi(1, second);
    assert_eq!(g.iar(1), SPURIOUS);
    assert_eq!(g.levels(), [false; NR_PES]);
}

#[test]
fn v2_banked_ppi_enables_and_levels_are_per_cpu() {
    let mut g = Smp2::booted();
    for pe in 0..2 {
        g.gic.borrow_mut().set_ppi_level(pe, VTIMER, true);
    }
    // CPU 1 unmasks its timer through its banked GICD_ISENABLER0.
    g.enable_private(1, 1 << VTIMER);
    assert_eq!(g.levels(), only(1));
    g.at(0);
    assert_eq!(readl(&mut g.d, GIC_DIST_ENABLE_SET), 0, "CPU 0's bank");
    g.at(1);
    assert_eq!(readl(&mut g.d, GIC_DIST_ENABLE_SET), 1 << VTIMER);
    assert_eq!(g.iar(1), VTIMER);
    g.gic.borrow_mut().set_ppi_level(1, VTIMER, false);
    g.eoi(1, VTIMER);
    assert_eq!(g.levels(), [false; NR_PES]);
    // Every CPU's timer enabled: CPU 2's input raises CPU 2 only (CPU 0's is still high).
    for pe in 0..NR_PES {
        g.enable_private(pe, 1 << VTIMER);
    }
    g.gic.borrow_mut().set_ppi_level(0, VTIMER, false);
    g.gic.borrow_mut().set_ppi_level(2, VTIMER, true);
    assert_eq!(g.levels(), only(2));
    assert_eq!(g.iar(3), SPURIOUS);
    assert_eq!(g.iar(2), VTIMER);
}

#[test]
fn v2_itargetsr_routes_spis_and_rerouting_moves_a_pending_one() {
    let mut g = Smp2::booted();
    g.at(0);
    writel(
        &mut g.d,
        1 << (UART % 32),
        GIC_DIST_ENABLE_SET + 4 * u64::from(UART / 32),
    );
    // gic_set_affinity to CPU 2: a byte write of gic_cpu_map[2].
    writeb(&mut g.d, 0b0100, GIC_DIST_TARGET + u64::from(UART));
    assert_eq!(readb(&mut g.d, GIC_DIST_TARGET + u64::from(UART)), 0b0100);
    g.gic.borrow_mut().set_level(UART, true);
    assert_eq!(g.levels(), only(2));
    assert_eq!(g.iar(0), SPURIOUS);
    // Retargeted while pending: it moves to CPU 3.
    writeb(&mut g.d, 0b1000, GIC_DIST_TARGET + u64::from(UART));
    assert_eq!(g.levels(), only(3));
    assert_eq!(g.iar(2), SPURIOUS);
    assert_eq!(g.iar(3), UART);
    g.gic.borrow_mut().set_level(UART, false);
    g.eoi(3, UART);
    assert_eq!(g.levels(), [false; NR_PES]);
    // Two targets (1-N on GICv2): both are signalled, the first IAR read takes it.
    writeb(&mut g.d, 0b0011, GIC_DIST_TARGET + u64::from(UART));
    g.gic.borrow_mut().set_level(UART, true);
    assert_eq!(g.levels(), [true, true, false, false]);
    assert_eq!(g.iar(1), UART);
    assert_eq!(
        g.levels(),
        [false; NR_PES],
        "active: no longer signalled to CPU 0"
    );
    assert_eq!(g.iar(0), SPURIOUS);
    // No target: nobody.
    g.gic.borrow_mut().set_level(UART, false);
    g.eoi(1, UART);
    writeb(&mut g.d, 0, GIC_DIST_TARGET + u64::from(UART));
    g.gic.borrow_mut().set_level(UART, true);
    assert_eq!(g.levels(), [false; NR_PES]);
}

#[test]
fn v2_spendsgir_sets_and_cpendsgir_clears_the_current_cpus_sgi_sources() {
    // IHI 0048B 4.3.16/4.3.15: GICD_CPENDSGIRn at 0xf10, GICD_SPENDSGIRn at 0xf20
    // (arm-gic.h: GIC_DIST_SGI_PENDING_CLEAR / GIC_DIST_SGI_PENDING_SET), banked per CPU.
    let mut g = Smp2::booted();
    for pe in 0..NR_PES {
        g.enable_private(pe, 0xffff);
    }
    // CPU 1 makes its SGI 1 pending as if CPU 2 had sent it.
    g.at(1);
    writel(&mut g.d, 0b0100 << 8, GIC_DIST_SGI_PENDING_SET);
    assert_eq!(g.levels(), only(1), "SPENDSGIR sets");
    assert_eq!(readl(&mut g.d, GIC_DIST_SGI_PENDING_SET), 0b0100 << 8);
    assert_eq!(readl(&mut g.d, GIC_DIST_SGI_PENDING_CLEAR), 0b0100 << 8);
    g.at(1);
    writel(&mut g.d, 0b0100 << 8, GIC_DIST_SGI_PENDING_CLEAR);
    assert_eq!(g.levels(), [false; NR_PES], "CPENDSGIR clears");
    g.at(1);
    writel(&mut g.d, 0b0100 << 8, GIC_DIST_SGI_PENDING_SET);
    let irqstat = g.iar(1);
    assert_eq!(irqstat, 1 | (2 << 10), "the source the SPENDSGIR bit names");
    g.eoi(1, irqstat);
    assert_eq!(g.levels(), [false; NR_PES]);
}
