//! Decoded-code cache, keyed by guest-physical page.
//!
//! Each page holds one pre-decoded [`Op`] slot per instruction word, filled
//! lazily the first time the word executes. Code patched through another
//! virtual alias is caught because the key is physical: writes to a page
//! holding decoded code take the slow store path, which queues the written
//! range for invalidation, and IC IVAU / IC IALLU drop decoded slots too.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::decode::Op;

/// Hashes a page address with one multiply. The maps keyed by page are looked up on
/// every TLB fill; the standard SipHash was 1% of a boot's time, and these keys come from
/// the guest's own page tables, not from anyone who could aim collisions at a host service.
#[derive(Debug, Default, Clone, Copy)]
pub struct PageHasher(u64);

impl Hasher for PageHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ (v >> 12) ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by page address.
pub type PageMap<V> = HashMap<u64, V, BuildHasherDefault<PageHasher>>;
/// A set of page addresses.
pub type PageSet = HashSet<u64, BuildHasherDefault<PageHasher>>;

/// Instruction slots per 4 KiB page.
pub const OPS_PER_PAGE: usize = 1024;

/// One page of decoded slots.
pub type CodePage = [Op; OPS_PER_PAGE];

/// The slot value meaning "not decoded yet".
pub const BLANK: Op = Op::new(crate::exec::needs_decode);

/// The instruction word at `slot` of the guest code page at `host`, if `slot` is in the page
/// (the words the decoder and the translator read, the next two included for fusion).
#[must_use]
pub(crate) fn page_word(host: crate::mem::HostPtr, slot: usize) -> Option<u32> {
    (slot < OPS_PER_PAGE).then(|| {
        // SAFETY: `host` is the start of a 4 KiB RAM page (as for every fetch TLB entry,
        // checked when it was filled) and `4 * slot + 4 <= 4096`.
        u32::from_le(unsafe { std::ptr::read_unaligned(host.0.add(4 * slot).cast::<u32>()) })
    })
}

/// The decoded-code cache.
#[derive(Debug, Default)]
pub struct CodeCache {
    map: PageMap<u32>,
    pages: Vec<Box<CodePage>>,
}

impl CodeCache {
    /// Index of the page for physical page address `pa_page`, creating it if
    /// needed; the flag says whether it was created.
    pub fn page_index(&mut self, pa_page: u64) -> (u32, bool) {
        if let Some(&i) = self.map.get(&pa_page) {
            return (i, false);
        }
        let i = self.pages.len() as u32;
        self.pages.push(Box::new([BLANK; OPS_PER_PAGE]));
        self.map.insert(pa_page, i);
        (i, true)
    }

    /// The page at `index`.
    #[inline(always)]
    #[must_use]
    pub fn page(&self, index: u32) -> Option<&CodePage> {
        self.pages.get(index as usize).map(|b| &**b)
    }

    /// Store a decoded op.
    pub fn set(&mut self, index: u32, slot: usize, op: Op) {
        if let Some(p) = self.pages.get_mut(index as usize) {
            p[slot % OPS_PER_PAGE] = op;
        }
    }

    /// Whether physical page `pa_page` holds decoded code.
    #[must_use]
    pub fn holds(&self, pa_page: u64) -> bool {
        self.map.contains_key(&pa_page)
    }

    /// Forget decoded slots overlapping physical `[pa, pa + len)`; `blanked` hears of each
    /// page's blanked slot range (page index, first slot, end slot).
    pub fn invalidate(&mut self, pa: u64, len: u64, mut blanked: impl FnMut(u32, usize, usize)) {
        let end = pa.saturating_add(len.max(1));
        let mut a = pa & !3;
        while a < end {
            let page = a & !0xfff;
            let stop = end.min(page.saturating_add(0x1000));
            if let Some(&i) = self.map.get(&page) {
                if let Some(p) = self.pages.get_mut(i as usize) {
                    // Two slots earlier too: they may hold a fused op that
                    // embeds the first invalidated instruction (fused ops
                    // span up to three instructions).
                    let from = (((a & 0xfff) >> 2) as usize).saturating_sub(2);
                    let to = ((stop - page).div_ceil(4)) as usize;
                    p[from..to.min(OPS_PER_PAGE)].fill(BLANK);
                    blanked(i, from, to.min(OPS_PER_PAGE));
                }
            }
            if stop == a {
                break;
            }
            a = stop;
        }
    }

    /// Forget everything (IC IALLU). Page indices become invalid: the
    /// caller must flush fetch TLB entries.
    pub fn clear(&mut self) {
        self.map.clear();
        self.pages.clear();
    }

    /// Number of pages holding decoded code.
    #[must_use]
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether no page holds decoded code.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_blanks_only_the_written_words() {
        let mut c = CodeCache::default();
        let (i, new) = c.page_index(0x8000);
        assert!(new);
        let op = Op {
            imm: 77,
            ..Op::new(crate::exec::undefined)
        };
        for s in 0..OPS_PER_PAGE {
            c.set(i, s, op);
        }
        c.invalidate(0x800e, 4, |_, _, _| {}); // touches words 3 and 4 (and 1, 2, which may fuse 3)
        let p = c.page(i).expect("page");
        let blank = |s: usize| p[s].imm != 77;
        assert!(!blank(0) && blank(1) && blank(2) && blank(3) && blank(4) && !blank(5));
        c.invalidate(0x8ffc, 8, |_, _, _| {}); // runs into the next page, which holds nothing
        assert!(c.page(i).is_some_and(|p| p[1023].imm != 77));
    }
}
