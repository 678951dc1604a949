//! virtio over the MMIO transport (virtio 1.2, section 4.2), and the devices behind it.

pub mod console;
pub mod gpu;
pub mod mmio;

use board::Range;

use crate::dma::Dma;

/// VIRTIO_F_VERSION_1: a virtio 1.x device (Linux's virtio-gpu requires it).
pub const F_VERSION_1: u64 = 1 << 32;

/// One request popped from a queue: what the driver gave the device to read, and where
/// the device may write its answer.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub head: u16,
    /// The device-readable part, gathered.
    pub input: Vec<u8>,
    /// The device-writable descriptors, in order.
    pub output: Vec<Range>,
}

/// A device behind a virtio-mmio transport.
pub trait VirtioDevice: std::fmt::Debug {
    /// virtio device ID (16 = GPU).
    fn device_id(&self) -> u32;
    /// Feature bits offered (VIRTIO_F_VERSION_1 is added by the transport).
    fn features(&self) -> u64;
    /// Number of virtqueues.
    fn queues(&self) -> usize;
    /// Reads the device configuration space.
    fn read_config(&self, offset: u64, data: &mut [u8]);
    /// Writes the device configuration space.
    fn write_config(&mut self, offset: u64, data: &[u8]);
    /// Handles one request from queue `queue` now; returns the bytes written to
    /// `req.output`.
    fn handle(&mut self, queue: usize, req: &Request, dma: &Dma) -> u32;
    /// Offers one request that the device may keep for later, as a receive queue's
    /// buffers wait for input: `Some(written)` completes it now, `None` declines. The
    /// transport then keeps the request and offers it again, oldest first, on the queue's
    /// next notify and on [`mmio::VirtioMmio::resume`] (which the host calls once it gave
    /// the device what the request waits for). A declined request stays at the head of
    /// its queue: later ones wait behind it. The default completes every request at once
    /// through [`VirtioDevice::handle`].
    fn offer(&mut self, queue: usize, req: &Request, dma: &Dma) -> Option<u32> {
        Some(self.handle(queue, req, dma))
    }
    /// Driver reset.
    fn reset(&mut self);
}

/// The first `limit` bytes of a segment list.
pub(crate) fn clip(segs: &[Range], limit: u64) -> Vec<Range> {
    let mut left = limit;
    let mut out = Vec::new();
    for s in segs {
        if left == 0 {
            break;
        }
        let size = s.size.min(left);
        out.push(Range { base: s.base, size });
        left -= size;
    }
    out
}
