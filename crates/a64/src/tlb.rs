//! Direct-mapped software TLB.
//!
//! There is one table per (translation regime privilege, access kind): EL0
//! and EL1 permissions differ for the same page, and read, write and fetch
//! entries are kept apart so that a page can be fast for reads but slow for
//! writes (read-only pages, pages holding decoded code). A data entry holds a
//! host pointer to the start of a RAM page; a fetch entry holds the index of
//! the decoded-code page.
//!
//! Entries hold only the current ASID's non-global translations plus global
//! ones: a change of ASID flushes the non-global entries. Translations from
//! block descriptors are split into 4 KiB entries; a TLBI by VA while any such
//! entry exists flushes everything, since the other pieces of the block must go too.

use crate::mem::HostPtr;

/// log2 of the number of entries per table.
pub const TLB_BITS: u32 = 8;
/// Entries per table.
pub const TLB_SIZE: usize = 1 << TLB_BITS;
/// Mask selecting the page part of a VA.
pub const PAGE_MASK: u64 = !0xfff;

/// Access kinds, each with its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    /// Data read.
    Read = 0,
    /// Data write.
    Write = 1,
    /// Instruction fetch.
    Fetch = 2,
}

/// Entry flag: translation is global (nG = 0).
pub const F_GLOBAL: u32 = 1;
/// Entry flag: translation came from a block descriptor.
pub const F_LARGE: u32 = 2;

/// One TLB entry.
#[derive(Debug, Clone, Copy)]
pub struct TlbEntry {
    /// Page-aligned VA (including the top byte) or `u64::MAX` when invalid.
    pub(crate) tag: u64,
    /// Host pointer to the page (data entries): only ever taken from a registered RAM
    /// region, which is why the fields are crate-private.
    pub(crate) host: HostPtr,
    /// Physical page address.
    pub(crate) pa_page: u64,
    /// Decoded-code page index (fetch entries).
    pub(crate) code: u32,
    /// `F_*` flags.
    pub(crate) flags: u32,
}

impl TlbEntry {
    /// An entry matching nothing.
    pub const INVALID: Self = Self {
        tag: u64::MAX,
        host: HostPtr::NULL,
        pa_page: 0,
        code: 0,
        flags: 0,
    };
}

/// What a translation-table walk gave for one page, to cache.
pub(crate) struct Fill {
    /// Virtual address (any address of the page).
    pub va: u64,
    /// Host pointer to the page.
    pub host: HostPtr,
    /// Physical page address.
    pub pa_page: u64,
    /// Decoded-code page index (fetch entries; 0 for data).
    pub code: u32,
    /// The descriptor's nG bit was clear.
    pub global: bool,
    /// The translation came from a block descriptor.
    pub large: bool,
}

/// Number of tables: 2 privilege levels x 3 access kinds.
pub const TABLES: usize = 6;

/// The software TLB.
#[derive(Debug)]
pub struct Tlb {
    /// Tables indexed by `el * 3 + kind`.
    pub(crate) t: Box<[[TlbEntry; TLB_SIZE]; TABLES]>,
    /// Some entry was filled from a block descriptor since the last full flush.
    pub has_large: bool,
}

impl Default for Tlb {
    fn default() -> Self {
        Self::new()
    }
}

/// Table index for a privilege level (0 or 1) and access kind.
#[inline(always)]
#[must_use]
pub fn table(el: u8, kind: AccessKind) -> usize {
    usize::from(el & 1) * 3 + kind as usize
}

/// Entry index for a VA.
#[inline(always)]
#[must_use]
pub fn slot(va: u64) -> usize {
    (va >> 12) as usize & (TLB_SIZE - 1)
}

impl Tlb {
    /// Caches a walk in table `table` (see [`table`]). An entry from a block mapping
    /// makes every TLBI by VA flush everything from then on: the VA it names may be any
    /// address of the block.
    pub(crate) fn fill(&mut self, table: usize, f: Fill) {
        let mut flags = if f.global { F_GLOBAL } else { 0 };
        if f.large {
            flags |= F_LARGE;
            self.has_large = true;
        }
        self.t[table][slot(f.va)] = TlbEntry {
            tag: f.va & PAGE_MASK,
            host: f.host,
            pa_page: f.pa_page,
            code: f.code,
            flags,
        };
    }

    /// An empty TLB.
    #[must_use]
    pub fn new() -> Self {
        Self {
            t: Box::new([[TlbEntry::INVALID; TLB_SIZE]; TABLES]),
            has_large: false,
        }
    }

    /// Drop every entry.
    pub fn flush_all(&mut self) {
        for t in self.t.iter_mut() {
            t.fill(TlbEntry::INVALID);
        }
        self.has_large = false;
    }

    /// Drop every non-global entry (ASID change, TLBI ASIDE1).
    pub fn flush_non_global(&mut self) {
        for e in self.t.iter_mut().flat_map(|t| t.iter_mut()) {
            if e.flags & F_GLOBAL == 0 {
                *e = TlbEntry::INVALID;
            }
        }
    }

    /// Drop entries translating the page of `va` (TLBI VA*).
    pub fn flush_va(&mut self, va: u64) {
        if self.has_large {
            self.flush_all();
            return;
        }
        // The tag holds the full VA including the top byte, which TLBI ignores.
        let page = va & PAGE_MASK & 0x00ff_ffff_ffff_ffff;
        let s = slot(va);
        for t in self.t.iter_mut() {
            if t[s].tag & 0x00ff_ffff_ffff_ffff == page {
                t[s] = TlbEntry::INVALID;
            }
        }
        // Entries for the same page under other top bytes live in the same slot.
    }

    /// Drop write entries for physical page `pa_page` (it now holds decoded
    /// code, so writes must take the slow path and invalidate it).
    pub fn flush_writes_to(&mut self, pa_page: u64) {
        for el in 0..2 {
            for e in self.t[table(el, AccessKind::Write)].iter_mut() {
                if e.tag != u64::MAX && e.pa_page == pa_page {
                    *e = TlbEntry::INVALID;
                }
            }
        }
    }

    /// Drop every fetch entry (decoded-code pages were discarded).
    pub fn flush_fetch(&mut self) {
        for el in 0..2 {
            self.t[table(el, AccessKind::Fetch)].fill(TlbEntry::INVALID);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_global_flush_keeps_global_entries() {
        let mut t = Tlb::new();
        t.t[0][1] = TlbEntry {
            tag: 0x1000,
            flags: F_GLOBAL,
            ..TlbEntry::INVALID
        };
        t.t[0][2] = TlbEntry {
            tag: 0x2000,
            ..TlbEntry::INVALID
        };
        t.flush_non_global();
        assert_eq!(t.t[0][1].tag, 0x1000);
        assert_eq!(t.t[0][2].tag, u64::MAX);
    }

    #[test]
    fn va_flush_with_block_entries_flushes_all() {
        let mut t = Tlb::new();
        t.t[3][5] = TlbEntry {
            tag: 0x5000,
            flags: F_LARGE,
            ..TlbEntry::INVALID
        };
        t.has_large = true;
        t.flush_va(0x9000);
        assert_eq!(t.t[3][5].tag, u64::MAX);
    }
}
