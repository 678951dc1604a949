//! The virtio-mmio transport, version 2 (virtio 1.2, 4.2.2): feature negotiation, queue
//! setup, notification and the used-buffer interrupt. Every ring and buffer access goes
//! through the device's DMA handle, so rings and commands appear in the ledger as
//! `control` records.
//!
//! A device completes most requests as they are popped. One that waits for the host (the
//! empty buffers of a console's receiveq, virtio 1.2, 5.3.6, used only once input
//! arrives) declines them through [`VirtioDevice::offer`]; the transport keeps them, in
//! order and bounded, and completes them when [`VirtioMmio::resume`] finds the device
//! ready.

use std::collections::VecDeque;

use board::Range;
use ledger::{Direction, Purpose};
use virtio_queue::desc::split::Descriptor;
use virtio_queue::{Queue, QueueT};
use vm_memory::GuestMemoryMmap;

use super::{Request, VirtioDevice, F_VERSION_1};
use crate::bus::MmioDevice;
use crate::dma::Dma;
use crate::irq::IrqLine;

const MAGIC: u32 = 0x7472_6976;
const QUEUE_MAX: u16 = 256;
/// Largest device-readable part of one request the transport gathers (a blob with 65536
/// scatter entries is 1 MiB).
const MAX_REQUEST: u64 = 4 << 20;
const STATUS_FAILED: u32 = 0x80;
const INT_USED: u32 = 1;

/// The transport around one device.
pub struct VirtioMmio<D: VirtioDevice> {
    pub device: D,
    dma: Dma,
    memory: GuestMemoryMmap,
    irq: Box<dyn IrqLine>,
    queues: Vec<Queue>,
    queue_sel: u32,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    status: u32,
    interrupt_status: u32,
    config_generation: u32,
    shm_sel: u32,
    irq_level: bool,
    /// Requests the device declined to complete yet, per queue, oldest first.
    kept: Vec<VecDeque<Request>>,
    /// Host memory `kept` holds, as [`kept_cost`] counts it.
    kept_bytes: usize,
    /// Requests the device could not parse or queues that failed; reported, not hidden.
    /// The first [`MAX_ERRORS`] are kept, the rest only counted in `errors_dropped`: a
    /// guest notifying in a loop cannot make the host's memory grow.
    pub errors: Vec<String>,
    pub errors_dropped: u64,
}

/// Error messages a transport keeps.
pub const MAX_ERRORS: usize = 64;

/// Host memory the requests a transport keeps for its device may hold at once (their
/// gathered readable part and segment lists). Each queue also keeps at most its size: a
/// driver cannot have more buffers outstanding, so only a guest re-posting heads it was
/// not given back, or posting huge readable parts, reaches either bound; requests past
/// them are completed at once through [`VirtioDevice::handle`].
pub const MAX_KEPT_BYTES: usize = 1 << 20;

/// A chain's descriptors as (device-readable, device-writable) ranges, each in order.
fn split(chain: impl Iterator<Item = Descriptor>) -> (Vec<Range>, Vec<Range>) {
    let mut readable = Vec::new();
    let mut writable = Vec::new();
    for desc in chain {
        let range = Range {
            base: desc.addr().0,
            size: u64::from(desc.len()),
        };
        if desc.is_write_only() {
            writable.push(range);
        } else {
            readable.push(range);
        }
    }
    (readable, writable)
}

/// What keeping `req` costs the host.
fn kept_cost(req: &Request) -> usize {
    std::mem::size_of::<Request>()
        + req.input.len()
        + req.output.len() * std::mem::size_of::<Range>()
}

impl<D: VirtioDevice> std::fmt::Debug for VirtioMmio<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtioMmio")
            .field("device", &self.device)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl<D: VirtioDevice> VirtioMmio<D> {
    pub fn new(device: D, dma: Dma, memory: GuestMemoryMmap, irq: Box<dyn IrqLine>) -> Self {
        let queues: Vec<Queue> = (0..device.queues())
            .map(|_| Queue::new(QUEUE_MAX).expect("256 is a valid queue size"))
            .collect();
        let kept = queues.iter().map(|_| VecDeque::new()).collect();
        VirtioMmio {
            device,
            dma,
            memory,
            irq,
            queues,
            queue_sel: 0,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: 0,
            status: 0,
            interrupt_status: 0,
            config_generation: 0,
            shm_sel: 0,
            irq_level: false,
            kept,
            kept_bytes: 0,
            errors: Vec::new(),
            errors_dropped: 0,
        }
    }

    fn error(&mut self, message: String) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(message);
        } else {
            self.errors_dropped += 1;
        }
    }

    fn offered(&self) -> u64 {
        self.device.features() | F_VERSION_1
    }

    fn update_irq(&mut self) {
        let level = self.interrupt_status != 0;
        if level != self.irq_level {
            self.irq_level = level;
            self.irq.set_level(level);
        }
    }

    fn reset(&mut self) {
        for q in &mut self.queues {
            q.reset();
        }
        for index in 0..self.kept.len() {
            self.drop_kept(index);
        }
        self.device.reset();
        self.driver_features = 0;
        self.status = 0;
        self.interrupt_status = 0;
        self.update_irq();
    }

    fn queue(&mut self) -> Option<&mut Queue> {
        self.queues.get_mut(self.queue_sel as usize)
    }

    /// Records the rings of a queue as the device reads and writes them.
    fn record_rings(&self, q: &Queue) {
        let n = u64::from(q.size());
        self.dma.touch(
            &[Range {
                base: q.desc_table(),
                size: 16 * n,
            }],
            Direction::Read,
            Purpose::Control,
            "virtqueue descriptors",
        );
        self.dma.touch(
            &[Range {
                base: q.avail_ring(),
                size: 6 + 2 * n,
            }],
            Direction::Read,
            Purpose::Control,
            "virtqueue avail ring",
        );
        self.record_used(q);
    }

    /// Records the used ring of a queue as the device writes it.
    fn record_used(&self, q: &Queue) {
        self.dma.touch(
            &[Range {
                base: q.used_ring(),
                size: 6 + 8 * u64::from(q.size()),
            }],
            Direction::Write,
            Purpose::Control,
            "virtqueue used ring",
        );
    }

    /// Gathers one request: the device-readable part read (bounded by [`MAX_REQUEST`]),
    /// the device-writable descriptors listed.
    fn gather(
        &mut self,
        index: usize,
        head: u16,
        readable: Vec<Range>,
        output: Vec<Range>,
    ) -> Request {
        let mut req = Request {
            head,
            input: Vec::new(),
            output,
        };
        let total: u64 = readable.iter().map(|r| r.size).sum();
        if total > MAX_REQUEST {
            // A guest can claim any length; the host must not allocate it.
            self.error(format!(
                "queue {index}: request of {total} bytes exceeds {MAX_REQUEST}: answered empty"
            ));
            return req;
        }
        if !readable.is_empty() {
            req.input = vec![0; usize::try_from(total).unwrap_or(0)];
            if let Err(e) = self.dma.read(
                &readable,
                Purpose::Control,
                "virtqueue request",
                &mut req.input,
            ) {
                self.error(e.to_string());
                req.input.clear();
            }
        }
        req
    }

    /// Puts `head` in the used ring of queue `index`; false (reported) if that failed.
    fn add_used(&mut self, index: usize, head: u16, written: u32) -> bool {
        let Some(q) = self.queues.get_mut(index) else {
            return false;
        };
        match q.add_used(&self.memory, head, written) {
            Ok(()) => true,
            Err(e) => {
                self.error(format!("queue {index}: {e:?}"));
                false
            }
        }
    }

    /// Raises the used-buffer interrupt for queue `index` unless the driver suppressed it.
    fn signal_used(&mut self, index: usize) {
        let notify = self
            .queues
            .get_mut(index)
            .map(|q| q.needs_notification(&self.memory).unwrap_or(true))
            .unwrap_or(false);
        if notify {
            self.interrupt_status |= INT_USED;
            self.update_irq();
        }
    }

    /// Keeps `req` for the device, or completes it at once through
    /// [`VirtioDevice::handle`] when the bounds are reached; returns whether a used entry
    /// was added, and false in `.1` if adding one failed.
    fn keep(&mut self, index: usize, req: Request) -> (bool, bool) {
        let size = self.queues.get(index).map_or(0, |q| usize::from(q.size()));
        let held = self.kept.get(index).map_or(0, VecDeque::len);
        let cost = kept_cost(&req);
        if held < size && self.kept_bytes.saturating_add(cost) <= MAX_KEPT_BYTES {
            if let Some(k) = self.kept.get_mut(index) {
                k.push_back(req);
                self.kept_bytes += cost;
                return (false, true);
            }
        }
        self.error(format!(
            "queue {index}: {held} requests ({} bytes) already kept: completed at once",
            self.kept_bytes
        ));
        let written = self.device.handle(index, &req, &self.dma);
        let ok = self.add_used(index, req.head, written);
        (ok, ok)
    }

    /// Offers the requests kept for queue `index` to the device again, oldest first,
    /// completing those it takes; stops at the first it declines. Returns how many it
    /// completed.
    fn complete_kept(&mut self, index: usize) -> usize {
        let mut done = 0;
        while let Some(req) = self.kept.get(index).and_then(VecDeque::front) {
            let Some(written) = self.device.offer(index, req, &self.dma) else {
                break;
            };
            let Some(req) = self.kept.get_mut(index).and_then(VecDeque::pop_front) else {
                break;
            };
            self.kept_bytes = self.kept_bytes.saturating_sub(kept_cost(&req));
            if !self.add_used(index, req.head, written) {
                break;
            }
            done += 1;
        }
        done
    }

    /// Forgets the requests kept for queue `index` (its rings are gone).
    fn drop_kept(&mut self, index: usize) {
        if let Some(k) = self.kept.get_mut(index) {
            let freed: usize = k.iter().map(kept_cost).sum();
            self.kept_bytes = self.kept_bytes.saturating_sub(freed);
            k.clear();
        }
    }

    /// Processes every available request of queue `index`: requests kept from earlier come
    /// first, then the new ones, in ring order.
    fn notify(&mut self, index: usize) {
        let Some(q) = self.queues.get(index) else {
            self.error(format!("notify of queue {index}, which does not exist"));
            return;
        };
        if !q.ready() || !q.is_valid(&self.memory) {
            self.error(format!("notify of queue {index}, which is not set up"));
            return;
        }
        self.record_rings(q);
        let mut used_any = self.complete_kept(index) > 0;
        while let Some(chain) = self
            .queues
            .get_mut(index)
            .and_then(|q| q.pop_descriptor_chain(&self.memory))
        {
            let head = chain.head_index();
            let (readable, output) = split(chain);
            let req = self.gather(index, head, readable, output);
            let waiting = self.kept.get(index).is_some_and(|k| !k.is_empty());
            let now = if waiting {
                None
            } else {
                self.device.offer(index, &req, &self.dma)
            };
            let (used, ok) = match now {
                Some(written) => {
                    let ok = self.add_used(index, req.head, written);
                    (ok, ok)
                }
                None => self.keep(index, req),
            };
            used_any |= used;
            if !ok {
                break;
            }
        }
        if used_any {
            self.signal_used(index);
        }
    }

    /// Offers every kept request to the device again (after the host gave it what they
    /// wait for, such as console input), completing those it takes and raising the
    /// used-buffer interrupt for them. Returns how many were completed. The host uses no
    /// buffer before DRIVER_OK (virtio 1.2, 3.1.1), and setting DRIVER_OK resumes; a
    /// driver's own notify is served when it comes, as for every device.
    pub fn resume(&mut self) -> usize {
        if !self.driver_ok() {
            return 0;
        }
        let mut done = 0;
        for index in 0..self.kept.len() {
            if self.kept.get(index).is_none_or(VecDeque::is_empty) {
                continue;
            }
            let Some(q) = self.queues.get(index) else {
                continue;
            };
            if !q.ready() || !q.is_valid(&self.memory) {
                continue;
            }
            let n = self.complete_kept(index);
            if n > 0 {
                if let Some(q) = self.queues.get(index) {
                    self.record_used(q);
                }
                self.signal_used(index);
            }
            done += n;
        }
        done
    }

    /// How many requests of queue `index` the device declined and the transport keeps.
    pub fn kept(&self, index: usize) -> usize {
        self.kept.get(index).map_or(0, VecDeque::len)
    }

    fn read_reg(&mut self, off: u64) -> u32 {
        match off {
            0x000 => MAGIC,
            0x004 => 2,
            0x008 => self.device.device_id(),
            0x00c => 0x554d_4551,
            0x010 => match self.device_features_sel {
                0 => self.offered() as u32,
                1 => (self.offered() >> 32) as u32,
                _ => 0,
            },
            0x034 => self.queue().map_or(0, |q| u32::from(q.max_size())),
            0x044 => self.queue().map_or(0, |q| u32::from(q.ready())),
            0x060 => self.interrupt_status,
            0x070 => self.status,
            // No shared memory regions: length ~0 (virtio 1.2, 4.2.2.1).
            0x0b0 | 0x0b4 => u32::MAX,
            0x0fc => self.config_generation,
            _ => 0,
        }
    }

    fn write_reg(&mut self, off: u64, v: u32) {
        match off {
            0x014 => self.device_features_sel = v,
            0x020 => match self.driver_features_sel {
                0 => self.driver_features = (self.driver_features & !0xffff_ffff) | u64::from(v),
                1 => {
                    self.driver_features =
                        (self.driver_features & 0xffff_ffff) | (u64::from(v) << 32)
                }
                _ => {}
            },
            0x024 => self.driver_features_sel = v,
            0x030 => self.queue_sel = v,
            0x038 => {
                if let Some(q) = self.queue() {
                    q.set_size(v as u16);
                }
            }
            0x044 => {
                if let Some(q) = self.queue() {
                    q.set_ready(v & 1 != 0);
                }
                if v & 1 == 0 {
                    // vm_del_vq: the driver frees the rings next.
                    self.drop_kept(self.queue_sel as usize);
                }
            }
            0x050 => self.notify(v as usize),
            0x064 => {
                self.interrupt_status &= !v;
                self.update_irq();
            }
            0x070 => {
                if v == 0 {
                    self.reset();
                } else {
                    // FEATURES_OK only if the driver accepted VERSION_1 and nothing unoffered.
                    let bad = self.driver_features & !self.offered() != 0
                        || self.driver_features & F_VERSION_1 == 0;
                    let was_ok = self.driver_ok();
                    self.status = if v & 8 != 0 && bad {
                        (v & !8) | STATUS_FAILED
                    } else {
                        v
                    };
                    if !was_ok && self.driver_ok() {
                        // Requests kept before DRIVER_OK may be waiting for nothing more.
                        self.resume();
                    }
                }
            }
            0x080 => self.set_addr(|q, l| q.set_desc_table_address(Some(l), None), v),
            0x084 => self.set_addr(|q, h| q.set_desc_table_address(None, Some(h)), v),
            0x090 => self.set_addr(|q, l| q.set_avail_ring_address(Some(l), None), v),
            0x094 => self.set_addr(|q, h| q.set_avail_ring_address(None, Some(h)), v),
            0x0a0 => self.set_addr(|q, l| q.set_used_ring_address(Some(l), None), v),
            0x0a4 => self.set_addr(|q, h| q.set_used_ring_address(None, Some(h)), v),
            0x0ac => self.shm_sel = v,
            _ => {}
        }
    }

    fn set_addr(&mut self, f: impl FnOnce(&mut Queue, u32), v: u32) {
        if let Some(q) = self.queue() {
            f(q, v);
        }
    }

    /// Whether the driver brought the device up (DRIVER_OK).
    pub fn driver_ok(&self) -> bool {
        self.status & 4 != 0
    }
}

impl<D: VirtioDevice> MmioDevice for VirtioMmio<D> {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        if offset >= 0x100 {
            self.device.read_config(offset - 0x100, data);
            return;
        }
        let v = if data.len() == 4 && offset % 4 == 0 {
            self.read_reg(offset)
        } else {
            0
        };
        let b = v.to_le_bytes();
        for (i, d) in data.iter_mut().enumerate() {
            *d = b.get(i).copied().unwrap_or(0);
        }
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        if offset >= 0x100 {
            self.device.write_config(offset - 0x100, data);
            self.config_generation = self.config_generation.wrapping_add(1);
            return;
        }
        if data.len() == 4 && offset % 4 == 0 {
            self.write_reg(
                offset,
                u32::from_le_bytes([data[0], data[1], data[2], data[3]]),
            );
        }
    }
}
