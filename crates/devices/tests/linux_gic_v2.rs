//! Replays of what Linux 7.3's drivers/irqchip/irq-gic.c (with irq-gic-common.c) does to
//! a GICv2 board (tests/boards/gicv2.dts): __gic_init_bases -> gic_dist_init,
//! gic_cpu_init, gic_cpu_if_up; gic_handle_irq with EOImode 0 (no EL2: the split
//! EOI/deactivate mode is off); the single-CPU self-IPI through GICD_SGIR.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::gic::*;
use common::{readl, writel};
use devices::gic::v2::{GiccMmio, GicdV2Mmio};
use devices::gic::{Gic, GicIrq};
use devices::IrqLine;

const UART: u32 = 33;

struct Gic2 {
    gic: Rc<RefCell<Gic>>,
    d: GicdV2Mmio,
    c: GiccMmio,
}

fn boot() -> Gic2 {
    let gic = Rc::new(RefCell::new(Gic::new_v2(64)));
    let mut g = Gic2 {
        d: GicdV2Mmio(gic.clone()),
        c: GiccMmio(gic.clone()),
        gic,
    };
    let d = &mut g.d;
    // gic_init_bases
    let gic_irqs = (((readl(d, GIC_DIST_CTR) & 0x1f) + 1) * 32).min(1020);
    // gic_dist_init
    writel(d, 0, GIC_DIST_CTRL);
    let cpumask = gic_get_cpumask(d);
    assert_eq!(cpumask, 1, "GIC CPU mask not found");
    gic_dist_spis(d, gic_irqs, cpumask);
    writel(d, GICD_ENABLE, GIC_DIST_CTRL);
    // gic_cpu_init: gic_get_cpumask again, gic_cpu_config(dist_base, 32, ...)
    gic_cpu_config(d);
    let c = &mut g.c;
    writel(c, GICC_INT_PRI_THRESHOLD, GIC_CPU_PRIMASK);
    // gic_cpu_if_up
    if readl(c, GIC_CPU_IDENT) & 0xff_0fff == 0x02_043b {
        for i in 0..4 {
            writel(c, 0, GIC_CPU_ACTIVEPRIO + i * 4);
        }
    } else {
        panic!("gic_check_gicv2: GICC_IIDR is not a GICv2's");
    }
    let bypass = readl(c, GIC_CPU_CTRL) & GICC_DIS_BYPASS_MASK;
    writel(c, bypass | GICC_ENABLE, GIC_CPU_CTRL);
    g
}

/// gic_handle_irq (EOImode 0): IAR until spurious, the handler, gic_eoi_irq.
fn gic_handle_irq(g: &mut Gic2, mut handler: impl FnMut(u32)) -> Vec<u32> {
    let mut taken = Vec::new();
    loop {
        let irqstat = readl(&mut g.c, GIC_CPU_INTACK);
        let irqnr = irqstat & GICC_IAR_INT_ID_MASK;
        if irqnr >= 1020 {
            break;
        }
        handler(irqnr);
        // gic_eoi_irq: SGIs write back the whole IAR value (source CPU included).
        writel(
            &mut g.c,
            if irqnr < 16 { irqstat } else { irqnr },
            GIC_CPU_EOI,
        );
        taken.push(irqnr);
        assert!(taken.len() < 8, "interrupt storm");
    }
    taken
}

#[test]
fn init_then_a_level_spi_is_taken_and_completed() {
    let mut g = boot();
    // gic_set_type (level: ICFGR unchanged) and gic_unmask_irq.
    writel(
        &mut g.d,
        1 << (UART % 32),
        GIC_DIST_ENABLE_SET + 4 * u64::from(UART / 32),
    );
    let line = GicIrq {
        gic: g.gic.clone(),
        intid: UART,
    };
    line.set_level(true);
    assert!(g.gic.borrow().irq_pending());
    assert_eq!(gic_handle_irq(&mut g, |_| line.set_level(false)), [UART]);
    assert!(!g.gic.borrow().irq_pending());
}

#[test]
fn single_cpu_ipi_goes_to_self_through_gicd_sgir() {
    let mut g = boot();
    writel(&mut g.d, 0xffff, GIC_DIST_ENABLE_SET); // gic_smp_init: SGIs enabled
                                                   // gic_ipi_send_mask with nr_cpu_ids == 1: TargetListFilter = 2 (self).
    writel(&mut g.d, (2 << 24) | 3, GIC_DIST_SOFTINT);
    assert_eq!(gic_handle_irq(&mut g, |_| {}), [3]);
}
