//! The GIC register maps as Linux's headers name them (include/linux/irqchip/arm-gic-v3.h,
//! arm-gic.h), and the GICv2 distributor set-up drivers/irqchip/irq-gic.c and
//! irq-gic-common.c perform, shared by the GIC replays.
#![allow(dead_code)]

use devices::MmioDevice;

use super::{readl, writel};

// GICv3 distributor
pub const GICD_CTLR: u64 = 0x0000;
pub const GICD_TYPER: u64 = 0x0004;
pub const GICD_IIDR: u64 = 0x0008;
pub const GICD_TYPER2: u64 = 0x000c;
pub const GICD_IGROUPR: u64 = 0x0080;
pub const GICD_ISENABLER: u64 = 0x0100;
pub const GICD_ICENABLER: u64 = 0x0180;
pub const GICD_ISPENDR: u64 = 0x0200;
pub const GICD_ICACTIVER: u64 = 0x0380;
pub const GICD_IPRIORITYR: u64 = 0x0400;
pub const GICD_ICFGR: u64 = 0x0c00;
pub const GICD_IROUTER: u64 = 0x6000;
pub const GICD_PIDR2: u64 = 0xffe8;
pub const GICD_IROUTER_SPI_MODE_ANY: u64 = 1 << 31;
pub const GICD_CTLR_RWP: u32 = 1 << 31;
pub const GICD_CTLR_DS: u32 = 1 << 6;
pub const GICD_CTLR_ARE_NS: u32 = 1 << 4;
pub const GICD_CTLR_ENABLE_G1A: u32 = 1 << 1;
pub const GICD_CTLR_ENABLE_G1: u32 = 1 << 0;
pub const GICD_TYPER_LPIS: u32 = 1 << 17;
pub const GICD_TYPER_MBIS: u32 = 1 << 16;
pub const GICD_TYPER_ESPI: u32 = 1 << 8;
pub const GICD_TYPER_RSS: u32 = 1 << 26;
pub const GIC_PIDR2_ARCH_MASK: u32 = 0xf0;
pub const GICD_INT_ACTLOW_LVLTRIG: u32 = 0;
pub const GICD_INT_EN_CLR_X32: u32 = 0xffff_ffff;

// GICv3 redistributor
pub const GICR_CTLR: u64 = 0x0000;
pub const GICR_TYPER: u64 = 0x0008;
pub const GICR_WAKER: u64 = 0x0014;
pub const GICR_PIDR2: u64 = 0xffe8;
pub const GICR_WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
pub const GICR_WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
pub const GICR_TYPER_LAST: u64 = 1 << 4;
pub const GICR_TYPER_VLPIS: u64 = 1 << 1;
pub const SGI_BASE: u64 = 0x1_0000;
/// RD_base + SGI_base: one PE's redistributor frames (no VLPIs).
pub const GICR_STRIDE: u64 = 0x2_0000;

// GICv3 CPU interface
pub const ICC_CTLR_EL1_PRI_BITS_SHIFT: u32 = 8;
pub const ICC_CTLR_EL1_PRI_BITS_MASK: u64 = 7 << ICC_CTLR_EL1_PRI_BITS_SHIFT;
pub const ICC_CTLR_EL1_EXT_RANGE: u64 = 1 << 19;
pub const ICC_CTLR_EL1_RSS: u64 = 1 << 18;
pub const ICC_SRE_EL1_SRE: u64 = 1;
pub const ICC_SGI1R_TARGET_LIST_SHIFT: u32 = 0;
pub const ICC_SGI1R_AFFINITY_1_SHIFT: u32 = 16;
pub const ICC_SGI1R_SGI_ID_SHIFT: u32 = 24;
pub const ICC_SGI1R_AFFINITY_2_SHIFT: u32 = 32;
pub const ICC_SGI1R_IRQ_ROUTING_MODE_BIT: u32 = 40;
pub const ICC_SGI1R_AFFINITY_3_SHIFT: u32 = 48;
pub const GICV3_PRIO_IRQ: u8 = 0xc0;
pub const DEFAULT_PMR_VALUE: u64 = 0xf0;

// GICv2
pub const GIC_DIST_CTRL: u64 = 0x000;
pub const GIC_DIST_CTR: u64 = 0x004;
pub const GIC_DIST_ENABLE_SET: u64 = 0x100;
pub const GIC_DIST_ENABLE_CLEAR: u64 = 0x180;
pub const GIC_DIST_ACTIVE_CLEAR: u64 = 0x380;
pub const GIC_DIST_PRI: u64 = 0x400;
pub const GIC_DIST_TARGET: u64 = 0x800;
pub const GIC_DIST_CONFIG: u64 = 0xc00;
pub const GIC_DIST_SOFTINT: u64 = 0xf00;
pub const GIC_DIST_SGI_PENDING_CLEAR: u64 = 0xf10;
pub const GIC_DIST_SGI_PENDING_SET: u64 = 0xf20;
pub const GIC_CPU_CTRL: u64 = 0x00;
pub const GIC_CPU_PRIMASK: u64 = 0x04;
pub const GIC_CPU_INTACK: u64 = 0x0c;
pub const GIC_CPU_EOI: u64 = 0x10;
pub const GIC_CPU_ACTIVEPRIO: u64 = 0xd0;
pub const GIC_CPU_IDENT: u64 = 0xfc;
pub const GICD_ENABLE: u32 = 1;
pub const GICC_ENABLE: u32 = 1;
pub const GICC_DIS_BYPASS_MASK: u32 = 0x1e0;
pub const GICC_INT_PRI_THRESHOLD: u32 = 0xf0;
pub const GICD_INT_DEF_PRI: u32 = 0xa0;
pub const GICC_IAR_INT_ID_MASK: u32 = 0x3ff;

/// irq-gic.c gic_get_cpumask: the reading CPU's bit, from the banked ITARGETSR0-7.
pub fn gic_get_cpumask(d: &mut dyn MmioDevice) -> u32 {
    let mut mask = 0;
    for i in (0..32).step_by(4) {
        mask = readl(d, GIC_DIST_TARGET + i);
        mask |= mask >> 16;
        mask |= mask >> 8;
        if mask != 0 {
            break;
        }
    }
    mask & 0xff
}

/// The SPI part of irq-gic.c gic_dist_init after the distributor is off: every SPI
/// targets `cpumask` (one byte), then gic_dist_config: level-triggered, default priority,
/// inactive and disabled.
pub fn gic_dist_spis(d: &mut dyn MmioDevice, gic_irqs: u32, cpumask: u32) {
    let cpumask = cpumask * 0x0101_0101;
    for i in (32..gic_irqs).step_by(4) {
        writel(d, cpumask, GIC_DIST_TARGET + u64::from(i));
    }
    for i in (32..gic_irqs).step_by(16) {
        writel(d, 0, GIC_DIST_CONFIG + u64::from(i / 4));
    }
    for i in (32..gic_irqs).step_by(4) {
        writel(
            d,
            GICD_INT_DEF_PRI * 0x0101_0101,
            GIC_DIST_PRI + u64::from(i),
        );
    }
    for i in (32..gic_irqs).step_by(32) {
        writel(d, !0, GIC_DIST_ACTIVE_CLEAR + u64::from(i / 8));
        writel(d, !0, GIC_DIST_ENABLE_CLEAR + u64::from(i / 8));
    }
}

/// irq-gic-common.c gic_cpu_config for the calling CPU's banked SGIs and PPIs: inactive,
/// disabled, default priority.
pub fn gic_cpu_config(d: &mut dyn MmioDevice) {
    writel(d, !0, GIC_DIST_ACTIVE_CLEAR);
    writel(d, !0, GIC_DIST_ENABLE_CLEAR);
    for i in (0..32).step_by(4) {
        writel(d, GICD_INT_DEF_PRI * 0x0101_0101, GIC_DIST_PRI + i);
    }
}
