//! Address and size cells: reading `reg`-like properties and translating bus addresses.

use crate::error::{BoardError, Result};
use crate::model::Range;
use crate::tree::{Node, Tree};

/// `#address-cells` / `#size-cells` in force for the children of a bus node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellSizes {
    pub address: u32,
    pub size: u32,
}

/// Linux's defaults when no ancestor sets the cell counts (OF_ROOT_NODE_*_CELLS_DEFAULT).
pub const LINUX_DEFAULT: CellSizes = CellSizes {
    address: 1,
    size: 1,
};

/// The cell sizes a node's `reg` is written in: the nearest ancestor's `#address-cells`
/// and `#size-cells`, as drivers/of/base.c looks them up. `None` in the second field
/// means neither was found and the Linux defaults apply.
pub fn cells_for_children_of(tree: &Tree, bus: &Node) -> Result<(CellSizes, bool)> {
    let mut address = None;
    let mut size = None;
    let mut cur = Some(bus);
    while let Some(node) = cur {
        if address.is_none() {
            address = node.u32("#address-cells")?;
        }
        if size.is_none() {
            size = node.u32("#size-cells")?;
        }
        if address.is_some() && size.is_some() {
            break;
        }
        cur = tree.parent(node);
    }
    let found = address.is_some() && size.is_some();
    for (name, value) in [("#address-cells", address), ("#size-cells", size)] {
        if let Some(v) = value.filter(|&v| v > 4) {
            return Err(BoardError::prop(
                &bus.path,
                name,
                format!("{v} cells; at most 4 are meaningful"),
            ));
        }
    }
    Ok((
        CellSizes {
            address: address.unwrap_or(LINUX_DEFAULT.address),
            size: size.unwrap_or(LINUX_DEFAULT.size),
        },
        found,
    ))
}

/// Combines big-endian cells into a number; more than two significant cells do not fit.
fn number(cells: &[u32]) -> Option<u64> {
    let (high, low) = cells.split_at(cells.len().saturating_sub(2));
    if high.iter().any(|&c| c != 0) {
        return None;
    }
    Some(low.iter().fold(0u64, |acc, &c| (acc << 32) | u64::from(c)))
}

/// Decodes a list of (address, size) pairs such as `reg` or `alloc-ranges`; the error
/// names the node and property when the length does not match the cell sizes.
pub fn ranges_prop(node: &Node, property: &str, cells: CellSizes) -> Result<Option<Vec<Range>>> {
    let Some(raw) = node.cells(property)? else {
        return Ok(None);
    };
    if cells.address > 4 || cells.size > 4 || cells.address + cells.size == 0 {
        return Err(BoardError::prop(
            &node.path,
            property,
            format!(
                "unusable cell sizes #address-cells = {}, #size-cells = {}",
                cells.address, cells.size
            ),
        ));
    }
    let per = (cells.address + cells.size) as usize;
    if raw.is_empty() || raw.len() % per != 0 {
        return Err(BoardError::prop(
            &node.path,
            property,
            format!(
                "{} cells is not a multiple of #address-cells ({}) + #size-cells ({})",
                raw.len(),
                cells.address,
                cells.size
            ),
        ));
    }
    let mut out = Vec::with_capacity(raw.len() / per);
    for entry in raw.chunks_exact(per) {
        let (a, s) = entry.split_at(cells.address as usize);
        let (Some(base), Some(size)) = (number(a), number(s)) else {
            return Err(BoardError::prop(
                &node.path,
                property,
                "address or size does not fit in 64 bits",
            ));
        };
        if base.checked_add(size).is_none() && base.wrapping_add(size) != 0 {
            return Err(BoardError::prop(
                &node.path,
                property,
                format!("0x{base:x} + 0x{size:x} wraps past the end of the address space"),
            ));
        }
        out.push(Range { base, size });
    }
    Ok(Some(out))
}

/// A single number property written in `count` cells (`size`, `alignment`).
pub fn number_prop(node: &Node, property: &str, count: u32) -> Result<Option<u64>> {
    let Some(raw) = node.cells(property)? else {
        return Ok(None);
    };
    if raw.len() != count as usize {
        return Err(BoardError::prop(
            &node.path,
            property,
            format!(
                "{} cells, but #size-cells of the parent is {count}",
                raw.len()
            ),
        ));
    }
    number(&raw)
        .map(Some)
        .ok_or_else(|| BoardError::prop(&node.path, property, "value does not fit in 64 bits"))
}

/// Translates an address on the bus `bus` (the parent of the node that owns the `reg`)
/// up to a CPU physical address through each ancestor's `ranges`. `None` when a bus on
/// the way has no `ranges` (its children are not memory-mapped, e.g. an I2C bus).
pub fn translate(tree: &Tree, bus: &Node, mut addr: u64) -> Result<Option<u64>> {
    let mut child_bus = bus;
    while let Some(parent) = tree.parent(child_bus) {
        let Some(raw) = child_bus.cells("ranges")? else {
            return Ok(None);
        };
        if !raw.is_empty() {
            let (child, _) = cells_for_children_of(tree, child_bus)?;
            let (parent_cells, _) = cells_for_children_of(tree, parent)?;
            let per = (child.address + parent_cells.address + child.size) as usize;
            if per == 0 || raw.len() % per != 0 {
                return Err(BoardError::prop(
                    &child_bus.path,
                    "ranges",
                    format!(
                        "{} cells is not a multiple of the {per}-cell entry size",
                        raw.len()
                    ),
                ));
            }
            let mut mapped = None;
            for entry in raw.chunks_exact(per) {
                let (c, rest) = entry.split_at(child.address as usize);
                let (p, s) = rest.split_at(parent_cells.address as usize);
                let (Some(c), Some(p), Some(s)) = (number(c), number(p), number(s)) else {
                    continue;
                };
                if addr >= c && addr - c < s {
                    mapped = Some(p.wrapping_add(addr - c));
                    break;
                }
            }
            match mapped {
                Some(a) => addr = a,
                None => return Ok(None),
            }
        }
        child_bus = parent;
    }
    Ok(Some(addr))
}
