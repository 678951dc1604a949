//! EL1 system registers and the CPU identification profile.
//!
//! A register is named by its MRS/MSR encoding key: instruction bits 20:5,
//! that is `op0:2 op1:3 CRn:4 CRm:4 op2:3`. The access rules (who may read or
//! write what, what traps) live in [`crate::exec::system`]; this module holds
//! the storage and the identification values.

/// Key of a system register from its encoding fields.
#[must_use]
pub const fn key(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> u32 {
    (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2
}

/// Register keys used by the interpreter.
#[allow(missing_docs)]
pub mod k {
    use super::key;
    pub const MIDR_EL1: u32 = key(3, 0, 0, 0, 0);
    pub const MPIDR_EL1: u32 = key(3, 0, 0, 0, 5);
    pub const REVIDR_EL1: u32 = key(3, 0, 0, 0, 6);
    pub const ID_AA64PFR0_EL1: u32 = key(3, 0, 0, 4, 0);
    pub const ID_AA64PFR1_EL1: u32 = key(3, 0, 0, 4, 1);
    pub const ID_AA64DFR0_EL1: u32 = key(3, 0, 0, 5, 0);
    pub const ID_AA64ISAR0_EL1: u32 = key(3, 0, 0, 6, 0);
    pub const ID_AA64ISAR1_EL1: u32 = key(3, 0, 0, 6, 1);
    pub const ID_AA64MMFR0_EL1: u32 = key(3, 0, 0, 7, 0);
    pub const ID_AA64MMFR1_EL1: u32 = key(3, 0, 0, 7, 1);
    pub const ID_AA64MMFR2_EL1: u32 = key(3, 0, 0, 7, 2);
    pub const SCTLR_EL1: u32 = key(3, 0, 1, 0, 0);
    pub const ACTLR_EL1: u32 = key(3, 0, 1, 0, 1);
    pub const CPACR_EL1: u32 = key(3, 0, 1, 0, 2);
    pub const TTBR0_EL1: u32 = key(3, 0, 2, 0, 0);
    pub const TTBR1_EL1: u32 = key(3, 0, 2, 0, 1);
    pub const TCR_EL1: u32 = key(3, 0, 2, 0, 2);
    pub const SPSR_EL1: u32 = key(3, 0, 4, 0, 0);
    pub const ELR_EL1: u32 = key(3, 0, 4, 0, 1);
    pub const SP_EL0: u32 = key(3, 0, 4, 1, 0);
    pub const SPSEL: u32 = key(3, 0, 4, 2, 0);
    pub const CURRENT_EL: u32 = key(3, 0, 4, 2, 2);
    pub const AFSR0_EL1: u32 = key(3, 0, 5, 1, 0);
    pub const AFSR1_EL1: u32 = key(3, 0, 5, 1, 1);
    pub const ESR_EL1: u32 = key(3, 0, 5, 2, 0);
    pub const FAR_EL1: u32 = key(3, 0, 6, 0, 0);
    pub const PAR_EL1: u32 = key(3, 0, 7, 4, 0);
    pub const MAIR_EL1: u32 = key(3, 0, 10, 2, 0);
    pub const AMAIR_EL1: u32 = key(3, 0, 10, 3, 0);
    pub const VBAR_EL1: u32 = key(3, 0, 12, 0, 0);
    pub const ISR_EL1: u32 = key(3, 0, 12, 1, 0);
    pub const CONTEXTIDR_EL1: u32 = key(3, 0, 13, 0, 1);
    pub const TPIDR_EL1: u32 = key(3, 0, 13, 0, 4);
    pub const CNTKCTL_EL1: u32 = key(3, 0, 14, 1, 0);
    pub const CCSIDR_EL1: u32 = key(3, 1, 0, 0, 0);
    pub const CLIDR_EL1: u32 = key(3, 1, 0, 0, 1);
    pub const AIDR_EL1: u32 = key(3, 1, 0, 0, 7);
    pub const CSSELR_EL1: u32 = key(3, 2, 0, 0, 0);
    pub const CTR_EL0: u32 = key(3, 3, 0, 0, 1);
    pub const DCZID_EL0: u32 = key(3, 3, 0, 0, 7);
    pub const NZCV: u32 = key(3, 3, 4, 2, 0);
    pub const DAIF: u32 = key(3, 3, 4, 2, 1);
    pub const FPCR: u32 = key(3, 3, 4, 4, 0);
    pub const FPSR: u32 = key(3, 3, 4, 4, 1);
    pub const PMUSERENR_EL0: u32 = key(3, 3, 9, 14, 0);
    pub const TPIDR_EL0: u32 = key(3, 3, 13, 0, 2);
    pub const TPIDRRO_EL0: u32 = key(3, 3, 13, 0, 3);
    pub const CNTFRQ_EL0: u32 = key(3, 3, 14, 0, 0);
    pub const CNTPCT_EL0: u32 = key(3, 3, 14, 0, 1);
    pub const CNTVCT_EL0: u32 = key(3, 3, 14, 0, 2);
    pub const CNTP_TVAL_EL0: u32 = key(3, 3, 14, 2, 0);
    pub const CNTP_CTL_EL0: u32 = key(3, 3, 14, 2, 1);
    pub const CNTP_CVAL_EL0: u32 = key(3, 3, 14, 2, 2);
    pub const CNTV_TVAL_EL0: u32 = key(3, 3, 14, 3, 0);
    pub const CNTV_CTL_EL0: u32 = key(3, 3, 14, 3, 1);
    pub const CNTV_CVAL_EL0: u32 = key(3, 3, 14, 3, 2);
    pub const MDCCINT_EL1: u32 = key(2, 0, 0, 2, 0);
    pub const MDSCR_EL1: u32 = key(2, 0, 0, 2, 2);
    pub const OSLAR_EL1: u32 = key(2, 0, 1, 0, 4);
    pub const OSLSR_EL1: u32 = key(2, 0, 1, 1, 4);
    pub const OSDLR_EL1: u32 = key(2, 0, 1, 3, 4);
    pub const MDRAR_EL1: u32 = key(2, 0, 1, 0, 0);
}

/// Whether a key names a self-hosted debug register the profile makes
/// RAZ/WI at EL1: `DBGBVR/BCR/WVR/WCR<n>_EL1` (op0=2 op1=0 CRn=0 op2=4..7),
/// OSECCR_EL1, DBGPRCR_EL1, DBGCLAIMSET/CLR_EL1, MDCCSR_EL0.
#[must_use]
pub const fn is_debug_raz_wi(key: u32) -> bool {
    let op2 = key & 7;
    (key >> 7 == (2 << 7) && op2 >= 4)
        || key == key_const(2, 0, 0, 6, 2)
        || key == key_const(2, 0, 1, 4, 4)
        || key == key_const(2, 0, 7, 8, 6)
        || key == key_const(2, 0, 7, 9, 6)
        || key == key_const(2, 3, 0, 1, 0)
}

const fn key_const(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> u32 {
    key(op0, op1, crn, crm, op2)
}

/// Whether a key lies in the ID space (op0=3, op1=0, CRn=0), which reads as
/// zero for registers the profile does not name.
#[must_use]
pub const fn is_id_space(key: u32) -> bool {
    key >> 7 == (3 << 7)
}

/// Identification and fixed configuration values of the emulated CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuProfile {
    /// MIDR_EL1.
    pub midr: u64,
    /// MPIDR_EL1.
    pub mpidr: u64,
    /// REVIDR_EL1.
    pub revidr: u64,
    /// ID_AA64PFR0_EL1.
    pub id_aa64pfr0: u64,
    /// ID_AA64DFR0_EL1.
    pub id_aa64dfr0: u64,
    /// ID_AA64ISAR0_EL1.
    pub id_aa64isar0: u64,
    /// ID_AA64MMFR0_EL1.
    pub id_aa64mmfr0: u64,
    /// CTR_EL0.
    pub ctr: u64,
    /// DCZID_EL0 (BS field: log2 of the DC ZVA block in words).
    pub dczid: u64,
    /// CLIDR_EL1.
    pub clidr: u64,
    /// CCSIDR_EL1 (returned for every CSSELR value).
    pub ccsidr: u64,
    /// CNTFRQ_EL0 in Hz.
    pub cntfrq: u64,
    /// SCTLR_EL1 at reset.
    pub sctlr_reset: u64,
    /// EL0 MRS of an ID-space register traps with EC 0x18 (FEAT_IDST
    /// behaviour) rather than being UNDEFINED (EC 0x00).
    pub el0_id_traps_as_sysreg: bool,
}

impl Default for CpuProfile {
    /// The minimal Cortex-A53-like profile from the design notes (cpu.md).
    fn default() -> Self {
        Self {
            midr: 0x410F_D034,
            mpidr: 0x8000_0000,
            revidr: 0,
            // EL0=EL1=1 (AArch64 only), FP=AdvSIMD=0 (present), GIC=0, CSV2=1, CSV3=1.
            id_aa64pfr0: 0x1100_0000_0000_0011,
            id_aa64dfr0: 0x0010_1006,
            // CRC32 only.
            id_aa64isar0: 0x1_0000,
            // 40-bit PA, 16-bit ASID, 4K granule only.
            id_aa64mmfr0: 0x0F00_0022,
            ctr: 0x9444_C004,
            dczid: 4,
            clidr: 0x0A20_0023,
            ccsidr: 0x700F_E01A,
            cntfrq: 62_500_000,
            sctlr_reset: 0x30D0_0800,
            el0_id_traps_as_sysreg: true,
        }
    }
}

impl CpuProfile {
    /// Value of a register in the ID space (unnamed ones read as zero).
    #[must_use]
    pub fn id_reg(&self, key: u32) -> u64 {
        match key {
            k::MIDR_EL1 => self.midr,
            k::MPIDR_EL1 => self.mpidr,
            k::REVIDR_EL1 => self.revidr,
            k::ID_AA64PFR0_EL1 => self.id_aa64pfr0,
            k::ID_AA64DFR0_EL1 => self.id_aa64dfr0,
            k::ID_AA64ISAR0_EL1 => self.id_aa64isar0,
            k::ID_AA64MMFR0_EL1 => self.id_aa64mmfr0,
            _ => 0,
        }
    }

    /// DC ZVA block size in bytes.
    #[must_use]
    pub fn zva_bytes(&self) -> u64 {
        4 << (self.dczid & 0xf)
    }
}

/// Storage of the writable EL1/EL0 system registers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct SysRegs {
    pub sctlr: u64,
    pub actlr: u64,
    pub cpacr: u64,
    pub ttbr0: u64,
    pub ttbr1: u64,
    pub tcr: u64,
    pub spsr: u64,
    pub elr: u64,
    pub afsr0: u64,
    pub afsr1: u64,
    pub esr: u64,
    pub far: u64,
    pub par: u64,
    pub mair: u64,
    pub amair: u64,
    pub vbar: u64,
    pub contextidr: u64,
    pub tpidr_el1: u64,
    pub tpidr_el0: u64,
    pub tpidrro_el0: u64,
    pub csselr: u64,
    pub mdscr: u64,
    pub mdccint: u64,
    pub oslsr: u64,
    pub osdlr: u64,
    pub cntkctl: u64,
    pub cntv_ctl: u64,
    pub cntv_cval: u64,
    pub cntp_ctl: u64,
    pub cntp_cval: u64,
}

/// SCTLR_EL1 bits the interpreter acts on.
pub mod sctlr {
    /// MMU enable.
    pub const M: u64 = 1 << 0;
    /// Alignment check enable.
    pub const A: u64 = 1 << 1;
    /// SP alignment check at EL1.
    pub const SA: u64 = 1 << 3;
    /// SP alignment check at EL0.
    pub const SA0: u64 = 1 << 4;
    /// EL0 may access DAIF.
    pub const UMA: u64 = 1 << 9;
    /// EL0 DC ZVA allowed.
    pub const DZE: u64 = 1 << 14;
    /// EL0 may read CTR_EL0.
    pub const UCT: u64 = 1 << 15;
    /// EL0 WFI is not trapped.
    pub const NTWI: u64 = 1 << 16;
    /// EL0 WFE is not trapped.
    pub const NTWE: u64 = 1 << 18;
    /// Write permission implies XN.
    pub const WXN: u64 = 1 << 19;
    /// EL0 cache maintenance by VA allowed.
    pub const UCI: u64 = 1 << 26;
}

impl SysRegs {
    /// Registers at reset for a profile.
    #[must_use]
    pub fn reset(p: &CpuProfile) -> Self {
        Self {
            sctlr: p.sctlr_reset,
            // OS lock is locked at reset (OSLSR_EL1.OSLK = 1, OSLM = 0b10).
            oslsr: 0b1010,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_the_mrs_encoding() {
        // mrs x0, midr_el1 = 0xd5380000; bits 20:5 give the key.
        assert_eq!((0xd538_0000u32 >> 5) & 0xffff, k::MIDR_EL1);
        // mrs x1, tpidr_el0 = 0xd53bd041
        assert_eq!((0xd53b_d041u32 >> 5) & 0xffff, k::TPIDR_EL0);
    }

    #[test]
    fn unknown_id_registers_read_as_zero() {
        let p = CpuProfile::default();
        let id_isar6_like = key(3, 0, 0, 2, 7);
        assert!(is_id_space(id_isar6_like));
        assert_eq!(p.id_reg(id_isar6_like), 0);
        assert_eq!(p.id_reg(k::MIDR_EL1), 0x410F_D034);
        assert!(!is_id_space(k::SCTLR_EL1));
        assert!(!is_id_space(k::CTR_EL0));
    }

    #[test]
    fn debug_breakpoint_registers_are_raz_wi_keys() {
        assert!(is_debug_raz_wi(key(2, 0, 0, 1, 5))); // DBGBCR1_EL1
        assert!(is_debug_raz_wi(key(2, 0, 0, 0, 6))); // DBGWVR0_EL1
        assert!(!is_debug_raz_wi(k::MDSCR_EL1));
        assert!(!is_debug_raz_wi(k::MDCCINT_EL1));
    }
}
