//! The DMA ledger: every guest-memory access a device model makes, and the verdict.
//!
//! ```text
//! device model --DmaRecord--> Ledger --(x MemoryMap from the Board)--> Placement report
//!                                                                   --> policy findings
//! ```
//! The kernel cannot tell which bank a heap page is in; the emulator sees every address a
//! device reads or writes. This crate knows nothing about devices or the CPU.

pub mod map;
pub mod policy;
pub mod report;
pub mod svg;

use board::Range;
use serde::Serialize;

pub use map::{MemoryMap, Place};
pub use policy::{Expectation, Finding, Rule};
pub use report::{DeviceSummary, Placement};

/// Which way the data moved, seen from the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The device read guest memory (scanout, blit source, virtqueue descriptors).
    Read,
    /// The device wrote guest memory (used ring, blit destination).
    Write,
}

/// What the access was for; scanouts must be contiguous inside one bank.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// A display reading a framebuffer.
    Scanout,
    /// A buffer a device was given as a list of segments (resource backing, blit).
    Buffer,
    /// Device bookkeeping: rings, descriptors, command structures.
    Control,
}

/// One DMA: a device touching one buffer, made of one or more physical segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmaRecord {
    /// DT node path of the device.
    pub device: String,
    /// Guest-physical segments, in the device's order.
    pub segments: Vec<Range>,
    pub direction: Direction,
    pub purpose: Purpose,
    /// The device's name for the buffer ("fb0", "resource 3"), to group repeated accesses.
    pub buffer: String,
    /// Virtual time (guest counter ticks) of the first access.
    pub first_time: u64,
    /// Virtual time of the last identical access.
    pub last_time: u64,
    /// How many identical accesses this record stands for.
    pub count: u64,
}

impl DmaRecord {
    /// Total bytes in the segments.
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.size).sum()
    }

    /// Whether the segments, taken in order, form one gapless range.
    pub fn contiguous(&self) -> bool {
        self.segments.windows(2).all(|w| w[0].end() == w[1].base)
    }
}

/// The ledger. Identical consecutive accesses (a display scanning the same framebuffer
/// every frame) are folded into one record with a count, so memory stays bounded by the
/// number of distinct buffers, not by run time.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ledger {
    records: Vec<DmaRecord>,
    /// Each device's most recent record (index into `records`), for folding.
    #[serde(skip)]
    last_of: std::collections::HashMap<String, usize>,
    /// Host bytes the records hold (see [`MAX_BYTES`]).
    bytes: usize,
    /// When false, `record` only counts (to measure the ledger's own cost).
    enabled: bool,
    dropped: u64,
    /// Distinct accesses not kept because the ledger was full.
    overflow: u64,
}

/// Host memory the records may hold, counted in bytes (a record with 64 Ki segments holds
/// a MiB): a guest cannot make the host's memory grow without bound, however it splits
/// its buffers. The verdict of a run that reaches it fails as incomplete.
pub const MAX_BYTES: usize = 256 << 20;

/// Host bytes a record holds.
fn footprint(r: &DmaRecord) -> usize {
    std::mem::size_of::<DmaRecord>()
        + r.segments.len() * std::mem::size_of::<Range>()
        + r.device.len()
        + r.buffer.len()
}

impl Ledger {
    /// A recording ledger.
    pub fn new() -> Ledger {
        Ledger {
            records: Vec::new(),
            last_of: std::collections::HashMap::new(),
            bytes: 0,
            enabled: true,
            dropped: 0,
            overflow: 0,
        }
    }

    /// A ledger that records nothing (for measuring the cost of recording).
    pub fn disabled() -> Ledger {
        Ledger {
            enabled: false,
            ..Ledger::new()
        }
    }

    /// Records one access.
    pub fn record(
        &mut self,
        device: &str,
        segments: &[Range],
        direction: Direction,
        purpose: Purpose,
        buffer: &str,
        time: u64,
    ) {
        if !self.enabled {
            self.dropped += 1;
            return;
        }
        // Fold into the device's most recent record when it is the same access.
        if let Some(last) = self
            .last_of
            .get(device)
            .and_then(|&i| self.records.get_mut(i))
        {
            if last.segments == segments
                && last.direction == direction
                && last.purpose == purpose
                && last.buffer == buffer
            {
                last.last_time = time;
                last.count += 1;
                return;
            }
        }
        let rec = DmaRecord {
            device: device.to_string(),
            segments: segments.to_vec(),
            direction,
            purpose,
            buffer: buffer.to_string(),
            first_time: time,
            last_time: time,
            count: 1,
        };
        let size = footprint(&rec);
        if self.bytes.saturating_add(size) > MAX_BYTES {
            self.overflow += 1;
            return;
        }
        self.bytes += size;
        self.last_of.insert(rec.device.clone(), self.records.len());
        self.records.push(rec);
    }

    /// Host bytes the records hold now.
    pub fn held_bytes(&self) -> usize {
        self.bytes
    }

    /// Distinct accesses not recorded because the records held [`MAX_BYTES`] already.
    pub fn overflowed(&self) -> u64 {
        self.overflow
    }

    /// The records, in order of first access.
    pub fn records(&self) -> &[DmaRecord] {
        &self.records
    }

    /// Accesses seen while recording was disabled.
    pub fn unrecorded(&self) -> u64 {
        self.dropped
    }
}
