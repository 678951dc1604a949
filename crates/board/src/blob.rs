//! Structural check of a flattened device tree blob before the `fdt` crate walks it.
//!
//! The `fdt` crate trusts its input (it asserts and unwraps on a malformed structure
//! block), and a device tree is user input: this pass checks exactly the invariants the
//! walk relies on, so that no blob can make the host panic. It does not interpret nodes.
//!
//! Layout (devicetree specification v0.4, chapter 5): a 40-byte header of big-endian
//! u32s, a memory reservation block of (u64 address, u64 size) pairs ended by a zero
//! pair, a structure block of 4-byte aligned tokens and a strings block.

use crate::error::{BoardError, Result};

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
const HEADER_LEN: usize = 40;
/// Deeper trees are refused: no real board nests this far, and it bounds recursion.
pub const MAX_DEPTH: usize = 64;

fn be32(data: &[u8], off: usize) -> Option<u32> {
    let bytes = data.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn bad(msg: impl Into<String>) -> BoardError {
    BoardError::MalformedDtb(msg.into())
}

/// A NUL-terminated UTF-8 string starting at `off` in `block`; returns its length.
fn cstr_len(block: &[u8], off: usize, what: &str) -> Result<usize> {
    let tail = block
        .get(off..)
        .ok_or_else(|| bad(format!("{what} at offset {off} is outside its block")))?;
    let len = tail
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| bad(format!("{what} at offset {off} is not NUL-terminated")))?;
    std::str::from_utf8(&tail[..len])
        .map_err(|_| bad(format!("{what} at offset {off} is not valid UTF-8")))?;
    Ok(len)
}

fn align4(n: usize) -> Option<usize> {
    n.checked_add(3).map(|v| v & !3)
}

/// Checks header, reservation block and the token structure of `data`.
pub fn check(data: &[u8]) -> Result<()> {
    if data.len() < HEADER_LEN {
        return Err(bad(format!(
            "{} bytes is shorter than the 40-byte header",
            data.len()
        )));
    }
    let field = |i: usize| be32(data, i * 4).unwrap_or(0) as usize;
    if field(0) as u32 != FDT_MAGIC {
        return Err(bad(format!(
            "bad magic 0x{:08x} (expected 0xd00dfeed): not a device tree blob",
            field(0)
        )));
    }
    let (totalsize, off_struct, off_strings, off_rsv) = (field(1), field(2), field(3), field(4));
    let (version, size_strings, size_struct) = (field(5), field(8), field(9));
    if totalsize > data.len() || totalsize < HEADER_LEN {
        return Err(bad(format!(
            "header totalsize {totalsize} does not fit the {} bytes given",
            data.len()
        )));
    }
    if version < 17 {
        return Err(bad(format!(
            "version {version} is older than 17, the version dtc writes"
        )));
    }
    let within = |off: usize, len: usize| off.checked_add(len).is_some_and(|end| end <= totalsize);
    if !within(off_struct, size_struct) || off_struct % 4 != 0 {
        return Err(bad("structure block lies outside the blob or is unaligned"));
    }
    if !within(off_strings, size_strings) {
        return Err(bad("strings block lies outside the blob"));
    }
    // Memory reservation block: pairs until a zero pair, inside the blob.
    let mut off = off_rsv;
    loop {
        if off % 8 != 0 || !within(off, 16) {
            return Err(bad("memory reservation block is unterminated or unaligned"));
        }
        let (addr_hi, addr_lo) = (be32(data, off), be32(data, off + 4));
        let (size_hi, size_lo) = (be32(data, off + 8), be32(data, off + 12));
        if [addr_hi, addr_lo, size_hi, size_lo]
            .iter()
            .all(|v| *v == Some(0))
        {
            break;
        }
        off += 16;
    }
    check_structure(
        &data[off_struct..off_struct + size_struct],
        &data[off_strings..off_strings + size_strings],
    )
}

fn check_structure(block: &[u8], strings: &[u8]) -> Result<()> {
    let mut off = 0usize;
    // Depth of open nodes; per level, whether a child node has been seen (properties
    // must come before subnodes, which the walker relies on).
    let mut open: Vec<bool> = Vec::new();
    let mut root_closed = false;
    loop {
        let token = be32(block, off).ok_or_else(|| {
            bad(format!(
                "structure block ends at offset {off} without FDT_END"
            ))
        })?;
        let at = off;
        off += 4;
        match token {
            FDT_BEGIN_NODE => {
                if root_closed {
                    return Err(bad(format!("second root node at offset {at}")));
                }
                let len = cstr_len(block, off, "node name")?;
                if open.is_empty() && len != 0 {
                    return Err(bad("the root node must have an empty name"));
                }
                if !open.is_empty() && len == 0 {
                    return Err(bad(format!("node at offset {at} has an empty name")));
                }
                if let Some(seen_child) = open.last_mut() {
                    *seen_child = true;
                }
                open.push(false);
                if open.len() > MAX_DEPTH {
                    return Err(bad(format!("nodes nest deeper than {MAX_DEPTH} levels")));
                }
                off = align4(off + len + 1).ok_or_else(|| bad("offset overflow"))?;
            }
            FDT_END_NODE => {
                open.pop()
                    .ok_or_else(|| bad(format!("FDT_END_NODE without a node at offset {at}")))?;
                root_closed = open.is_empty();
            }
            FDT_PROP => {
                match open.last() {
                    None => return Err(bad(format!("property outside any node at offset {at}"))),
                    Some(true) => {
                        return Err(bad(format!(
                            "property after a subnode at offset {at} (properties must come first)"
                        )))
                    }
                    Some(false) => {}
                }
                let len =
                    be32(block, off).ok_or_else(|| bad("truncated property header"))? as usize;
                let name_off =
                    be32(block, off + 4).ok_or_else(|| bad("truncated property header"))? as usize;
                cstr_len(strings, name_off, "property name")?;
                off += 8;
                if off.checked_add(len).is_none_or(|end| end > block.len()) {
                    return Err(bad(format!(
                        "property value at offset {off} runs past the structure block"
                    )));
                }
                off = align4(off + len).ok_or_else(|| bad("offset overflow"))?;
            }
            FDT_NOP => {
                return Err(bad(format!(
                    "FDT_NOP token at offset {at}: recompile the blob with dtc (dtc -I dtb -O dtb)"
                )))
            }
            FDT_END => {
                if !open.is_empty() || !root_closed {
                    return Err(bad("FDT_END before the root node was closed"));
                }
                return Ok(());
            }
            other => return Err(bad(format!("unknown token 0x{other:x} at offset {at}"))),
        }
    }
}
