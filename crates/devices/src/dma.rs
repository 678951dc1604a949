//! The only way a device model reaches guest memory: a handle that records every access in
//! the DMA ledger, then performs it. An access outside RAM is recorded (the verdict reports
//! it) and fails with an error the device handles like a bus error: never a host crash.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use board::Range;
use ledger::{Direction, Ledger, Purpose};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

/// A DMA touched memory that is not RAM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{device}: DMA to {range} is outside RAM")]
pub struct DmaError {
    pub device: String,
    pub range: Range,
}

/// What every device's DMA handle shares: guest RAM, the ledger and virtual time.
#[derive(Debug, Clone)]
pub struct DmaContext {
    pub memory: GuestMemoryMmap,
    pub ledger: Rc<RefCell<Ledger>>,
    /// Guest counter ticks, advanced by the machine.
    pub now: Rc<Cell<u64>>,
    /// Guest RAM devices wrote since the CPU last looked: code decoded from there is stale.
    pub written: Rc<RefCell<WrittenRanges>>,
}

/// Ranges written by devices, for the CPU's decoded-code cache.
#[derive(Debug, Default)]
pub struct WrittenRanges {
    pub ranges: Vec<Range>,
    /// More ranges than are worth keeping: drop all decoded code instead.
    pub overflow: bool,
}

impl WrittenRanges {
    const MAX: usize = 1024;

    fn add(&mut self, r: Range) {
        if self.ranges.len() >= Self::MAX {
            self.overflow = true;
        } else {
            self.ranges.push(r);
        }
    }
}

/// One device's DMA handle.
#[derive(Debug, Clone)]
pub struct Dma {
    ctx: DmaContext,
    device: String,
}

impl Dma {
    /// A handle for the device at DT node `device`.
    pub fn new(ctx: DmaContext, device: &str) -> Dma {
        Dma {
            ctx,
            device: device.to_string(),
        }
    }

    /// The DT node path this handle records under.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Records an access to `segments` without moving data (a scanout the host does not
    /// need to look at this frame).
    pub fn touch(&self, segments: &[Range], direction: Direction, purpose: Purpose, buffer: &str) {
        self.ctx.ledger.borrow_mut().record(
            &self.device,
            segments,
            direction,
            purpose,
            buffer,
            self.ctx.now.get(),
        );
    }

    fn check(&self, seg: &Range) -> Result<(), DmaError> {
        let ok = seg.size == 0
            || usize::try_from(seg.size)
                .is_ok_and(|len| self.ctx.memory.check_range(GuestAddress(seg.base), len));
        if ok {
            Ok(())
        } else {
            Err(DmaError {
                device: self.device.clone(),
                range: *seg,
            })
        }
    }

    /// Runs `op` on each segment with the matching slice of `buf` (segments in order).
    fn each_segment(
        &self,
        segments: &[Range],
        buf_len: usize,
        mut op: impl FnMut(&GuestMemoryMmap, GuestAddress, std::ops::Range<usize>) -> bool,
    ) -> Result<(), DmaError> {
        let mut at = 0usize;
        for seg in segments {
            let err = || DmaError {
                device: self.device.clone(),
                range: *seg,
            };
            self.check(seg)?;
            let end = at
                .checked_add(seg.size as usize)
                .filter(|&e| e <= buf_len)
                .ok_or_else(err)?;
            if !op(&self.ctx.memory, GuestAddress(seg.base), at..end) {
                return Err(err());
            }
            at = end;
        }
        Ok(())
    }

    /// Reads the segments, in order, into `out` (which must hold their total size).
    pub fn read(
        &self,
        segments: &[Range],
        purpose: Purpose,
        buffer: &str,
        out: &mut [u8],
    ) -> Result<(), DmaError> {
        self.touch(segments, Direction::Read, purpose, buffer);
        let len = out.len();
        self.each_segment(segments, len, |mem, addr, span| {
            mem.read_slice(&mut out[span], addr).is_ok()
        })
    }

    /// Reads the segments like [`Dma::read`] without recording anything: the host looking
    /// at guest memory (a screenshot), not the device reaching it.
    pub fn peek(&self, segments: &[Range], out: &mut [u8]) -> Result<(), DmaError> {
        let len = out.len();
        self.each_segment(segments, len, |mem, addr, span| {
            mem.read_slice(&mut out[span], addr).is_ok()
        })
    }

    /// Writes `data` across the segments, in order.
    pub fn write(
        &self,
        segments: &[Range],
        purpose: Purpose,
        buffer: &str,
        data: &[u8],
    ) -> Result<(), DmaError> {
        self.touch(segments, Direction::Write, purpose, buffer);
        {
            let mut written = self.ctx.written.borrow_mut();
            for seg in segments {
                written.add(*seg);
            }
        }
        self.each_segment(segments, data.len(), |mem, addr, span| {
            mem.write_slice(&data[span], addr).is_ok()
        })
    }
}
