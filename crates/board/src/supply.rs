//! RAM where the bootloader would put it (`--memory`).
//!
//! Real board files leave RAM to the bootloader: 457 of Linux 7.3's arm64 trees have a
//! `/memory` placeholder of size 0 (U-Boot fills in the size) and 438 have no `/memory`
//! node at all. [`supply_memory`] edits the tree the way a bootloader does, so that the
//! board model and the guest DTB both carry the banks.

use crate::cells;
use crate::error::{BoardError, Result};
use crate::model::{Range, Warning};
use crate::tree::{Node, Property, Tree};

/// One `--memory` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryArg {
    /// `SIZE`: every `/memory` placeholder of size 0 gets this size at its base; a tree
    /// with no `/memory` node gets one bank of this size at a free base.
    Size(u64),
    /// `BASE:SIZE[:ecc]`: a bank of its own (`ecc`: SECDED, as `ecc-detection-bits = 2`,
    /// `ecc-correction-bits = 1` say).
    Bank { base: u64, size: u64, ecc: bool },
}

impl std::str::FromStr for MemoryArg {
    type Err = String;

    /// `2G`, `512M`, `0x80000000`; `0x40000000:1G`, `0x100000000:2G:ecc`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let size = |v: &str| {
            parse_size(v).ok_or_else(|| {
                format!("{s}: `{v}` is not a size (a number with K, M, G or T, e.g. 2G)")
            })
        };
        match parts.as_slice() {
            [sz] => Ok(MemoryArg::Size(size(sz)?)),
            [base, sz] | [base, sz, "ecc"] => Ok(MemoryArg::Bank {
                base: parse_size(base).ok_or_else(|| format!("{s}: `{base}` is not an address"))?,
                size: size(sz)?,
                ecc: parts.len() == 3,
            }),
            _ => Err(format!(
                "{s}: expected SIZE or BASE:SIZE[:ecc] (e.g. 2G or 0x80000000:2G:ecc)"
            )),
        }
    }
}

/// A decimal or 0x number with an optional K/M/G/T suffix (binary units).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    let (num, shift) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 10),
        b'm' | b'M' => (&s[..s.len() - 1], 20),
        b'g' | b'G' => (&s[..s.len() - 1], 30),
        b't' | b'T' => (&s[..s.len() - 1], 40),
        _ => (s.as_str(), 0),
    };
    let n = match num.strip_prefix("0x").or_else(|| num.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok()?,
        None => num.parse().ok()?,
    };
    n.checked_mul(1u64 << shift)
}

fn encode(value: u64, cells: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for i in (0..cells).rev() {
        let word = if i >= 2 {
            0
        } else {
            (value >> (32 * i)) as u32
        };
        out.extend_from_slice(&word.to_be_bytes());
    }
    out
}

fn set_prop(node: &mut Node, name: &str, value: Vec<u8>) {
    match node.properties.iter_mut().find(|p| p.name == name) {
        Some(p) => p.value = value,
        None => node.properties.push(Property {
            name: name.to_string(),
            value,
        }),
    }
}

fn is_memory(node: &Node) -> bool {
    node.string("device_type").as_deref() == Some("memory")
}

/// Applies the `--memory` arguments to `tree`; returns what it did, as warnings to show.
pub fn supply_memory(tree: &mut Tree, args: &[MemoryArg]) -> Result<Vec<Warning>> {
    let mut notes = Vec::new();
    if args.is_empty() {
        return Ok(notes);
    }
    let (root_cells, _) = cells::cells_for_children_of(tree, tree.root())?;
    let (ac, sc) = (root_cells.address, root_cells.size);
    let memory_nodes: Vec<usize> = tree.nodes[0]
        .children
        .iter()
        .copied()
        .filter(|&i| is_memory(&tree.nodes[i]))
        .collect();
    for arg in args {
        match *arg {
            MemoryArg::Size(size) => {
                let mut filled = 0;
                for &i in &memory_nodes {
                    let node = &tree.nodes[i];
                    let regs = cells::ranges_prop(node, "reg", root_cells)?;
                    let bases: Vec<u64> = match regs {
                        Some(r) if r.iter().all(|r| r.size == 0) => {
                            r.iter().map(|r| r.base).take(1).collect()
                        }
                        None => vec![unit_address(node).unwrap_or(0)],
                        Some(_) => continue,
                    };
                    let mut value = encode(bases[0], ac);
                    value.extend(encode(size, sc));
                    let path = node.path.clone();
                    set_prop(&mut tree.nodes[i], "reg", value);
                    notes.push(Warning {
                        node: path,
                        message: format!(
                            "--memory: the placeholder now holds {} at 0x{:x}",
                            crate::report::size(size),
                            bases[0]
                        ),
                    });
                    filled += 1;
                }
                if filled == 0 && memory_nodes.is_empty() {
                    let base = free_base(tree, size)?;
                    add_bank(tree, base, size, false, ac, sc);
                    notes.push(Warning {
                        node: format!("/memory@{base:x}"),
                        message: format!(
                            "--memory: the tree has no /memory node; {} placed at 0x{base:x}, the lowest free base under the reserved regions (--memory BASE:SIZE chooses)",
                            crate::report::size(size)
                        ),
                    });
                } else if filled == 0 {
                    notes.push(Warning {
                        node: "/".into(),
                        message: "--memory SIZE: every /memory node already has a size; nothing changed (--memory BASE:SIZE adds a bank)".into(),
                    });
                }
            }
            MemoryArg::Bank { base, size, ecc } => {
                if size == 0 || base % 4096 != 0 || size % 4096 != 0 {
                    return Err(BoardError::node(
                        "/",
                        format!(
                            "--memory 0x{base:x}:0x{size:x}: a bank needs a nonzero size and 4 KiB alignment"
                        ),
                    ));
                }
                add_bank(tree, base, size, ecc, ac, sc);
            }
        }
    }
    Ok(notes)
}

/// The unit address of a node name (`memory@80000000`).
fn unit_address(node: &Node) -> Option<u64> {
    let (_, addr) = node.name.split_once('@')?;
    u64::from_str_radix(addr.split(',').next()?, 16).ok()
}

fn add_bank(tree: &mut Tree, base: u64, size: u64, ecc: bool, ac: u32, sc: u32) {
    let mut reg = encode(base, ac);
    reg.extend(encode(size, sc));
    let mut properties = vec![
        Property {
            name: "device_type".into(),
            value: b"memory\0".to_vec(),
        },
        Property {
            name: "reg".into(),
            value: reg,
        },
    ];
    if ecc {
        for (name, v) in [("ecc-detection-bits", 2u32), ("ecc-correction-bits", 1)] {
            properties.push(Property {
                name: name.into(),
                value: v.to_be_bytes().to_vec(),
            });
        }
    }
    let mut name = format!("memory@{base:x}");
    while tree.nodes[0]
        .children
        .iter()
        .any(|&c| tree.nodes[c].name == name)
    {
        name.push('_');
    }
    let index = tree.nodes.len();
    tree.nodes.push(Node {
        path: format!("/{name}"),
        name,
        properties,
        children: Vec::new(),
        parent: Some(0),
    });
    tree.nodes[0].children.push(index);
}

/// Where a bootloader-less tree's RAM most plausibly starts: the 1 GiB boundary below its
/// lowest fixed reserved region (firmware reserves inside RAM), else the first of the
/// usual arm64 DRAM bases that overlaps no device `reg`.
fn free_base(tree: &Tree, size: u64) -> Result<u64> {
    const GIB: u64 = 1 << 30;
    let (root_cells, _) = cells::cells_for_children_of(tree, tree.root())?;
    let mut busy: Vec<Range> = Vec::new();
    let mut reserved_low: Option<u64> = None;
    for node in &tree.nodes {
        let Some(parent) = tree.parent(node) else {
            continue;
        };
        let Ok((pc, _)) = cells::cells_for_children_of(tree, parent) else {
            continue;
        };
        let Ok(Some(regs)) = cells::ranges_prop(node, "reg", pc) else {
            continue;
        };
        let in_reserved = parent.path == "/reserved-memory";
        for r in regs {
            if in_reserved && pc == root_cells {
                reserved_low = Some(reserved_low.map_or(r.base, |l: u64| l.min(r.base)));
            } else if let Ok(Some(base)) = cells::translate(tree, parent, r.base) {
                busy.push(Range { base, size: r.size });
            }
        }
    }
    let candidates = reserved_low.map(|l| l / GIB * GIB).into_iter().chain([
        0x4000_0000,
        0x8000_0000,
        0,
        0x1_0000_0000,
        0x8_0000_0000,
    ]);
    for base in candidates {
        let bank = Range { base, size };
        if base.checked_add(size).is_some() && !busy.iter().any(|b| b.overlaps(&bank)) {
            return Ok(base);
        }
    }
    Err(BoardError::node(
        "/",
        format!(
            "no /memory node and no free place for {} of RAM among the devices: give --memory BASE:SIZE",
            crate::report::size(size)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_arguments_parse() {
        assert_eq!("2G".parse(), Ok(MemoryArg::Size(2 << 30)));
        assert_eq!(
            "0x80000000:512M:ecc".parse(),
            Ok(MemoryArg::Bank {
                base: 0x8000_0000,
                size: 512 << 20,
                ecc: true
            })
        );
        assert!("2Q".parse::<MemoryArg>().is_err());
        assert!("1:2:3:4".parse::<MemoryArg>().is_err());
    }
}
