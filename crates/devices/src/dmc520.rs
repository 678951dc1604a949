//! Arm CoreLink DMC-520 dynamic memory controller: the registers Linux's dmc520_edac
//! driver reads (ECC enabled, geometry, memory type) and the DRAM ECC error reporting it
//! handles (per-rank error counters, error-info registers, the `dram_ecc_errc` and
//! `dram_ecc_errd` interrupts). The emulator injects errors with [`Dmc520::inject`].
//! Register offsets and fields: drivers/edac/dmc520_edac.c (the TRM is not public).

use crate::bus::Registers32;
use crate::irq::IrqLine;

const FORMAT_CONTROL: u64 = 0x18;
const FEATURE_CONFIG: u64 = 0x130;
const ERRC_COUNT_LO: u64 = 0x158;
const ERRC_COUNT_HI: u64 = 0x15c;
const ERRD_COUNT_LO: u64 = 0x160;
const ERRD_COUNT_HI: u64 = 0x164;
const INTERRUPT_CONTROL: u64 = 0x500;
const INTERRUPT_CLR: u64 = 0x508;
const INTERRUPT_STATUS: u64 = 0x510;
const ERRC_INFO_LO: u64 = 0x528;
const ERRC_INFO_HI: u64 = 0x52c;
const ERRD_INFO_LO: u64 = 0x530;
const ERRD_INFO_HI: u64 = 0x534;
const ADDRESS_CONTROL_NOW: u64 = 0x1010;
const MEMORY_TYPE_NOW: u64 = 0x1128;
const SCRUB_CONTROL0_NOW: u64 = 0x1170;

/// DRAM ECC correctable / uncorrectable error interrupt bits.
pub const INT_CE: u32 = 1 << 2;
pub const INT_UE: u32 = 1 << 3;

/// Bytes per DRAM beat: a 64-bit data bus (FORMAT_CONTROL memory width x64).
const WIDTH: u64 = 8;
const MIN_COL_BITS: u32 = 8;
const MIN_ROW_BITS: u32 = 11;

/// An injected error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EccError {
    /// Single-bit: corrected, reported through `dram_ecc_errc`.
    Correctable,
    /// Double-bit: detected, not corrected, reported through `dram_ecc_errd`.
    Uncorrectable,
}

/// DRAM geometry that makes up the bank's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub col_bits: u32,
    pub row_bits: u32,
    pub bank_bits: u32,
}

impl Geometry {
    /// One rank of x64 DDR4 covering `size` bytes (a power of two of at least 8 MiB):
    /// 10 column bits, 4 bank bits (16 banks), the rest rows.
    pub fn for_size(size: u64) -> Option<Geometry> {
        if !size.is_power_of_two() {
            return None;
        }
        let total = size.trailing_zeros().checked_sub(WIDTH.trailing_zeros())?;
        let (col_bits, bank_bits) = (10, 4);
        let row_bits = total.checked_sub(col_bits + bank_bits)?;
        (MIN_ROW_BITS..=MIN_ROW_BITS + 7)
            .contains(&row_bits)
            .then_some(Geometry {
                col_bits,
                row_bits,
                bank_bits,
            })
    }
}

/// The controller of one ECC-protected RAM bank.
pub struct Dmc520 {
    geometry: Geometry,
    ecc_enabled: bool,
    int_control: u32,
    int_status: u32,
    ce_count: u32,
    ue_count: u32,
    ce_info: (u32, u32),
    ue_info: (u32, u32),
    irq_ce: Option<Box<dyn IrqLine>>,
    irq_ue: Option<Box<dyn IrqLine>>,
    levels: (bool, bool),
}

impl std::fmt::Debug for Dmc520 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dmc520")
            .field("geometry", &self.geometry)
            .field("ce_count", &self.ce_count)
            .field("ue_count", &self.ue_count)
            .finish_non_exhaustive()
    }
}

impl Dmc520 {
    /// A controller for a bank of the given geometry, with the interrupt lines the DT
    /// names `dram_ecc_errc` and `dram_ecc_errd` (either may be absent).
    pub fn new(
        geometry: Geometry,
        irq_ce: Option<Box<dyn IrqLine>>,
        irq_ue: Option<Box<dyn IrqLine>>,
    ) -> Dmc520 {
        Dmc520 {
            geometry,
            ecc_enabled: true,
            int_control: 0,
            int_status: 0,
            ce_count: 0,
            ue_count: 0,
            ce_info: (0, 0),
            ue_info: (0, 0),
            irq_ce,
            irq_ue,
            levels: (false, false),
        }
    }

    /// Errors reported so far and not yet read by the driver: (corrected, uncorrected).
    pub fn pending_counts(&self) -> (u32, u32) {
        (self.ce_count, self.ue_count)
    }

    /// Reports an ECC error at byte `offset` into the bank: the error-info registers get
    /// its DRAM coordinates, the counter of rank 0 goes up (saturating at 255, as the
    /// 8-bit hardware counters do), and the interrupt fires if the driver enabled it.
    pub fn inject(&mut self, kind: EccError, offset: u64) {
        let g = self.geometry;
        let beat = offset / WIDTH;
        let col = (beat & ((1 << g.col_bits) - 1)) as u32;
        let bank = ((beat >> g.col_bits) & ((1 << g.bank_bits) - 1)) as u32;
        let row = ((beat >> (g.col_bits + g.bank_bits)) & ((1 << g.row_bits) - 1)) as u32;
        // INFO low: valid [0], col [10:1], row [28:11], rank [31:29]; high: bank [3:0], valid [31].
        let info = (
            1 | ((col & 0x3ff) << 1) | ((row & 0x3_ffff) << 11),
            (bank & 0xf) | (1 << 31),
        );
        match kind {
            EccError::Correctable => {
                self.ce_info = info;
                self.ce_count = (self.ce_count + 1).min(0xff);
                self.int_status |= INT_CE;
            }
            EccError::Uncorrectable => {
                self.ue_info = info;
                self.ue_count = (self.ue_count + 1).min(0xff);
                self.int_status |= INT_UE;
            }
        }
        self.update();
    }

    fn update(&mut self) {
        let pending = self.int_status & self.int_control;
        let ce = pending & INT_CE != 0;
        let ue = pending & INT_UE != 0;
        if ce != self.levels.0 {
            if let Some(l) = &self.irq_ce {
                l.set_level(ce);
            }
        }
        if ue != self.levels.1 {
            if let Some(l) = &self.irq_ue {
                l.set_level(ue);
            }
        }
        self.levels = (ce, ue);
    }
}

impl Registers32 for Dmc520 {
    fn read_reg(&mut self, off: u64) -> u32 {
        let g = self.geometry;
        match off {
            FORMAT_CONTROL => 3, // x64 data bus
            FEATURE_CONFIG => u32::from(self.ecc_enabled),
            ERRC_COUNT_LO => self.ce_count,
            ERRD_COUNT_LO => self.ue_count,
            INTERRUPT_CONTROL => self.int_control,
            INTERRUPT_STATUS => self.int_status,
            ERRC_INFO_LO => self.ce_info.0,
            ERRC_INFO_HI => self.ce_info.1,
            ERRD_INFO_LO => self.ue_info.0,
            ERRD_INFO_HI => self.ue_info.1,
            // col [2:0], row [10:8], bank [18:16], rank [25:24] (one rank).
            ADDRESS_CONTROL_NOW => {
                (g.col_bits - MIN_COL_BITS)
                    | ((g.row_bits - MIN_ROW_BITS) << 8)
                    | (g.bank_bits << 16)
            }
            MEMORY_TYPE_NOW => 2 | (1 << 8), // DDR4, x8 devices
            SCRUB_CONTROL0_NOW => 0,
            _ => 0,
        }
    }

    fn write_reg(&mut self, off: u64, v: u32) {
        match off {
            ERRC_COUNT_LO => self.ce_count = v & 0xff,
            ERRD_COUNT_LO => self.ue_count = v & 0xff,
            ERRC_COUNT_HI | ERRD_COUNT_HI => {}
            INTERRUPT_CONTROL => self.int_control = v & 0x3ff,
            INTERRUPT_CLR => self.int_status &= !v,
            _ => {}
        }
        self.update();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::MmioDevice;
    use crate::irq::IrqLog;

    fn r(d: &mut Dmc520, off: u64) -> u32 {
        let mut b = [0u8; 4];
        d.read(off, &mut b);
        u32::from_le_bytes(b)
    }

    fn w(d: &mut Dmc520, off: u64, v: u32) {
        d.write(off, &v.to_le_bytes());
    }

    fn dmc() -> (Dmc520, IrqLog, IrqLog) {
        let (ce, ue) = (IrqLog::default(), IrqLog::default());
        let g = Geometry::for_size(256 << 20).expect("256 MiB");
        (
            Dmc520::new(g, Some(Box::new(ce.clone())), Some(Box::new(ue.clone()))),
            ce,
            ue,
        )
    }

    /// The rank size dmc520_get_rank_size computes from the registers.
    fn rank_size(d: &mut Dmc520) -> u64 {
        let ac = r(d, ADDRESS_CONTROL_NOW);
        let width = match r(d, FORMAT_CONTROL) & 3 {
            2 => 4,
            3 => 8,
            _ => 0,
        };
        let bits = (ac & 7) + 8 + ((ac >> 8) & 7) + 11 + ((ac >> 16) & 7);
        (width as u64) << bits
    }

    #[test]
    fn the_driver_sees_ecc_enabled_and_the_bank_size() {
        let (mut d, _, _) = dmc();
        assert_eq!(r(&mut d, FEATURE_CONFIG) & 3, 1);
        assert_eq!(rank_size(&mut d), 256 << 20);
        assert_eq!(
            1 << ((r(&mut d, ADDRESS_CONTROL_NOW) >> 24) & 3),
            1,
            "one rank"
        );
        assert_eq!(r(&mut d, MEMORY_TYPE_NOW) & 7, 2, "DDR4");
        assert!(Geometry::for_size(3 << 20).is_none());
    }

    #[test]
    fn a_correctable_error_is_counted_located_and_interrupts_when_enabled() {
        let (mut d, ce, ue) = dmc();
        d.inject(EccError::Correctable, 0x12_3458);
        assert!(!ce.level(), "masked until the driver enables it");
        w(&mut d, INTERRUPT_CONTROL, INT_CE | INT_UE);
        assert!(ce.level() && !ue.level());
        assert_eq!(r(&mut d, INTERRUPT_STATUS), INT_CE);
        let (lo, hi) = (r(&mut d, ERRC_INFO_LO), r(&mut d, ERRC_INFO_HI));
        assert!(lo & 1 != 0 && hi & (1 << 31) != 0, "valid");
        let beat = 0x12_3458u32 / 8;
        assert_eq!((lo >> 1) & 0x3ff, beat & 0x3ff, "column");
        assert_eq!(hi & 0xf, (beat >> 10) & 0xf, "bank");
        assert_eq!((lo >> 11) & 0x3_ffff, beat >> 14, "row");
        assert_eq!(r(&mut d, ERRC_COUNT_LO), 1);
        // dmc520_get_dram_ecc_error_count resets the counters, the ISR clears the status.
        w(&mut d, ERRC_COUNT_LO, 0);
        w(&mut d, INTERRUPT_CLR, INT_CE);
        assert!(!ce.level());
        assert_eq!(d.pending_counts(), (0, 0));
    }

    #[test]
    fn uncorrectable_errors_use_their_own_line_and_registers() {
        let (mut d, ce, ue) = dmc();
        w(&mut d, INTERRUPT_CONTROL, INT_CE | INT_UE);
        for _ in 0..300 {
            d.inject(EccError::Uncorrectable, 0);
        }
        assert!(ue.level() && !ce.level());
        assert_eq!(r(&mut d, ERRD_COUNT_LO), 255, "8-bit counter saturates");
        assert_eq!(r(&mut d, ERRC_COUNT_LO), 0);
    }
}
