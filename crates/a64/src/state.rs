//! Architectural register state of one AArch64 PE (EL0/EL1 only).
//!
//! General-purpose registers live in a 64-slot array so that a pre-decoded
//! register index (always masked with 63) never needs a bounds check:
//! slots 0..=30 are X0..X30, [`ZR`] always reads as zero, [`SP`] holds the
//! stack pointer selected by the current EL/SPSel, and writes that the
//! architecture discards (destination XZR) go to [`SINK`].

/// Slot that reads as zero (XZR/WZR as a source). Never written.
pub const ZR: u8 = 31;
/// Slot holding the current stack pointer (SP_EL0 or SP_EL1 per PSTATE.SPSel).
pub const SP: u8 = 32;
/// Slot receiving writes to XZR; never read by pre-decoded operations.
pub const SINK: u8 = 33;

/// Register index for a source operand where 31 means XZR.
#[inline]
#[must_use]
pub fn r_zr(n: u32) -> u8 {
    (n & 31) as u8
}

/// Register index for a destination operand where 31 means XZR (discard).
#[inline]
#[must_use]
pub fn w_zr(n: u32) -> u8 {
    if n & 31 == 31 {
        SINK
    } else {
        (n & 31) as u8
    }
}

/// Register index for an operand where 31 means SP (source or destination).
#[inline]
#[must_use]
pub fn r_sp(n: u32) -> u8 {
    if n & 31 == 31 {
        SP
    } else {
        (n & 31) as u8
    }
}

/// PSTATE bits other than NZCV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pstate {
    /// Current exception level (0 or 1).
    pub el: u8,
    /// SPSel: at EL1, true selects SP_EL1.
    pub sp_sel: bool,
    /// D, A, I, F mask bits in their SPSR positions (bits 9..6).
    pub daif: u32,
    /// Software step bit.
    pub ss: bool,
    /// Illegal execution state bit.
    pub il: bool,
}

/// DAIF bit positions (as in SPSR and the DAIF system register).
pub const DAIF_D: u32 = 1 << 9;
/// SError mask.
pub const DAIF_A: u32 = 1 << 8;
/// IRQ mask.
pub const DAIF_I: u32 = 1 << 7;
/// FIQ mask.
pub const DAIF_F: u32 = 1 << 6;
/// All four masks.
pub const DAIF_ALL: u32 = DAIF_D | DAIF_A | DAIF_I | DAIF_F;

/// All architectural registers visible to instructions.
#[derive(Debug, Clone)]
pub struct Regs {
    /// GPR file, see the module documentation for the slot layout.
    pub x: [u64; 64],
    /// Program counter of the instruction being executed.
    pub pc: u64,
    /// NZCV in bits 31..28 (the NZCV system register layout).
    pub nzcv: u32,
    /// The rest of PSTATE.
    pub pstate: Pstate,
    /// Banked stack pointers: `[SP_EL0, SP_EL1]`. The one currently selected
    /// lives in `x[SP]`; its bank slot is stale until [`Regs::sync_sp`].
    pub sp_el: [u64; 2],
    /// SIMD&FP registers V0..V31.
    pub v: [u128; 32],
    /// Floating-point control register.
    pub fpcr: u32,
    /// Floating-point status register.
    pub fpsr: u32,
}

impl Default for Regs {
    fn default() -> Self {
        Self {
            x: [0; 64],
            pc: 0,
            nzcv: 0,
            pstate: Pstate {
                el: 1,
                sp_sel: true,
                daif: DAIF_ALL,
                ss: false,
                il: false,
            },
            sp_el: [0; 2],
            v: [0; 32],
            fpcr: 0,
            fpsr: 0,
        }
    }
}

impl Regs {
    /// Read general-purpose register `n` (0..=30), or XZR for 31.
    #[must_use]
    pub fn xreg(&self, n: u32) -> u64 {
        self.x[usize::from(r_zr(n))]
    }

    /// Write general-purpose register `n` (0..=30); 31 is ignored.
    pub fn set_xreg(&mut self, n: u32, v: u64) {
        self.x[usize::from(w_zr(n))] = v;
    }

    /// Which SP bank the current PSTATE selects.
    #[must_use]
    pub fn sp_bank(&self) -> usize {
        usize::from(self.pstate.el != 0 && self.pstate.sp_sel)
    }

    /// Store the live SP into its bank slot.
    pub fn sync_sp(&mut self) {
        let b = self.sp_bank();
        self.sp_el[b] = self.x[usize::from(SP)];
    }

    /// Change EL/SPSel, swapping the live stack pointer between banks.
    pub fn switch_sp(&mut self, el: u8, sp_sel: bool) {
        self.sync_sp();
        self.pstate.el = el;
        self.pstate.sp_sel = sp_sel;
        let b = self.sp_bank();
        self.x[usize::from(SP)] = self.sp_el[b];
    }

    /// Read SP_EL0 regardless of the current selection.
    #[must_use]
    pub fn sp_el0(&self) -> u64 {
        if self.sp_bank() == 0 {
            self.x[usize::from(SP)]
        } else {
            self.sp_el[0]
        }
    }

    /// Write SP_EL0 regardless of the current selection.
    pub fn set_sp_el0(&mut self, v: u64) {
        if self.sp_bank() == 0 {
            self.x[usize::from(SP)] = v;
        } else {
            self.sp_el[0] = v;
        }
    }

    /// PSTATE as saved into SPSR_EL1 on exception entry (AArch64 format).
    #[must_use]
    pub fn spsr(&self) -> u64 {
        let p = &self.pstate;
        let m = (u32::from(p.el) << 2) | u32::from(p.el != 0 && p.sp_sel);
        u64::from(self.nzcv | p.daif | (u32::from(p.ss) << 21) | (u32::from(p.il) << 20) | m)
    }
}

/// For each condition code, a 16-bit set of the NZCV nibble values for which
/// the condition holds (ConditionHolds() in the Arm ARM, evaluated ahead of time).
pub const COND_TABLE: [u16; 16] = build_cond_table();

const fn build_cond_table() -> [u16; 16] {
    let mut t = [0u16; 16];
    let mut cond = 0;
    while cond < 16 {
        let mut f = 0;
        while f < 16 {
            let n = f & 8 != 0;
            let z = f & 4 != 0;
            let c = f & 2 != 0;
            let v = f & 1 != 0;
            let base = match cond >> 1 {
                0 => z,
                1 => c,
                2 => n,
                3 => v,
                4 => c && !z,
                5 => n == v,
                6 => n == v && !z,
                _ => true,
            };
            // cond<0> inverts the result except for 0b1111 (AL/NV both always).
            let holds = if cond & 1 == 1 && cond != 15 {
                !base
            } else {
                base
            };
            if holds {
                t[cond] |= 1 << f;
            }
            f += 1;
        }
        cond += 1;
    }
    t
}

/// Whether condition `cond` holds for flags `nzcv` (bits 31..28).
#[inline(always)]
#[must_use]
pub fn cond_holds(cond: u32, nzcv: u32) -> bool {
    (COND_TABLE[(cond & 15) as usize] >> (nzcv >> 28)) & 1 != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cond_table_matches_definitions() {
        let n = 8 << 28;
        let z = 4 << 28;
        let c = 2 << 28;
        let v = 1 << 28;
        assert!(cond_holds(0, z)); // EQ
        assert!(!cond_holds(1, z)); // NE
        assert!(cond_holds(2, c)); // CS
        assert!(cond_holds(8, c)); // HI
        assert!(!cond_holds(8, c | z)); // HI
        assert!(cond_holds(10, n | v)); // GE
        assert!(cond_holds(11, n)); // LT
        assert!(cond_holds(13, z)); // LE
        assert!(cond_holds(14, 0) && cond_holds(15, 0));
    }

    #[test]
    fn sp_banks_switch_with_el() {
        let mut r = Regs::default();
        r.x[usize::from(SP)] = 0x1000; // SP_EL1
        r.switch_sp(0, true);
        r.x[usize::from(SP)] = 0x2000; // SP_EL0
        r.switch_sp(1, true);
        assert_eq!(r.x[usize::from(SP)], 0x1000);
        assert_eq!(r.sp_el0(), 0x2000);
    }
}
