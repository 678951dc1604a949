//! Replays of what Linux 7.3's drivers/irqchip/irq-gic-v3.c (with irq-gic-common.c) does
//! to the GICv3 on heap-soc.dts: a kernel entered at EL1 (no EL2, so EOImode 0), no
//! pseudo-NMI (CONFIG_ARM64_PSEUDO_NMI is off), one PE whose MPIDR affinity is 0.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::gic::*;
use common::{poll, readl, readq, writeb, writel, writeq};
use devices::gic::{Gic, GicIrq, GicdMmio, GicrMmio, IccReg};
use devices::IrqLine;

// heap-soc.dts: UART SPI 1 level, virtio-mmio SPI 16 edge, virtual timer PPI 11 level.
const UART: u32 = 32 + 1;
const VIRTIO: u32 = 32 + 16;
const VTIMER: u32 = 16 + 11;

struct Gic3 {
    gic: Rc<RefCell<Gic>>,
    d: GicdMmio,
    r: GicrMmio,
}

fn machine() -> Gic3 {
    // heap-soc's highest SPI is 60: the machine asks for 64 SPIs.
    let gic = Rc::new(RefCell::new(Gic::new(64, 0)));
    Gic3 {
        d: GicdMmio(gic.clone()),
        r: GicrMmio(gic.clone()),
        gic,
    }
}

fn repeat_byte(b: u8) -> u32 {
    u32::from_ne_bytes([b; 4])
}

/// gic_dist_wait_for_rwp / gic_redist_wait_for_rwp.
fn wait_for_rwp(d: &mut dyn devices::MmioDevice, ctlr: u64) {
    poll(d, ctlr, |v| v & GICD_CTLR_RWP == 0);
}

/// gic_configure_irq (irq-gic-common.c): read-modify-write of ICFGR, then read back.
fn gic_configure_irq(d: &mut dyn devices::MmioDevice, index: u32, edge: bool, base: u64) -> bool {
    let confmask = 0x2u32 << ((index % 16) * 2);
    let confoff = base + u64::from(index / 16) * 4;
    let old = readl(d, confoff);
    let val = if edge {
        old | confmask
    } else {
        old & !confmask
    };
    if val == old {
        return true;
    }
    writel(d, val, confoff);
    readl(d, confoff) == val
}

/// gic_of_init through gic_init_bases, in the driver's order. Returns GIC_LINE_NR.
fn boot(g: &mut Gic3) -> u32 {
    let d = &mut g.d;
    let r = &mut g.r;
    // gic_validate_dist_version
    let arch = readl(d, GICD_PIDR2) & GIC_PIDR2_ARCH_MASK;
    assert!(arch == 0x30 || arch == 0x40, "no distributor detected");
    // gic_init_bases
    let typer = readl(d, GICD_TYPER);
    let iidr = readl(d, GICD_IIDR);
    // gic_enable_quirks: no quirk of gic_quirks[] may match (HIP06/07, Cavium 38539,
    // NVIDIA T241, GIC-700 2941627, RK3399 insecure integration).
    for (id, mask) in [
        (0x0204_043b, 0xffff_ffff),
        (0x0000_0000, 0xffff_ffff),
        (0xa000_034c, 0xe8f0_0fff),
        (0x0402_043b, 0xffff_ffff),
        (0x0400_043b, 0xff0e_0fff),
        (0x0402_043b, 0xff0f_0fff),
        (0x0000_043b, 0xff00_0fff),
    ] {
        assert_ne!(iidr & mask, id, "IIDR 0x{iidr:08x} would enable a quirk");
    }
    let lines = (((typer & 0x1f) + 1) * 32).min(1020);
    assert_eq!(typer & GICD_TYPER_ESPI, 0, "no extended SPIs");
    assert_eq!(typer & (GICD_TYPER_MBIS | GICD_TYPER_RSS), 0);
    let _typer2 = readl(d, GICD_TYPER2);

    // gic_update_rdist_properties -> gic_iterate_rdists(__gic_update_rdist_properties)
    let arch = readl(r, GICR_PIDR2) & GIC_PIDR2_ARCH_MASK;
    assert!(arch == 0x30 || arch == 0x40, "no redistributor present");
    let rtyper = readq(r, GICR_TYPER);
    let _ctlr = readl(r, GICR_CTLR);
    assert_eq!(rtyper & GICR_TYPER_VLPIS, 0);
    let ppinum = ((rtyper >> 27) & 0x1f) as u32;
    let ppi_nr = if ppinum == 1 || ppinum == 2 {
        16 + 32 * ppinum
    } else {
        16
    };
    assert_eq!(ppi_nr, 16, "GICR_TYPER.PPInum: no extended PPIs");
    assert_ne!(
        rtyper & GICR_TYPER_LAST,
        0,
        "one redistributor ends the walk"
    );

    {
        let mut gic = g.gic.borrow_mut();
        // gic_cpu_sys_reg_enable -> gic_enable_sre
        let sre = gic.icc_read(IccReg::Sre);
        if sre & ICC_SRE_EL1_SRE == 0 {
            gic.icc_write(IccReg::Sre, sre | ICC_SRE_EL1_SRE);
        }
        assert_ne!(gic.icc_read(IccReg::Sre) & ICC_SRE_EL1_SRE, 0, "SRE stuck");
        // gic_prio_init -> gic_has_group0: PMR = BIT(8 - pribits), read back.
        let pribits = ((gic.icc_read(IccReg::Ctlr) & ICC_CTLR_EL1_PRI_BITS_MASK)
            >> ICC_CTLR_EL1_PRI_BITS_SHIFT)
            + 1;
        let old = gic.icc_read(IccReg::Pmr);
        gic.icc_write(IccReg::Pmr, 1 << (8 - pribits));
        assert_ne!(gic.icc_read(IccReg::Pmr), 0, "group 0 is ours (no EL3)");
        gic.icc_write(IccReg::Pmr, old);
    }
    assert_ne!(
        readl(d, GICD_CTLR) & GICD_CTLR_DS,
        0,
        "GICD_CTLR.DS: one security state, priorities used unshifted"
    );

    // gic_dist_init
    writel(d, 0, GICD_CTLR);
    wait_for_rwp(d, GICD_CTLR);
    for i in (32..lines).step_by(32) {
        writel(d, !0, GICD_IGROUPR + u64::from(i / 8));
    }
    // gic_dist_config
    for i in (32..lines).step_by(16) {
        writel(d, GICD_INT_ACTLOW_LVLTRIG, GICD_ICFGR + u64::from(i / 4));
    }
    for i in (32..lines).step_by(4) {
        writel(
            d,
            repeat_byte(GICV3_PRIO_IRQ),
            GICD_IPRIORITYR + u64::from(i),
        );
    }
    for i in (32..lines).step_by(32) {
        writel(d, GICD_INT_EN_CLR_X32, GICD_ICACTIVER + u64::from(i / 8));
        writel(d, GICD_INT_EN_CLR_X32, GICD_ICENABLER + u64::from(i / 8));
    }
    writel(
        d,
        GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A | GICD_CTLR_ENABLE_G1,
        GICD_CTLR,
    );
    wait_for_rwp(d, GICD_CTLR);
    for i in 32..lines {
        writeq(d, 0, GICD_IROUTER + u64::from(i) * 8); // gic_write_irouter is writeq
    }

    // gic_cpu_init -> gic_populate_rdist: TYPER[63:32] must equal our affinity.
    assert_eq!(readq(r, GICR_TYPER) >> 32, 0, "redistributor for MPIDR 0");
    // gic_enable_redist(true)
    let waker = readl(r, GICR_WAKER) & !GICR_WAKER_PROCESSOR_SLEEP;
    writel(r, waker, GICR_WAKER);
    poll(r, GICR_WAKER, |v| v & GICR_WAKER_CHILDREN_ASLEEP == 0);
    assert_eq!(
        g.gic.borrow_mut().icc_read(IccReg::Ctlr) & ICC_CTLR_EL1_EXT_RANGE,
        0
    );
    for i in (0..ppi_nr + 16).step_by(32) {
        writel(r, !0, SGI_BASE + GICD_IGROUPR + u64::from(i / 8));
    }
    // gic_cpu_config
    for i in (0..ppi_nr + 16).step_by(32) {
        writel(
            r,
            GICD_INT_EN_CLR_X32,
            SGI_BASE + GICD_ICACTIVER + u64::from(i / 8),
        );
        writel(
            r,
            GICD_INT_EN_CLR_X32,
            SGI_BASE + GICD_ICENABLER + u64::from(i / 8),
        );
    }
    for i in (0..ppi_nr + 16).step_by(4) {
        writel(
            r,
            repeat_byte(GICV3_PRIO_IRQ),
            SGI_BASE + GICD_IPRIORITYR + u64::from(i),
        );
    }
    wait_for_rwp(r, GICR_CTLR);
    // gic_cpu_sys_reg_init (EOImode 0: supports_deactivate_key is off without EL2)
    {
        let mut gic = g.gic.borrow_mut();
        let pribits = ((gic.icc_read(IccReg::Ctlr) & ICC_CTLR_EL1_PRI_BITS_MASK)
            >> ICC_CTLR_EL1_PRI_BITS_SHIFT)
            + 1;
        gic.icc_write(IccReg::Pmr, DEFAULT_PMR_VALUE);
        gic.icc_write(IccReg::Bpr1, 0);
        gic.icc_write(IccReg::Ctlr, 0);
        assert!((4..=5).contains(&pribits), "only AP0R0/AP1R0 exist");
        gic.icc_write(IccReg::Ap0r(0), 0);
        gic.icc_write(IccReg::Ap1r(0), 0);
        gic.icc_write(IccReg::Igrpen1, 1);
        assert_eq!(gic.icc_read(IccReg::Ctlr) & ICC_CTLR_EL1_RSS, 0);
    }
    // gic_dist_supports_lpis: no ITS, no LPIs.
    assert_eq!(readl(d, GICD_TYPER) & GICD_TYPER_LPIS, 0);
    lines
}

/// request_irq on an SPI: gic_set_type, gic_set_affinity (IROUTER), gic_unmask_irq.
fn request_spi(g: &mut Gic3, intid: u32, edge: bool) {
    assert!(
        gic_configure_irq(&mut g.d, intid, edge, GICD_ICFGR),
        "SPI type rejected"
    );
    // gic_set_affinity masks an enabled interrupt around the IROUTER write.
    let enabled = readl(&mut g.d, GICD_ISENABLER + u64::from(intid / 32) * 4) & (1 << (intid % 32));
    assert_eq!(enabled, 0);
    writeq(&mut g.d, 0, GICD_IROUTER + u64::from(intid) * 8);
    writel(
        &mut g.d,
        1 << (intid % 32),
        GICD_ISENABLER + u64::from(intid / 32) * 4,
    );
}

/// gic_handle_irq -> __gic_handle_irq_from_irqson with EOImode 0: IAR1, handle, EOIR1.
fn handle_irq(g: &Gic3, handler: impl FnOnce(u32)) -> Option<u32> {
    let irqnr = g.gic.borrow_mut().icc_read(IccReg::Iar1) as u32;
    if (1020..=1023).contains(&irqnr) {
        return None;
    }
    handler(irqnr);
    g.gic
        .borrow_mut()
        .icc_write(IccReg::Eoir1, u64::from(irqnr));
    Some(irqnr)
}

#[test]
fn gic_of_init_probes_and_initialises_without_timeouts() {
    let mut g = machine();
    let lines = boot(&mut g);
    assert_eq!(lines, 96, "32 + 64 SPIs");
    // gic_dist_init left every SPI group 1, disabled, priority 0xc0, level, routed to PE 0.
    assert_eq!(readl(&mut g.d, GICD_IGROUPR + 4), !0);
    assert_eq!(readl(&mut g.d, GICD_ISENABLER + 4), 0);
    assert_eq!(readl(&mut g.d, GICD_IPRIORITYR + 32), repeat_byte(0xc0));
    assert_eq!(readl(&mut g.d, GICD_ICFGR + 8), 0);
    assert_eq!(readq(&mut g.d, GICD_IROUTER + 33 * 8), 0);
    assert_eq!(
        readl(&mut g.d, GICD_CTLR) & (GICD_CTLR_ENABLE_G1 | GICD_CTLR_ENABLE_G1A),
        GICD_CTLR_ENABLE_G1 | GICD_CTLR_ENABLE_G1A
    );
    assert_eq!(g.gic.borrow_mut().icc_read(IccReg::Pmr), DEFAULT_PMR_VALUE);
    assert!(!g.gic.borrow().irq_pending());
}

#[test]
fn level_spi_from_the_uart_is_taken_once_per_assertion() {
    let mut g = machine();
    boot(&mut g);
    request_spi(&mut g, UART, false);
    let line = GicIrq {
        gic: g.gic.clone(),
        intid: UART,
    };
    line.set_level(true);
    assert!(g.gic.borrow().irq_pending());
    // The handler (pl011_int) clears the device, dropping the line, before the EOI.
    assert_eq!(handle_irq(&g, |_| line.set_level(false)), Some(UART));
    assert!(!g.gic.borrow().irq_pending());
    assert_eq!(handle_irq(&g, |_| {}), None, "spurious 1023 afterwards");
    // A handler that leaves the line asserted gets the interrupt again after EOI.
    line.set_level(true);
    assert_eq!(handle_irq(&g, |_| {}), Some(UART));
    assert!(g.gic.borrow().irq_pending());
}

#[test]
fn edge_spi_from_virtio_mmio_latches_while_the_cpu_is_busy() {
    let mut g = machine();
    boot(&mut g);
    // DT flags 1 = IRQ_TYPE_EDGE_RISING: gic_configure_irq sets ICFGR and reads it back.
    request_spi(&mut g, VIRTIO, true);
    assert_ne!(
        readl(&mut g.d, GICD_ICFGR + u64::from(VIRTIO / 16) * 4) & (2 << ((VIRTIO % 16) * 2)),
        0
    );
    let line = GicIrq {
        gic: g.gic.clone(),
        intid: VIRTIO,
    };
    // vm_interrupt acks INTERRUPT_STATUS: the line drops inside the handler.
    line.set_level(true);
    line.set_level(false);
    assert!(g.gic.borrow().irq_pending(), "the edge is latched");
    assert_eq!(handle_irq(&g, |_| {}), Some(VIRTIO));
    assert!(!g.gic.borrow().irq_pending(), "one edge, one interrupt");
    // gic_irq_get_irqchip_state / gic_peek_irq(ISPENDR) sees a latched edge.
    line.set_level(true);
    assert_ne!(
        readl(&mut g.d, GICD_ISPENDR + u64::from(VIRTIO / 32) * 4) & (1 << (VIRTIO % 32)),
        0
    );
}

#[test]
fn timer_ppi_lives_in_the_redistributor_sgi_frame() {
    let mut g = machine();
    boot(&mut g);
    // arch_timer: request_percpu_irq + enable_percpu_irq(IRQ_TYPE_LEVEL_HIGH) on PPI 11.
    assert!(gic_configure_irq(
        &mut g.r,
        VTIMER,
        false,
        SGI_BASE + GICD_ICFGR
    ));
    writel(&mut g.r, 1 << VTIMER, SGI_BASE + GICD_ISENABLER);
    assert_eq!(
        readl(&mut g.d, GICD_ISENABLER),
        0,
        "not in the distributor (ARE)"
    );
    g.gic.borrow_mut().set_level(VTIMER, true);
    // arch_timer_handler_virt masks the timer (CNTV_CTL.IMASK), so the line drops.
    let vtimer = g.gic.clone();
    assert_eq!(
        handle_irq(&g, |_| vtimer.borrow_mut().set_level(VTIMER, false)),
        Some(VTIMER)
    );
    assert!(!g.gic.borrow().irq_pending());
    // gic_mask_irq: ICENABLER0 then RWP on GICR_CTLR.
    writel(&mut g.r, 1 << VTIMER, SGI_BASE + GICD_ICENABLER);
    wait_for_rwp(&mut g.r, GICR_CTLR);
    g.gic.borrow_mut().set_level(VTIMER, true);
    assert!(!g.gic.borrow().irq_pending(), "masked");
}

#[test]
fn ipi_to_self_through_icc_sgi1r() {
    let mut g = machine();
    boot(&mut g);
    // gic_smp_init: SGIs 0-7 are IPIs, enabled through GICR_ISENABLER0.
    writel(&mut g.r, 0xff, SGI_BASE + GICD_ISENABLER);
    // gic_ipi_send_mask -> gic_send_sgi(cluster 0, tlist BIT(0), IPI_IRQ_WORK = 5).
    g.gic.borrow_mut().icc_write(IccReg::Sgi1r, (5 << 24) | 1);
    assert_eq!(handle_irq(&g, |_| {}), Some(5));
    assert_eq!(handle_irq(&g, |_| {}), None);
}

#[test]
fn byte_priority_writes_reach_the_distributor() {
    // gic_irq_set_prio (pseudo-NMI setup/teardown) uses writeb_relaxed to IPRIORITYR.
    let mut g = machine();
    boot(&mut g);
    writeb(&mut g.d, 0x80, GICD_IPRIORITYR + u64::from(UART));
    assert_eq!(
        readl(&mut g.d, GICD_IPRIORITYR + u64::from(UART & !3)) >> (8 * (UART % 4)) & 0xff,
        0x80
    );
}

#[test]
fn byte_priority_writes_reach_the_redistributor_for_ppis() {
    // gic_irq_set_prio: gic_dist_base() is the SGI_base frame for SGIs/PPIs, and the
    // write is a writeb_relaxed (IPRIORITYR is byte-accessible in GICR too).
    let mut g = machine();
    boot(&mut g);
    writeb(
        &mut g.r,
        0x80,
        SGI_BASE + GICD_IPRIORITYR + u64::from(VTIMER),
    );
    assert_eq!(
        readl(
            &mut g.r,
            SGI_BASE + GICD_IPRIORITYR + u64::from(VTIMER & !3)
        ) >> (8 * (VTIMER % 4))
            & 0xff,
        0x80
    );
    assert_eq!(
        common::readb(&mut g.r, SGI_BASE + GICD_IPRIORITYR + u64::from(VTIMER)),
        0x80
    );
}
