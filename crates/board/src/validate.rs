//! Checks across nodes: banks against banks, reserved regions against RAM and each other.

use crate::error::{BoardError, Result};
use crate::model::{MemoryBank, Placement, Range, ReservedRegion, Warning};

fn overlap(first: &str, a: &Range, second: &str, b: &Range) -> BoardError {
    BoardError::Overlap {
        first: first.to_string(),
        first_range: a.to_string(),
        second: second.to_string(),
        second_range: b.to_string(),
    }
}

/// Whether every byte of `range` is RAM (possibly spanning adjacent banks).
/// `banks` is sorted by base.
fn covered(banks: &[MemoryBank], range: &Range) -> bool {
    let mut at = range.base;
    for bank in banks {
        if bank.range.base <= at && at < bank.range.end() {
            at = bank.range.end();
            if at >= range.end() {
                return true;
            }
        }
    }
    range.size == 0
        && banks
            .iter()
            .any(|b| b.range.base <= at && at < b.range.end())
}

/// Validates the memory map; errors name the nodes, warnings are appended.
pub fn memory_map(
    banks: &[MemoryBank],
    reserved: &[ReservedRegion],
    warnings: &mut Vec<Warning>,
) -> Result<()> {
    let fixed: Vec<(&ReservedRegion, Range)> = reserved
        .iter()
        .filter_map(|r| r.fixed_range().map(|range| (r, range)))
        .collect();
    for (r, range) in &fixed {
        if range.size == 0 {
            warnings.push(Warning {
                node: r.node.clone(),
                message: "zero-sized region: Linux ignores it".into(),
            });
            continue;
        }
        if !covered(banks, range) {
            // drivers/of/of_reserved_mem.c: "don't worry if the region isn't memory"
            // (firmware regions in SRAM, device memory): reserved all the same.
            warnings.push(Warning {
                node: r.node.clone(),
                message: format!("reg {range} is not (all) RAM: Linux reserves it anyway"),
            });
        }
    }
    for (i, (a, ra)) in fixed.iter().enumerate() {
        for (b, rb) in &fixed[i + 1..] {
            if ra.overlaps(rb) {
                return Err(overlap(&a.node, ra, &b.node, rb));
            }
        }
    }
    for r in reserved {
        let Placement::Dynamic {
            size, alloc_ranges, ..
        } = &r.placement
        else {
            continue;
        };
        if *size == 0 {
            warnings.push(Warning {
                node: r.node.clone(),
                message: "size is zero: Linux ignores it".into(),
            });
        }
        if alloc_ranges.is_empty() {
            continue;
        }
        let usable = alloc_ranges
            .iter()
            .any(|ar| ar.size >= *size && banks.iter().any(|b| b.range.overlaps(ar)));
        if !usable {
            warnings.push(Warning {
                node: r.node.clone(),
                message: format!(
                    "no alloc-ranges entry in RAM can hold 0x{size:x} bytes: Linux will fail to allocate it"
                ),
            });
        }
    }
    Ok(())
}
