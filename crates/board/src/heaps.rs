//! The dma-buf heaps Linux 7.3 creates on a board, predicted the way the kernel makes them.
//!
//! - `system` (drivers/dma-buf/heaps/system_heap.c) always.
//! - One CMA heap per reusable `shared-dma-pool` that becomes a CMA area, named after its
//!   node (drivers/dma-buf/heaps/cma_heap.c). Dynamic regions are placed in DT order after
//!   the static ones, top-down in their `alloc-ranges` (drivers/of/of_reserved_mem.c
//!   __reserved_mem_alloc_size); one that does not fit gets no area: "failed to allocate
//!   memory for node".
//! - The default area as `default_cma_region` and under its own name: the last region with
//!   `linux,cma-default` (rmem_cma_setup overwrites the default each time), unless `cma=` is
//!   on the command line, which bypasses the DT's default node altogether; else the area
//!   kernel/dma/contiguous.c makes from `cma=` or CONFIG_CMA_SIZE_MBYTES, named `reserved`,
//!   which must fit below the 4 GiB DMA limit when RAM reaches below it.

use crate::model::{Heap, MemoryBank, Placement, Range, ReservedKind, ReservedRegion};
use crate::parse::{cmdline_cma, CMA_MIN_ALIGNMENT, GUEST_CMA_SIZE};

/// Free RAM as sorted, disjoint ranges.
#[derive(Debug, Clone)]
struct Free(Vec<Range>);

impl Free {
    fn new(banks: &[MemoryBank]) -> Free {
        let mut v: Vec<Range> = banks.iter().map(|b| b.range).collect();
        v.sort();
        Free(v)
    }

    /// Removes `r` from the free ranges.
    fn take(&mut self, r: &Range) {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        for f in &self.0 {
            if !f.overlaps(r) {
                out.push(*f);
                continue;
            }
            if f.base < r.base {
                out.push(Range {
                    base: f.base,
                    size: r.base - f.base,
                });
            }
            if r.end() < f.end() {
                out.push(Range {
                    base: r.end(),
                    size: f.end() - r.end(),
                });
            }
        }
        self.0 = out;
    }

    /// The highest `size` bytes aligned to `align` inside `within` (all of RAM when empty)
    /// and below `limit`, as memblock's top-down allocator finds them.
    fn top_down(&self, size: u64, align: u64, within: &[Range], limit: u64) -> Option<Range> {
        let align = align.max(1);
        let windows: Vec<Range> = if within.is_empty() {
            vec![Range {
                base: 0,
                size: u64::MAX,
            }]
        } else {
            within.to_vec()
        };
        let mut best: Option<u64> = None;
        for f in &self.0 {
            for w in &windows {
                let lo = f.base.max(w.base);
                let hi = f.end().min(w.end()).min(limit);
                if hi <= lo || hi - lo < size {
                    continue;
                }
                let base = (hi - size) / align * align;
                if base >= lo && best.is_none_or(|b| base > b) {
                    best = Some(base);
                }
            }
        }
        best.map(|base| Range { base, size })
    }
}

fn heap(name: &str, region: Option<&ReservedRegion>, size: u64, source: String) -> Heap {
    Heap {
        name: name.to_string(),
        region: region.map(|r| r.node.clone()),
        size: Some(size),
        source,
    }
}

/// The heaps for `reserved` regions on `banks`, with the kernel command line `bootargs`
/// and the guest-physical ranges the loader occupies (`occupied`: kernel, DTB, initramfs;
/// empty when unknown).
pub fn predict(
    banks: &[MemoryBank],
    reserved: &[ReservedRegion],
    bootargs: Option<&str>,
    occupied: &[Range],
) -> Vec<Heap> {
    let mut out = vec![Heap {
        name: "system".into(),
        region: None,
        size: None,
        source: "buddy allocator pages, scattered over every bank".into(),
    }];
    let cmdline = bootargs.and_then(cmdline_cma);
    let mut free = Free::new(banks);
    for r in occupied {
        free.take(r);
    }
    for r in reserved {
        if let Some(range) = r.fixed_range() {
            free.take(&range);
        }
    }
    // CMA areas in DT order: (region, size), the default the last one marked.
    let mut areas: Vec<(&ReservedRegion, u64)> = Vec::new();
    for r in reserved {
        let size = match &r.placement {
            Placement::Fixed { range } => range.size,
            Placement::Dynamic {
                size,
                alignment,
                alloc_ranges,
            } => {
                let align = if r.kind == ReservedKind::CmaPool {
                    alignment.unwrap_or(0).max(CMA_MIN_ALIGNMENT)
                } else {
                    alignment.unwrap_or(0)
                };
                match free.top_down(*size, align, alloc_ranges, u64::MAX) {
                    Some(placed) => {
                        free.take(&placed);
                        *size
                    }
                    // Not placed: no area, no heap.
                    None => continue,
                }
            }
        };
        // rmem_cma_setup refuses a region not aligned to the pageblock size.
        let aligned = match &r.placement {
            Placement::Fixed { range } => (range.base | range.size) % CMA_MIN_ALIGNMENT == 0,
            Placement::Dynamic { size, .. } => size % CMA_MIN_ALIGNMENT == 0,
        };
        if r.kind == ReservedKind::CmaPool && aligned {
            areas.push((r, size));
        }
    }
    let dt_default = if cmdline.is_some() {
        None
    } else {
        areas.iter().rposition(|(r, _)| r.cma_default)
    };
    if dt_default.is_none() {
        let (size, why) = match cmdline {
            Some(s) => (s, "from cma= on the kernel command line".to_string()),
            None => (
                GUEST_CMA_SIZE,
                "the heapsoc guest's CONFIG_CMA_SIZE_MBYTES; cma= overrides".to_string(),
            ),
        };
        // dma_contiguous_reserve(arm64_dma_phys_limit): below 4 GiB when RAM reaches there.
        let low = banks.iter().any(|b| b.range.base < 1 << 32);
        let limit = if low { 1 << 32 } else { u64::MAX };
        if free.top_down(size, CMA_MIN_ALIGNMENT, &[], limit).is_some() {
            let source = format!(
                "default CMA area of {} ({why}), placed by the kernel",
                crate::report::size(size)
            );
            out.push(heap("default_cma_region", None, size, source.clone()));
            out.push(heap("reserved", None, size, source));
        }
    }
    for (i, (r, size)) in areas.iter().enumerate() {
        // With cma= the DT's default node is bypassed: not a CMA area at all.
        if r.cma_default && cmdline.is_some() {
            continue;
        }
        let source = format!("{} {}", r.kind.describe(), r.name);
        if Some(i) == dt_default {
            out.push(heap("default_cma_region", Some(r), *size, source.clone()));
        }
        out.push(heap(&r.name, Some(r), *size, source));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_down_takes_the_highest_aligned_fit() {
        let f = Free(vec![
            Range {
                base: 0x4000_0000,
                size: 0x1000_0000,
            },
            Range {
                base: 0x6000_0000,
                size: 0x0100_0000,
            },
        ]);
        let r = f
            .top_down(0x0400_0000, 0x40_0000, &[], u64::MAX)
            .expect("fits");
        assert_eq!(r.base, 0x4c00_0000);
        assert!(f.top_down(0x2000_0000, 0x40_0000, &[], u64::MAX).is_none());
    }
}
