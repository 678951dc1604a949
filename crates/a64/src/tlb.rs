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
//! block descriptors are split into 4 KiB entries that remember the block's
//! size; a TLBI by VA drops every piece of a block holding that VA, since the
//! architecture invalidates the whole block entry.

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
/// Entry flags bits 8-15: log2 of the block's size (with [`F_LARGE`]).
const BLOCK_SHIFT_AT: u32 = 8;

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
    /// log2 of the size of the region the descriptor maps.
    pub block_shift: u8,
}

/// Number of tables: 2 privilege levels x 3 access kinds.
pub const TABLES: usize = 6;

/// The software TLB.
#[derive(Debug)]
pub struct Tlb {
    /// Tables indexed by `el * 3 + kind`.
    pub(crate) t: Box<[[TlbEntry; TLB_SIZE]; TABLES]>,
    /// The blocks (VA of the block without the top byte, log2 of its size) entries were
    /// filled from since the last full flush, while there are at most [`MAX_BLOCKS`]; a
    /// TLBI by VA outside all of them has no block piece to look for.
    blocks: Vec<(u64, u8)>,
    /// More blocks than that: every TLBI by VA looks at every entry.
    many_blocks: bool,
}

/// Blocks [`Tlb`] keeps track of before it looks at every entry on a TLBI by VA.
const MAX_BLOCKS: usize = 64;

/// Bits of a VA that TLBI compares (not the top byte).
const VA56: u64 = 0x00ff_ffff_ffff_ffff;

/// Whether `va` lies in the block at `base` of size `1 << shift` (top bytes ignored).
fn in_block(base: u64, shift: u8, va: u64) -> bool {
    shift >= 56 || ((base ^ va) & VA56) >> shift == 0
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
    /// records its block: a TLBI by a VA in it must drop every piece of the block, since the
    /// VA it names may be any address of the block.
    pub(crate) fn fill(&mut self, table: usize, f: Fill) {
        let mut flags = if f.global { F_GLOBAL } else { 0 };
        if f.large {
            flags |= F_LARGE | (u32::from(f.block_shift) << BLOCK_SHIFT_AT);
            let shift = f.block_shift.min(63);
            let base = f.va & VA56 & !((1u64 << shift) - 1);
            if !self.many_blocks && !self.blocks.contains(&(base, shift)) {
                if self.blocks.len() < MAX_BLOCKS {
                    self.blocks.push((base, shift));
                } else {
                    self.many_blocks = true;
                }
            }
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
            blocks: Vec::with_capacity(MAX_BLOCKS),
            many_blocks: false,
        }
    }

    /// Drop every entry.
    pub fn flush_all(&mut self) {
        for t in self.t.iter_mut() {
            t.fill(TlbEntry::INVALID);
        }
        self.blocks.clear();
        self.many_blocks = false;
    }

    /// Drop every non-global entry (ASID change, TLBI ASIDE1).
    pub fn flush_non_global(&mut self) {
        for e in self.t.iter_mut().flat_map(|t| t.iter_mut()) {
            if e.flags & F_GLOBAL == 0 {
                *e = TlbEntry::INVALID;
            }
        }
    }

    /// Drop entries translating the page of `va` (TLBI VA*), and every piece of a block
    /// that holds `va`.
    pub fn flush_va(&mut self, va: u64) {
        // The tag holds the full VA including the top byte, which TLBI ignores. Every
        // entry from a block has its block among `blocks` (or `many_blocks` is set).
        let hit = if self.many_blocks {
            true
        } else {
            // Blocks holding `va` are looked for now and need not be again.
            let before = self.blocks.len();
            self.blocks
                .retain(|&(base, shift)| !in_block(base, shift, va));
            self.blocks.len() != before
        };
        if hit {
            for e in self.t.iter_mut().flat_map(|t| t.iter_mut()) {
                let shift = ((e.flags >> BLOCK_SHIFT_AT) & 0xff) as u8;
                if e.flags & F_LARGE != 0 && in_block(e.tag, shift, va) {
                    *e = TlbEntry::INVALID;
                }
            }
        }
        let page = va & PAGE_MASK & VA56;
        let s = slot(va);
        for t in self.t.iter_mut() {
            if t[s].tag & VA56 == page {
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

    fn fill(t: &mut Tlb, table: usize, va: u64, block_shift: u8) {
        t.fill(
            table,
            Fill {
                va,
                host: HostPtr::NULL,
                pa_page: va & PAGE_MASK,
                code: 0,
                global: true,
                large: block_shift > 12,
                block_shift,
            },
        );
    }

    #[test]
    fn va_flush_drops_every_piece_of_the_block_holding_the_va_and_nothing_else() {
        let mut t = Tlb::new();
        // Two pieces of the 2 MiB block at 0x4000_0000 (data and fetch tables), a piece of
        // the next block, a 4 KiB page, and a piece of a 1 GiB block.
        fill(&mut t, 0, 0x4000_0000, 21);
        fill(&mut t, 5, 0x4010_3000, 21);
        fill(&mut t, 0, 0x4020_1000, 21);
        fill(&mut t, 1, 0x4000_7000, 12);
        fill(&mut t, 3, 0x8_0000_2000, 30);
        t.flush_va(0xff00_0000_4000_5000); // any top byte: TLBI ignores it
        assert_eq!(t.t[0][slot(0x4000_0000)].tag, u64::MAX);
        assert_eq!(t.t[5][slot(0x4010_3000)].tag, u64::MAX);
        assert_eq!(t.t[0][slot(0x4020_1000)].tag, 0x4020_1000, "another block");
        assert_eq!(t.t[1][slot(0x4000_7000)].tag, 0x4000_7000, "another page");
        assert_eq!(t.t[3][slot(0x8_0000_2000)].tag, 0x8_0000_2000);
        // A VA inside the 1 GiB block drops its piece.
        t.flush_va(0x8_3fff_f000);
        assert_eq!(t.t[3][slot(0x8_0000_2000)].tag, u64::MAX);
        // The page itself goes when its own VA is named.
        t.flush_va(0x4000_7abc);
        assert_eq!(t.t[1][slot(0x4000_7000)].tag, u64::MAX);
    }

    #[test]
    fn va_flush_finds_block_pieces_after_many_blocks_and_after_earlier_flushes() {
        let mut t = Tlb::new();
        // More blocks than are tracked one by one: every flush looks at every entry.
        for b in 0..(MAX_BLOCKS as u64 + 8) {
            fill(&mut t, 0, 0x4000_0000 + (b << 21) + (b << 12), 21);
        }
        let last = 0x4000_0000 + ((MAX_BLOCKS as u64 + 7) << 21) + ((MAX_BLOCKS as u64 + 7) << 12);
        t.flush_va(last & !0x1f_ffff);
        assert_eq!(t.t[0][slot(last)].tag, u64::MAX);
        // Tracked: a flush outside every block keeps the pieces; one inside drops them,
        // and a piece filled again afterwards is found by the next flush too.
        t.flush_all();
        fill(&mut t, 1, 0x4020_3000, 21);
        t.flush_va(0x5000_0000);
        assert_eq!(t.t[1][slot(0x4020_3000)].tag, 0x4020_3000);
        t.flush_va(0x403f_f000);
        assert_eq!(t.t[1][slot(0x4020_3000)].tag, u64::MAX);
        fill(&mut t, 1, 0x4020_3000, 21);
        t.flush_va(0x4020_0000);
        assert_eq!(t.t[1][slot(0x4020_3000)].tag, u64::MAX);
    }

    #[test]
    fn va_flush_with_the_mmu_off_entries_drops_them() {
        let mut t = Tlb::new();
        // MMU off: one translation covers every address.
        fill(&mut t, 0, 0x1234_5000, 64);
        t.flush_va(0x9000);
        assert_eq!(t.t[0][slot(0x1234_5000)].tag, u64::MAX);
    }
}
