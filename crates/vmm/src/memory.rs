//! Guest RAM: one anonymous mapping per RAM bank of the board, at the bank's address.
//!
//! Banks anywhere in the 64-bit physical space (including above 4 GiB) are fine; pages
//! are only backed by host memory once the guest touches them.

use board::Board;
use vm_memory::{GuestAddress, GuestMemoryMmap, GuestRegionMmap, MmapRegion};

/// Building guest memory failed.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// The host refused the mapping for a bank, or the bank does not fit this host.
    #[error("cannot map RAM bank {bank} ({range}): {message}")]
    Map {
        bank: String,
        range: String,
        message: String,
    },
}

/// Guest RAM for `board`, one region per bank.
pub fn guest_memory(board: &Board) -> Result<GuestMemoryMmap, MemoryError> {
    let mut regions = Vec::with_capacity(board.banks.len());
    for bank in &board.banks {
        let err = |message: String| MemoryError::Map {
            bank: bank.node.clone(),
            range: bank.range.to_string(),
            message,
        };
        let size = usize::try_from(bank.range.size)
            .map_err(|_| err("larger than the host address space".into()))?;
        let mapping = MmapRegion::new(size).map_err(|e| err(e.to_string()))?;
        let region = GuestRegionMmap::new(mapping, GuestAddress(bank.range.base))
            .ok_or_else(|| err("the region would wrap the guest address space".into()))?;
        regions.push(region);
    }
    GuestMemoryMmap::from_regions(regions).map_err(|e| MemoryError::Map {
        bank: "(all banks)".into(),
        range: String::new(),
        message: e.to_string(),
    })
}
