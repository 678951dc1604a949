//! Stage-1 translation for the EL1&0 regime: 4 KiB granule, TTBR0/TTBR1
//! split, variable T0SZ/T1SZ (3 or 4 levels), TBI, block and page
//! descriptors, hierarchical APTable/UXNTable/PXNTable, access-flag faults
//! (no hardware AF/DBM), nG, MAIR attributes.
//!
//! Comments quote the steps of AArch64.TranslationTableWalk / the VMSAv8-64
//! chapter of the Arm ARM that each part implements.

use crate::tlb::AccessKind;

/// Kinds of translation fault, each with the level it was found at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Address size fault.
    AddressSize,
    /// Translation fault.
    Translation,
    /// Access flag fault.
    AccessFlag,
    /// Permission fault.
    Permission,
    /// Synchronous external abort on a translation table walk.
    WalkExternal,
}

/// A stage-1 fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// What went wrong.
    pub kind: FaultKind,
    /// Lookup level (0..=3).
    pub level: u8,
}

impl Fault {
    /// Fault status code for ESR_EL1.{I,D}FSC and PAR_EL1.FST.
    #[must_use]
    pub fn status(&self) -> u32 {
        let l = u32::from(self.level & 3);
        match self.kind {
            FaultKind::AddressSize => l,
            FaultKind::Translation => 0x04 + l,
            FaultKind::AccessFlag => 0x08 + l,
            FaultKind::Permission => 0x0C + l,
            FaultKind::WalkExternal => 0x14 + l,
        }
    }
}

/// A successful translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    /// Output physical address.
    pub pa: u64,
    /// MAIR attribute byte of the mapping.
    pub attr: u8,
    /// Shareability field.
    pub sh: u8,
    /// Whether the mapping is global (nG = 0).
    pub global: bool,
    /// Whether it came from a block descriptor.
    pub large: bool,
    /// log2 of the size of the region the descriptor maps (12 for a 4 KiB page, 21 or 30
    /// for a block; 64 with the MMU off, where one "translation" covers everything).
    pub block_shift: u8,
}

impl Translation {
    /// Whether the memory type is Device (MAIR attr<7:4> == 0).
    #[must_use]
    pub fn device(&self) -> bool {
        self.attr & 0xf0 == 0
    }
}

/// The system register values a walk depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmuRegs {
    /// SCTLR_EL1.
    pub sctlr: u64,
    /// TCR_EL1.
    pub tcr: u64,
    /// TTBR0_EL1.
    pub ttbr0: u64,
    /// TTBR1_EL1.
    pub ttbr1: u64,
    /// MAIR_EL1.
    pub mair: u64,
    /// Implemented physical address size in bits.
    pub pa_bits: u32,
}

/// TBI: whether the top byte of `va` is ignored under `tcr`.
#[must_use]
pub fn tbi(tcr: u64, va: u64) -> bool {
    if va & (1 << 55) == 0 {
        tcr & (1 << 37) != 0
    } else {
        tcr & (1 << 38) != 0
    }
}

/// Current ASID for a TCR/TTBR pair (TCR.A1 selects TTBR1's ASID field,
/// TCR.AS selects 16 bits).
#[must_use]
pub fn asid(tcr: u64, ttbr0: u64, ttbr1: u64) -> u16 {
    let t = if tcr & (1 << 22) != 0 { ttbr1 } else { ttbr0 };
    let a = (t >> 48) as u16;
    if tcr & (1 << 36) != 0 {
        a
    } else {
        a & 0xff
    }
}

/// Translate `va` for an access of `kind` with the permissions of `el`
/// (0 for EL0 and for LDTR/STTR, 1 for EL1). `read_pa` reads a descriptor.
///
/// # Errors
/// The stage-1 [`Fault`] the access causes.
pub fn translate(
    r: &MmuRegs,
    va: u64,
    kind: AccessKind,
    el: u8,
    mut read_pa: impl FnMut(u64) -> Option<u64>,
) -> Result<Translation, Fault> {
    let fault = |kind, level| Err(Fault { kind, level });
    if r.sctlr & 1 == 0 {
        // "When stage 1 address translation is disabled ... data accesses are
        // Device-nGnRnE, instruction fetches Normal", and the VA must fit the PA size.
        if va >> r.pa_bits != 0 {
            return fault(FaultKind::AddressSize, 0);
        }
        let attr = if kind == AccessKind::Fetch { 0xff } else { 0 };
        return Ok(Translation {
            pa: va,
            attr,
            sh: 2,
            global: true,
            large: true,
            block_shift: 64,
        });
    }
    let upper = va & (1 << 55) != 0;
    let (tsz, epd, ttbr) = if upper {
        ((r.tcr >> 16) & 0x3f, r.tcr & (1 << 23) != 0, r.ttbr1)
    } else {
        (r.tcr & 0x3f, r.tcr & (1 << 7) != 0, r.ttbr0)
    };
    // 4 KiB granule: TnSZ outside 16..=39 is treated as the nearest limit.
    let tsz = tsz.clamp(16, 39) as u32;
    let inputsize = 64 - tsz;
    // "The VA bits above the input size must all equal VA<55>" (with TBI the
    // top byte is excluded from the check).
    let top_bits = if tbi(r.tcr, va) { 56 } else { 64 };
    let check_mask = if top_bits > inputsize {
        (((1u128 << top_bits) - 1) as u64) & !((1u64 << inputsize) - 1)
    } else {
        0
    };
    let expect = if upper { check_mask } else { 0 };
    if va & check_mask != expect || epd {
        return fault(FaultKind::Translation, 0);
    }
    // Start level: each level resolves 9 bits above the 12-bit page offset.
    let levels = (inputsize - 12).div_ceil(9);
    let mut level = 4 - levels;
    let mut table = ttbr & 0x0000_ffff_ffff_fffe;
    let (mut ap_table, mut uxn_table, mut pxn_table) = (0u64, false, false);
    let oa_limit = 1u64 << r.pa_bits;
    loop {
        let shift = 12 + 9 * (3 - level);
        let idx = (va >> shift) & 0x1ff;
        let idx = if level == 4 - levels {
            idx & ((1u64 << (inputsize - shift).min(9)) - 1)
        } else {
            idx
        };
        let daddr = (table & !0xfff) | (idx * 8);
        let Some(desc) = read_pa(daddr) else {
            return fault(FaultKind::WalkExternal, level as u8);
        };
        if desc & 1 == 0 {
            return fault(FaultKind::Translation, level as u8);
        }
        let is_table = desc & 2 != 0 && level < 3;
        if is_table {
            // "APTable, UXNTable and PXNTable apply to all subsequent levels".
            ap_table |= (desc >> 61) & 3;
            uxn_table |= desc & (1 << 60) != 0;
            pxn_table |= desc & (1 << 59) != 0;
            table = desc & 0x0000_ffff_ffff_f000;
            if table >= oa_limit {
                return fault(FaultKind::AddressSize, level as u8);
            }
            level += 1;
            continue;
        }
        // Block descriptors exist at levels 1 and 2 only; at level 3 bits<1:0>
        // must be 0b11 (page). Anything else is a translation fault.
        if (desc & 2 == 0 && (level == 0 || level == 3)) || (desc & 2 != 0 && level != 3) {
            return fault(FaultKind::Translation, level as u8);
        }
        let oa_mask = 0x0000_ffff_ffff_f000 & !((1u64 << shift) - 1);
        let oa = desc & oa_mask;
        if oa >= oa_limit {
            return fault(FaultKind::AddressSize, level as u8);
        }
        if desc & (1 << 10) == 0 {
            return fault(FaultKind::AccessFlag, level as u8);
        }
        let ap = (desc >> 6) & 3;
        let el0_access = ap & 1 != 0 && ap_table & 1 == 0;
        let read_only = ap & 2 != 0 || ap_table & 2 != 0;
        let uxn = desc & (1 << 54) != 0 || uxn_table;
        // Privileged execute-never also applies to memory writable at EL0.
        let pxn = desc & (1 << 53) != 0 || pxn_table || (ap == 1 && ap_table & 1 == 0);
        let wxn = r.sctlr & (1 << 19) != 0 && !read_only;
        let ok = match (kind, el) {
            (AccessKind::Read, 0) => el0_access,
            (AccessKind::Read, _) => true,
            (AccessKind::Write, 0) => el0_access && !read_only,
            (AccessKind::Write, _) => !read_only,
            (AccessKind::Fetch, 0) => el0_access && !uxn && !wxn,
            (AccessKind::Fetch, _) => !pxn && !wxn,
        };
        if !ok {
            return fault(FaultKind::Permission, level as u8);
        }
        let attr_idx = (desc >> 2) & 7;
        return Ok(Translation {
            pa: oa | (va & ((1u64 << shift) - 1)),
            attr: (r.mair >> (8 * attr_idx)) as u8,
            sh: ((desc >> 8) & 3) as u8,
            global: desc & (1 << 11) == 0,
            large: level < 3,
            block_shift: shift as u8,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TCR_48: u64 = 16 | (16 << 16) | (2 << 30) | (1 << 37); // T0SZ=T1SZ=16, TG1=4K, TBI0
    const NORMAL: u64 = 0xff;

    struct Tables(HashMap<u64, u64>);
    impl Tables {
        fn read(&self, pa: u64) -> Option<u64> {
            Some(self.0.get(&pa).copied().unwrap_or(0))
        }
    }

    fn regs(ttbr0: u64, ttbr1: u64) -> MmuRegs {
        MmuRegs {
            sctlr: 1,
            tcr: TCR_48,
            ttbr0,
            ttbr1,
            mair: NORMAL,
            pa_bits: 40,
        }
    }

    /// Tables at 0x1000 (L0), 0x2000 (L1), 0x3000 (L2), 0x4000 (L3) mapping
    /// VA 0x4000_0000 + n*4K. Page descriptor bits given by `page`.
    fn four_level(page: u64) -> Tables {
        let mut t = HashMap::new();
        t.insert(0x1000, 0x2000 | 3);
        t.insert(0x2000 + 8, 0x3000 | 3); // L1 index 1 = VA 0x4000_0000
        t.insert(0x3000, 0x4000 | 3);
        t.insert(0x4000, 0x80_0000 | page);
        Tables(t)
    }

    const PAGE_RW_EL0: u64 = 3 | (1 << 10) | (1 << 6); // AF, AP=01

    #[test]
    fn walks_four_levels_to_a_page() {
        let t = four_level(PAGE_RW_EL0);
        let r = translate(&regs(0x1000, 0), 0x4000_0123, AccessKind::Read, 0, |a| {
            t.read(a)
        });
        let tr = r.expect("maps");
        assert_eq!(tr.pa, 0x80_0123);
        assert!(tr.global && !tr.large && !tr.device());
    }

    #[test]
    fn missing_entry_is_translation_fault_at_its_level() {
        let t = four_level(PAGE_RW_EL0);
        let r = translate(&regs(0x1000, 0), 0x4000_1000, AccessKind::Read, 1, |a| {
            t.read(a)
        });
        assert_eq!(
            r,
            Err(Fault {
                kind: FaultKind::Translation,
                level: 3
            })
        );
        assert_eq!(
            Fault {
                kind: FaultKind::Translation,
                level: 3
            }
            .status(),
            0x07
        );
        let r = translate(&regs(0x1000, 0), 0x8000_0000, AccessKind::Read, 1, |a| {
            t.read(a)
        });
        assert_eq!(
            r,
            Err(Fault {
                kind: FaultKind::Translation,
                level: 1
            })
        );
    }

    #[test]
    fn clear_access_flag_faults() {
        let t = four_level(3 | (1 << 6));
        let r = translate(&regs(0x1000, 0), 0x4000_0000, AccessKind::Read, 1, |a| {
            t.read(a)
        });
        assert_eq!(r.map_err(|f| f.status()), Err(0x0B));
    }

    #[test]
    fn permissions_follow_ap_and_xn() {
        let ro_el1 = 3 | (1 << 10) | (2 << 6); // AP=10: EL1 read-only, no EL0
        let t = four_level(ro_el1);
        let rr = regs(0x1000, 0);
        assert!(translate(&rr, 0x4000_0000, AccessKind::Read, 1, |a| t.read(a)).is_ok());
        let w = translate(&rr, 0x4000_0000, AccessKind::Write, 1, |a| t.read(a));
        assert_eq!(w.map_err(|f| f.status()), Err(0x0F));
        let r0 = translate(&rr, 0x4000_0000, AccessKind::Read, 0, |a| t.read(a));
        assert_eq!(r0.map_err(|f| f.status()), Err(0x0F));
        // EL0-writable memory is never executable at EL1.
        let t = four_level(PAGE_RW_EL0);
        let x1 = translate(&rr, 0x4000_0000, AccessKind::Fetch, 1, |a| t.read(a));
        assert_eq!(x1.map_err(|f| f.kind), Err(FaultKind::Permission));
        assert!(translate(&rr, 0x4000_0000, AccessKind::Fetch, 0, |a| t.read(a)).is_ok());
    }

    #[test]
    fn table_bits_restrict_lower_levels() {
        let mut t = four_level(PAGE_RW_EL0);
        t.0.insert(0x3000, 0x4000 | 3 | (1 << 61) | (1 << 60)); // APTable[0]: no EL0; UXNTable
        let rr = regs(0x1000, 0);
        let r0 = translate(&rr, 0x4000_0000, AccessKind::Read, 0, |a| t.read(a));
        assert_eq!(r0.map_err(|f| f.status()), Err(0x0F));
    }

    #[test]
    fn ttbr1_selected_by_bit_55_and_blocks_map_2m() {
        let mut t = HashMap::new();
        // T1SZ=16: 4 levels. VA 0xffff_0000_0020_1000: L0 idx 0x1e0? compute below.
        let va: u64 = 0xffff_8000_0040_1234;
        let l0 = (va >> 39) & 0x1ff;
        let l1 = (va >> 30) & 0x1ff;
        let l2 = (va >> 21) & 0x1ff;
        t.insert(0x5000 + l0 * 8, 0x6000 | 3);
        t.insert(0x6000 + l1 * 8, 0x7000 | 3);
        t.insert(0x7000 + l2 * 8, 0x20_0000 | 1 | (1 << 10) | (1 << 11)); // block, nG
        let t = Tables(t);
        let tr =
            translate(&regs(0, 0x5000), va, AccessKind::Write, 1, |a| t.read(a)).expect("maps");
        assert_eq!(tr.pa, 0x20_0000 | (va & 0x1f_ffff));
        assert!(tr.large && !tr.global);
    }

    #[test]
    fn address_outside_either_range_faults_at_level_0() {
        let t = Tables(HashMap::new());
        let r = translate(
            &regs(0x1000, 0x1000),
            0x0001_0000_0000_0000,
            AccessKind::Read,
            1,
            |a| t.read(a),
        );
        assert_eq!(r.map_err(|f| f.status()), Err(0x04));
    }

    #[test]
    fn tbi0_ignores_the_top_byte_of_low_addresses() {
        let t = four_level(PAGE_RW_EL0);
        let r = translate(
            &regs(0x1000, 0),
            0x5a00_0000_4000_0008,
            AccessKind::Read,
            0,
            |a| t.read(a),
        );
        assert_eq!(r.map(|t| t.pa), Ok(0x80_0008));
    }

    #[test]
    fn three_level_walk_with_t0sz_25() {
        let mut t = HashMap::new();
        t.insert(0x1000 + 8, 0x3000 | 3); // L1 index 1 (VA 0x4000_0000)
        t.insert(0x3000, 0x4000 | 3);
        t.insert(0x4000, 0x9000 | PAGE_RW_EL0);
        let t = Tables(t);
        let mut r = regs(0x1000, 0);
        r.tcr = 25 | (2 << 30);
        let tr = translate(&r, 0x4000_0010, AccessKind::Read, 1, |a| t.read(a)).expect("maps");
        assert_eq!(tr.pa, 0x9010);
    }

    #[test]
    fn output_address_beyond_pa_size_is_address_size_fault() {
        let t = four_level(0x100_0000_0000 | PAGE_RW_EL0); // bit 40 set, PA is 40 bits
        let r = translate(&regs(0x1000, 0), 0x4000_0000, AccessKind::Read, 1, |a| {
            t.read(a)
        });
        assert_eq!(r.map_err(|f| f.status()), Err(0x03));
    }

    #[test]
    fn mmu_off_is_flat_with_device_data_and_normal_fetch() {
        let mut r = regs(0, 0);
        r.sctlr = 0;
        let d = translate(&r, 0x1234, AccessKind::Read, 1, |_| None).expect("flat");
        let i = translate(&r, 0x1234, AccessKind::Fetch, 1, |_| None).expect("flat");
        assert_eq!((d.pa, d.device(), i.device()), (0x1234, true, false));
        let big = translate(&r, 1 << 40, AccessKind::Read, 1, |_| None);
        assert_eq!(big.map_err(|f| f.status()), Err(0x00));
    }

    #[test]
    fn walk_read_failure_is_external_abort_on_walk() {
        let r = translate(&regs(0x1000, 0), 0x4000_0000, AccessKind::Read, 1, |_| None);
        assert_eq!(r.map_err(|f| f.status()), Err(0x14));
    }
}
