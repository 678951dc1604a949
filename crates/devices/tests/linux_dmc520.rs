//! Replays of what Linux 7.3's drivers/edac/dmc520_edac.c does to a DMC-520 controlling a
//! 256 MiB ECC bank (tests/boards/ecc-controller.dts): dmc520_edac_probe (ECC enabled,
//! rank count and size, memory and device type, scrub mode, interrupt setup, counter
//! reset) and dmc520_isr for the dram_ecc_errc / dram_ecc_errd lines. All readl/writel.

mod common;

use common::{readl, writel};
use devices::dmc520::{Dmc520, EccError, Geometry};
use devices::{IrqLog, MmioDevice};

// drivers/edac/dmc520_edac.c
const REG_OFFSET_FEATURE_CONFIG: u64 = 0x130;
const REG_OFFSET_ECC_ERRC_COUNT_31_00: u64 = 0x158;
const REG_OFFSET_ECC_ERRC_COUNT_63_32: u64 = 0x15c;
const REG_OFFSET_ECC_ERRD_COUNT_31_00: u64 = 0x160;
const REG_OFFSET_ECC_ERRD_COUNT_63_32: u64 = 0x164;
const REG_OFFSET_INTERRUPT_CONTROL: u64 = 0x500;
const REG_OFFSET_INTERRUPT_CLR: u64 = 0x508;
const REG_OFFSET_INTERRUPT_STATUS: u64 = 0x510;
const REG_OFFSET_DRAM_ECC_ERRC_INT_INFO_31_00: u64 = 0x528;
const REG_OFFSET_DRAM_ECC_ERRC_INT_INFO_63_32: u64 = 0x52c;
const REG_OFFSET_DRAM_ECC_ERRD_INT_INFO_31_00: u64 = 0x530;
const REG_OFFSET_DRAM_ECC_ERRD_INT_INFO_63_32: u64 = 0x534;
const REG_OFFSET_ADDRESS_CONTROL_NOW: u64 = 0x1010;
const REG_OFFSET_MEMORY_TYPE_NOW: u64 = 0x1128;
const REG_OFFSET_SCRUB_CONTROL0_NOW: u64 = 0x1170;
const REG_OFFSET_FORMAT_CONTROL: u64 = 0x18;
const DRAM_ECC_INT_CE_BIT: u32 = 1 << 2;
const DRAM_ECC_INT_UE_BIT: u32 = 1 << 3;

const BANK: u64 = 256 << 20;

fn dmc() -> (Dmc520, IrqLog, IrqLog) {
    let (ce, ue) = (IrqLog::default(), IrqLog::default());
    let g = Geometry::for_size(BANK).expect("geometry");
    (
        Dmc520::new(g, Some(Box::new(ce.clone())), Some(Box::new(ue.clone()))),
        ce,
        ue,
    )
}

#[derive(Debug, PartialEq, Eq)]
struct Probed {
    ranks: u32,
    rank_size: u64,
    mem_type: u32,
    dev_width: u32,
    scrub_hw: bool,
    reg_val: u32,
}

/// dmc520_get_dram_ecc_error_count: both halves read, both reset, per-rank bytes summed.
fn error_count(d: &mut dyn MmioDevice, ce: bool) -> u32 {
    let (lo, hi) = if ce {
        (
            REG_OFFSET_ECC_ERRC_COUNT_31_00,
            REG_OFFSET_ECC_ERRC_COUNT_63_32,
        )
    } else {
        (
            REG_OFFSET_ECC_ERRD_COUNT_31_00,
            REG_OFFSET_ECC_ERRD_COUNT_63_32,
        )
    };
    let (l, h) = (readl(d, lo), readl(d, hi));
    writel(d, 0, lo);
    writel(d, 0, hi);
    let sum = |mut v: u32| {
        let mut t = 0;
        while v > 0 {
            t += v & 0xff;
            v >>= 8;
        }
        t
    };
    sum(l) + sum(h)
}

/// dmc520_edac_probe with both DRAM ECC interrupts named in the DT.
fn probe(d: &mut dyn MmioDevice) -> Probed {
    let irq_mask_all = DRAM_ECC_INT_CE_BIT | DRAM_ECC_INT_UE_BIT;
    // dmc520_is_ecc_enabled: FEATURE_CONFIG[1:0] != 0, or probe fails with -ENXIO.
    assert_ne!(readl(d, REG_OFFSET_FEATURE_CONFIG) & 3, 0, "ECC enabled");
    // dmc520_get_rank_count
    let ranks = 1 << ((readl(d, REG_OFFSET_ADDRESS_CONTROL_NOW) >> 24) & 3);
    // dmc520_get_scrub_type
    let scrub = readl(d, REG_OFFSET_SCRUB_CONTROL0_NOW) & 3;
    // dmc520_get_memory_width
    let width = match readl(d, REG_OFFSET_FORMAT_CONTROL) & 3 {
        2 => 4u64,
        3 => 8,
        _ => 0,
    };
    // dmc520_init_csrow: dmc520_get_dtype, dmc520_get_mtype, dmc520_get_rank_size
    let dev_width = (readl(d, REG_OFFSET_MEMORY_TYPE_NOW) >> 8) & 3;
    let mem_type = readl(d, REG_OFFSET_MEMORY_TYPE_NOW) & 7;
    let ac = readl(d, REG_OFFSET_ADDRESS_CONTROL_NOW);
    let bits = (ac & 7) + 8 + ((ac >> 8) & 7) + 11 + ((ac >> 16) & 7);
    let rank_size = width << bits;
    // "Clear interrupts, not affecting other unrelated interrupts"
    let reg_val = readl(d, REG_OFFSET_INTERRUPT_CONTROL);
    writel(d, reg_val & !irq_mask_all, REG_OFFSET_INTERRUPT_CONTROL);
    writel(d, irq_mask_all, REG_OFFSET_INTERRUPT_CLR);
    // devm_request_irq for each line, then "Reset DRAM CE/UE counters"
    error_count(d, true);
    error_count(d, false);
    // edac_mc_add_mc, then enable
    writel(d, reg_val | irq_mask_all, REG_OFFSET_INTERRUPT_CONTROL);
    Probed {
        ranks,
        rank_size,
        mem_type,
        dev_width,
        scrub_hw: scrub == 2 || scrub == 3,
        reg_val,
    }
}

/// What dmc520_handle_dram_ecc_errors passes to edac_mc_handle_error.
#[derive(Debug, PartialEq, Eq)]
struct Reported {
    ce: bool,
    count: u32,
    rank: u32,
    bank: u32,
    row: u32,
    col: u32,
}

/// dmc520_isr -> dmc520_edac_dram_all_isr for the line whose mask is `irq_mask`.
fn dmc520_isr(d: &mut dyn MmioDevice, irq_mask: u32) -> Vec<Reported> {
    let mut out = Vec::new();
    let status = readl(d, REG_OFFSET_INTERRUPT_STATUS);
    for (ce, bit) in [(true, DRAM_ECC_INT_CE_BIT), (false, DRAM_ECC_INT_UE_BIT)] {
        if irq_mask & bit == 0 || status & bit == 0 {
            continue;
        }
        // dmc520_get_dram_ecc_error_info
        let (lo, hi) = if ce {
            (
                REG_OFFSET_DRAM_ECC_ERRC_INT_INFO_31_00,
                REG_OFFSET_DRAM_ECC_ERRC_INT_INFO_63_32,
            )
        } else {
            (
                REG_OFFSET_DRAM_ECC_ERRD_INT_INFO_31_00,
                REG_OFFSET_DRAM_ECC_ERRD_INT_INFO_63_32,
            )
        };
        let (l, h) = (readl(d, lo), readl(d, hi));
        let valid = l & 1 != 0 && h & (1 << 31) != 0;
        let count = error_count(d, ce);
        if count != 0 {
            out.push(Reported {
                ce,
                count,
                rank: if valid { l >> 29 } else { 0 },
                bank: if valid { h & 0xf } else { 0 },
                row: if valid { (l >> 11) & 0x3_ffff } else { 0 },
                col: if valid { (l >> 1) & 0x3ff } else { 0 },
            });
        }
        writel(d, bit, REG_OFFSET_INTERRUPT_CLR);
    }
    out
}

#[test]
fn probe_finds_ecc_one_rank_of_the_bank_size_ddr4() {
    let (mut d, ce, ue) = dmc();
    let p = probe(&mut d);
    assert_eq!(
        p,
        Probed {
            ranks: 1,
            rank_size: BANK,
            mem_type: 2,  // MEM_TYPE_DDR4
            dev_width: 1, // DEV_WIDTH_X8
            scrub_hw: false,
            reg_val: 0,
        }
    );
    assert!(!ce.level() && !ue.level());
}

#[test]
fn a_corrected_error_is_reported_with_its_dram_coordinates_and_cleared() {
    let (mut d, ce, ue) = dmc();
    probe(&mut d);
    // Offset 0x12_3458: 64-bit beat 0x2468b = row 0x9, bank 1, column 0x28b.
    d.inject(EccError::Correctable, 0x12_3458);
    assert!(ce.level() && !ue.level());
    assert_eq!(
        dmc520_isr(&mut d, DRAM_ECC_INT_CE_BIT),
        [Reported {
            ce: true,
            count: 1,
            rank: 0,
            bank: 1,
            row: 0x9,
            col: 0x28b,
        }]
    );
    assert!(!ce.level(), "INTERRUPT_CLR drops the line");
    assert_eq!(d.pending_counts(), (0, 0), "the ISR reset the counter");
}

#[test]
fn each_line_services_only_its_own_error_kind() {
    let (mut d, ce, ue) = dmc();
    probe(&mut d);
    d.inject(EccError::Correctable, 0);
    d.inject(EccError::Uncorrectable, 8);
    assert!(ce.level() && ue.level());
    let got = dmc520_isr(&mut d, DRAM_ECC_INT_UE_BIT);
    assert_eq!(got.len(), 1);
    assert!(!got[0].ce && got[0].col == 1);
    assert!(
        ce.level() && !ue.level(),
        "the CE line stays up for its own ISR"
    );
    assert_eq!(dmc520_isr(&mut d, DRAM_ECC_INT_CE_BIT).len(), 1);
    assert!(!ce.level());
}

#[test]
fn errors_before_probe_are_cleared_by_the_probe_not_reported() {
    let (mut d, ce, _) = dmc();
    d.inject(EccError::Correctable, 0);
    let p = probe(&mut d);
    assert_eq!(p.reg_val, 0);
    assert!(
        !ce.level(),
        "INTERRUPT_CLR in probe cleared the stale status"
    );
    assert_eq!(d.pending_counts(), (0, 0), "counters reset in probe");
}
