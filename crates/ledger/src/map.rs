//! The board's memory map as the verdict needs it: banks with ECC attributes and the
//! reserved regions at the addresses where they really are (dynamic regions are placed by
//! the kernel at boot; their place is learnt from its log).

use board::{Board, MemoryBank, Range, ReservedKind};
use serde::Serialize;

/// A reserved region and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    pub name: String,
    pub node: String,
    pub kind: ReservedKind,
    /// `None` until a dynamic region's placement is known.
    pub range: Option<Range>,
    /// Devices whose `memory-region` names this region.
    pub owners: Vec<String>,
    /// A no-map carveout the guest's kernel exports as a dma-buf heap of its name (a
    /// patched kernel's prototype heap, learnt from the guest's heap list): any device may
    /// DMA into it, through that heap's buffers.
    pub heap: bool,
}

/// A piece of an access: inside one bank (or outside RAM) and at most one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub range: Range,
    /// Index into [`MemoryMap::banks`].
    pub bank: Option<usize>,
    /// Index into [`MemoryMap::regions`].
    pub region: Option<usize>,
}

/// Banks and reserved regions.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryMap {
    pub banks: Vec<MemoryBank>,
    pub regions: Vec<Region>,
}

impl MemoryMap {
    /// The map of `board`, with fixed regions placed and dynamic ones pending.
    pub fn new(board: &Board) -> MemoryMap {
        MemoryMap {
            banks: board.banks.clone(),
            regions: board
                .reserved
                .iter()
                .map(|r| Region {
                    name: r.name.clone(),
                    node: r.node.clone(),
                    kind: r.kind,
                    range: r.fixed_range(),
                    owners: r.users.clone(),
                    heap: false,
                })
                .collect(),
        }
    }

    /// Records where the kernel put the region called `name`; false if there is none.
    pub fn resolve(&mut self, name: &str, range: Range) -> bool {
        match self.regions.iter_mut().find(|r| r.name == name) {
            Some(r) => {
                r.range = Some(range);
                true
            }
            None => false,
        }
    }

    /// Learns from a console line: a region's placement from a kernel log line of
    /// drivers/of/of_reserved_mem.c
    /// (`OF: reserved mem: 0x000000004c000000..0x000000004fffffff (65536 KiB) map reusable linux,cma`),
    /// and which no-map carveouts the kernel exports as heaps from the guest's heap list
    /// (`# heapsoc-heaps: default_cma_region carveout-heap@5c000000 system`).
    pub fn learn_from_console(&mut self, line: &str) -> bool {
        if let Some(heaps) = line.split("heapsoc-heaps:").nth(1) {
            let mut any = false;
            for name in heaps.split_whitespace() {
                for r in self.regions.iter_mut() {
                    if r.name == name && r.kind == ReservedKind::Carveout {
                        r.heap = true;
                        any = true;
                    }
                }
            }
            return any;
        }
        let Some(rest) = line.split("OF: reserved mem: ").nth(1) else {
            return false;
        };
        let Some((span, tail)) = rest.split_once(' ') else {
            return false;
        };
        let Some((start, end)) = span.split_once("..") else {
            return false;
        };
        let parse = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok();
        let (Some(start), Some(end)) = (parse(start), parse(end)) else {
            return false;
        };
        let Some(name) = tail.split_whitespace().last() else {
            return false;
        };
        // The console is the guest's: 0x0..0xffffffffffffffff has no size in 64 bits.
        let Some(size) = end.checked_sub(start).and_then(|s| s.checked_add(1)) else {
            return false;
        };
        self.resolve(name, Range { base: start, size })
    }

    /// Splits `range` at bank and region boundaries.
    pub fn place(&self, range: Range) -> Vec<Place> {
        let mut cuts = vec![range.base, range.end()];
        let mut add = |r: &Range| {
            for p in [r.base, r.end()] {
                if p > range.base && p < range.end() {
                    cuts.push(p);
                }
            }
        };
        self.banks.iter().for_each(|b| add(&b.range));
        self.regions
            .iter()
            .filter_map(|r| r.range.as_ref())
            .for_each(&mut add);
        cuts.sort_unstable();
        cuts.dedup();
        cuts.windows(2)
            .map(|w| {
                let piece = Range {
                    base: w[0],
                    size: w[1] - w[0],
                };
                Place {
                    range: piece,
                    bank: self.banks.iter().position(|b| b.range.contains(&piece)),
                    region: self
                        .regions
                        .iter()
                        .position(|r| r.range.is_some_and(|rr| rr.contains(&piece))),
                }
            })
            .collect()
    }
}
