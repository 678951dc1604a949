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

#[cfg(test)]
mod tests {
    use super::*;
    use board::{Chosen, Ecc, MemoryBank, Range};
    use vm_memory::{Bytes, GuestMemoryBackend};

    fn board_with(banks: &[(u64, u64)]) -> Board {
        Board {
            model: None,
            compatible: Vec::new(),
            banks: banks
                .iter()
                .map(|&(base, size)| MemoryBank {
                    name: format!("memory@{base:x}"),
                    node: format!("/memory@{base:x}"),
                    range: Range { base, size },
                    ecc: Ecc::default(),
                })
                .collect(),
            reserved: Vec::new(),
            cpus: Vec::new(),
            interrupt_controller: None,
            timer: None,
            psci: None,
            devices: Vec::new(),
            chosen: Chosen::default(),
            heaps: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn one_region_per_bank_including_above_4gib() {
        let board = board_with(&[(0x4000_0000, 0x20_0000), (0x8_8000_0000, 0x40_0000)]);
        let mem = guest_memory(&board).expect("map");
        assert_eq!(mem.num_regions(), 2);
        mem.write_obj(0xdead_beefu32, GuestAddress(0x8_8000_0100))
            .expect("write high bank");
        let v: u32 = mem
            .read_obj(GuestAddress(0x8_8000_0100))
            .expect("read back");
        assert_eq!(v, 0xdead_beef);
    }

    #[test]
    fn the_gap_between_banks_is_not_ram() {
        let board = board_with(&[(0x4000_0000, 0x10_0000), (0x5000_0000, 0x10_0000)]);
        let mem = guest_memory(&board).expect("map");
        assert!(mem.read_obj::<u32>(GuestAddress(0x4800_0000)).is_err());
    }
}
