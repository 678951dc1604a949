//! virtio-gpu, 2D and guest blobs (virtio 1.2, section 5.7), without virgl: the
//! scatter-gather consumer. Linux 7.3 with VIRTIO_GPU_F_RESOURCE_BLOB imports foreign
//! dma-bufs as guest blobs (drivers/gpu/drm/virtio/virtgpu_prime.c) and sends their
//! scatter list, which this device records in the DMA ledger as the buffer it was given.

use board::Range;
use ledger::{Direction, Purpose};

use super::{clip, Request, VirtioDevice};
use crate::dma::Dma;

pub const DEVICE_ID: u32 = 16;
pub const F_RESOURCE_BLOB: u64 = 1 << 3;

pub const CMD_GET_DISPLAY_INFO: u32 = 0x100;
pub const CMD_RESOURCE_CREATE_2D: u32 = 0x101;
pub const CMD_RESOURCE_UNREF: u32 = 0x102;
pub const CMD_SET_SCANOUT: u32 = 0x103;
pub const CMD_RESOURCE_FLUSH: u32 = 0x104;
pub const CMD_TRANSFER_TO_HOST_2D: u32 = 0x105;
pub const CMD_RESOURCE_ATTACH_BACKING: u32 = 0x106;
pub const CMD_RESOURCE_DETACH_BACKING: u32 = 0x107;
pub const CMD_RESOURCE_CREATE_BLOB: u32 = 0x10c;
pub const CMD_SET_SCANOUT_BLOB: u32 = 0x10d;
pub const CMD_UPDATE_CURSOR: u32 = 0x300;
pub const CMD_MOVE_CURSOR: u32 = 0x301;

pub const RESP_OK_NODATA: u32 = 0x1100;
pub const RESP_OK_DISPLAY_INFO: u32 = 0x1101;
pub const RESP_ERR_UNSPEC: u32 = 0x1200;
pub const RESP_ERR_OUT_OF_MEMORY: u32 = 0x1201;
pub const RESP_ERR_INVALID_SCANOUT_ID: u32 = 0x1202;
pub const RESP_ERR_INVALID_RESOURCE_ID: u32 = 0x1203;
pub const RESP_ERR_INVALID_PARAMETER: u32 = 0x1205;

const HDR: usize = 24;
const FLAG_FENCE: u32 = 1;
const MAX_ENTRIES: u32 = 1 << 16;
/// Resources alive at once: the guest cannot make the host keep more.
const MAX_RESOURCES: usize = 4096;
/// Largest host-side copy of a 2D resource: a guest cannot make the host allocate more.
const MAX_RESOURCE_BYTES: u64 = 64 << 20;
/// Backing entries held over all resources (16 bytes each on the host: 16 MiB): a guest
/// attaching 64 Ki entries to each of 4096 resources would otherwise hold 4 GiB.
pub const MAX_BACKING_ENTRIES: usize = 1 << 20;

/// A resource as the device knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub id: u32,
    pub width: u32,
    pub height: u32,
    pub format: u32,
    /// A guest blob (its memory is the backing itself).
    pub blob: bool,
    pub size: u64,
    /// Guest-physical pages the driver attached, in order.
    pub backing: Vec<Range>,
}

/// The GPU.
#[derive(Debug)]
pub struct Gpu {
    width: u32,
    height: u32,
    resources: Vec<Resource>,
    scanout: Option<u32>,
    /// Commands the device did not understand, by type.
    pub unknown_commands: Vec<u32>,
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

fn entries(b: &[u8], at: usize, n: u32) -> Option<Vec<Range>> {
    if n > MAX_ENTRIES {
        return None;
    }
    (0..n as usize)
        .map(|i| {
            let o = at + 16 * i;
            Some(Range {
                base: u64_at(b, o)?,
                size: u64::from(u32_at(b, o + 8)?),
            })
        })
        .collect()
}

impl Gpu {
    /// A GPU with one scanout of `width` x `height` (what GET_DISPLAY_INFO reports).
    pub fn new(width: u32, height: u32) -> Gpu {
        Gpu {
            width,
            height,
            resources: Vec::new(),
            scanout: None,
            unknown_commands: Vec::new(),
        }
    }

    /// The resources alive now.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// The resource shown on scanout 0.
    pub fn scanout(&self) -> Option<&Resource> {
        let id = self.scanout?;
        self.resources.iter().find(|r| r.id == id)
    }

    fn resource(&mut self, id: u32) -> Option<&mut Resource> {
        self.resources.iter_mut().find(|r| r.id == id)
    }

    /// Whether `new` more backing entries, replacing those of resource `replacing`, stay
    /// within [`MAX_BACKING_ENTRIES`].
    fn backing_fits(&self, new: usize, replacing: Option<u32>) -> bool {
        let held: usize = self
            .resources
            .iter()
            .filter(|r| Some(r.id) != replacing)
            .map(|r| r.backing.len())
            .sum();
        held.saturating_add(new) <= MAX_BACKING_ENTRIES
    }

    /// The ledger's name for a resource: guest blobs (what a PRIME import of a foreign
    /// dma-buf becomes) are told apart from 2D resources with attached backing.
    pub fn buffer_name(r: &Resource) -> String {
        if r.blob {
            format!("blob resource {}", r.id)
        } else {
            format!("resource {}", r.id)
        }
    }

    fn give(dma: &Dma, r: &Resource) {
        if !r.backing.is_empty() {
            dma.touch(
                &r.backing,
                Direction::Read,
                Purpose::Buffer,
                &Gpu::buffer_name(r),
            );
        }
    }

    /// Executes one control command; returns (response type, response payload after the header).
    fn command(&mut self, cmd: u32, b: &[u8], dma: &Dma) -> (u32, Vec<u8>) {
        let bad = (RESP_ERR_INVALID_PARAMETER, Vec::new());
        match cmd {
            CMD_GET_DISPLAY_INFO => {
                let mut p = vec![0u8; 16 * 24];
                p[8..12].copy_from_slice(&self.width.to_le_bytes());
                p[12..16].copy_from_slice(&self.height.to_le_bytes());
                p[16..20].copy_from_slice(&1u32.to_le_bytes());
                (RESP_OK_DISPLAY_INFO, p)
            }
            CMD_RESOURCE_CREATE_2D => {
                let (Some(id), Some(format), Some(w), Some(h)) = (
                    u32_at(b, HDR),
                    u32_at(b, HDR + 4),
                    u32_at(b, HDR + 8),
                    u32_at(b, HDR + 12),
                ) else {
                    return bad;
                };
                // Guest-given: u32::MAX squared times 4 does not fit in 64 bits.
                let size = u64::from(w)
                    .checked_mul(u64::from(h))
                    .and_then(|px| px.checked_mul(4));
                if id == 0 || self.resources.iter().any(|r| r.id == id) {
                    return (RESP_ERR_INVALID_RESOURCE_ID, Vec::new());
                }
                let Some(size) = size.filter(|&s| s <= MAX_RESOURCE_BYTES) else {
                    return (RESP_ERR_OUT_OF_MEMORY, Vec::new());
                };
                if self.resources.len() >= MAX_RESOURCES {
                    return (RESP_ERR_OUT_OF_MEMORY, Vec::new());
                }
                self.resources.push(Resource {
                    id,
                    width: w,
                    height: h,
                    format,
                    blob: false,
                    size,
                    backing: Vec::new(),
                });
                (RESP_OK_NODATA, Vec::new())
            }
            CMD_RESOURCE_CREATE_BLOB => {
                let (Some(id), Some(mem), Some(n), Some(size)) = (
                    u32_at(b, HDR),
                    u32_at(b, HDR + 4),
                    u32_at(b, HDR + 12),
                    u64_at(b, HDR + 24),
                ) else {
                    return bad;
                };
                // Only guest blobs exist without virgl.
                if mem != 1 {
                    return bad;
                }
                if self.resources.len() >= MAX_RESOURCES {
                    return (RESP_ERR_OUT_OF_MEMORY, Vec::new());
                }
                let Some(backing) = entries(b, HDR + 32, n) else {
                    return bad;
                };
                if id == 0 || self.resources.iter().any(|r| r.id == id) {
                    return (RESP_ERR_INVALID_RESOURCE_ID, Vec::new());
                }
                if !self.backing_fits(backing.len(), None) {
                    return (RESP_ERR_OUT_OF_MEMORY, Vec::new());
                }
                let r = Resource {
                    id,
                    width: 0,
                    height: 0,
                    format: 0,
                    blob: true,
                    size,
                    backing,
                };
                Gpu::give(dma, &r);
                self.resources.push(r);
                (RESP_OK_NODATA, Vec::new())
            }
            CMD_RESOURCE_UNREF => {
                let Some(id) = u32_at(b, HDR) else { return bad };
                let before = self.resources.len();
                self.resources.retain(|r| r.id != id);
                if self.scanout == Some(id) {
                    self.scanout = None;
                }
                if self.resources.len() == before {
                    (RESP_ERR_INVALID_RESOURCE_ID, Vec::new())
                } else {
                    (RESP_OK_NODATA, Vec::new())
                }
            }
            CMD_RESOURCE_ATTACH_BACKING => {
                let (Some(id), Some(n)) = (u32_at(b, HDR), u32_at(b, HDR + 4)) else {
                    return bad;
                };
                let Some(backing) = entries(b, HDR + 8, n) else {
                    return bad;
                };
                if !self.resources.iter().any(|r| r.id == id) {
                    return (RESP_ERR_INVALID_RESOURCE_ID, Vec::new());
                }
                if !self.backing_fits(backing.len(), Some(id)) {
                    return (RESP_ERR_OUT_OF_MEMORY, Vec::new());
                }
                let Some(r) = self.resource(id) else {
                    return (RESP_ERR_INVALID_RESOURCE_ID, Vec::new());
                };
                r.backing = backing;
                let r = r.clone();
                Gpu::give(dma, &r);
                (RESP_OK_NODATA, Vec::new())
            }
            CMD_RESOURCE_DETACH_BACKING => {
                let Some(id) = u32_at(b, HDR) else { return bad };
                match self.resource(id) {
                    Some(r) => {
                        r.backing.clear();
                        (RESP_OK_NODATA, Vec::new())
                    }
                    None => (RESP_ERR_INVALID_RESOURCE_ID, Vec::new()),
                }
            }
            CMD_SET_SCANOUT | CMD_SET_SCANOUT_BLOB => {
                let (Some(scanout), Some(id)) = (u32_at(b, HDR + 16), u32_at(b, HDR + 20)) else {
                    return bad;
                };
                if scanout != 0 {
                    return (RESP_ERR_INVALID_SCANOUT_ID, Vec::new());
                }
                if id == 0 {
                    self.scanout = None;
                    return (RESP_OK_NODATA, Vec::new());
                }
                let (w, h, f) = (
                    u32_at(b, HDR + 24),
                    u32_at(b, HDR + 28),
                    u32_at(b, HDR + 32),
                );
                let Some(r) = self.resource(id) else {
                    return (RESP_ERR_INVALID_RESOURCE_ID, Vec::new());
                };
                if cmd == CMD_SET_SCANOUT_BLOB {
                    if let (Some(w), Some(h), Some(f)) = (w, h, f) {
                        (r.width, r.height, r.format) = (w, h, f);
                    }
                }
                self.scanout = Some(id);
                (RESP_OK_NODATA, Vec::new())
            }
            CMD_TRANSFER_TO_HOST_2D | CMD_RESOURCE_FLUSH => {
                let id_at = if cmd == CMD_TRANSFER_TO_HOST_2D {
                    HDR + 24
                } else {
                    HDR + 16
                };
                let Some(id) = u32_at(b, id_at) else {
                    return bad;
                };
                let Some(r) = self.resource(id).cloned() else {
                    return (RESP_ERR_INVALID_RESOURCE_ID, Vec::new());
                };
                if cmd == CMD_TRANSFER_TO_HOST_2D && !r.backing.is_empty() {
                    // The device reads the backing pages: the DMA the report is about.
                    let mut scratch = vec![
                        0u8;
                        usize::try_from(
                            r.backing
                                .iter()
                                .map(|s| s.size)
                                .sum::<u64>()
                                .min(MAX_RESOURCE_BYTES)
                        )
                        .unwrap_or(0)
                    ];
                    let segs = clip(&r.backing, scratch.len() as u64);
                    if dma
                        .read(&segs, Purpose::Buffer, &Gpu::buffer_name(&r), &mut scratch)
                        .is_err()
                    {
                        return (RESP_ERR_UNSPEC, Vec::new());
                    }
                }
                (RESP_OK_NODATA, Vec::new())
            }
            other => {
                if self.unknown_commands.len() < 64 {
                    self.unknown_commands.push(other);
                }
                (RESP_ERR_UNSPEC, Vec::new())
            }
        }
    }
}

impl VirtioDevice for Gpu {
    fn device_id(&self) -> u32 {
        DEVICE_ID
    }

    fn features(&self) -> u64 {
        F_RESOURCE_BLOB
    }

    fn queues(&self) -> usize {
        2 // control, cursor
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        // events_read, events_clear, num_scanouts = 1, num_capsets = 0.
        let mut cfg = [0u8; 16];
        cfg[8..12].copy_from_slice(&1u32.to_le_bytes());
        for (i, d) in data.iter_mut().enumerate() {
            *d = usize::try_from(offset)
                .ok()
                .and_then(|o| cfg.get(o + i))
                .copied()
                .unwrap_or(0);
        }
    }

    fn write_config(&mut self, _offset: u64, _data: &[u8]) {}

    fn handle(&mut self, queue: usize, req: &Request, dma: &Dma) -> u32 {
        let b = &req.input;
        let (Some(cmd), Some(flags), Some(fence)) = (u32_at(b, 0), u32_at(b, 4), u64_at(b, 8))
        else {
            return 0;
        };
        let (resp, payload) = if queue == 1 {
            // Cursor commands carry no response data; the cursor is not drawn.
            (RESP_OK_NODATA, Vec::new())
        } else {
            self.command(cmd, b, dma)
        };
        let mut out = Vec::with_capacity(HDR + payload.len());
        out.extend_from_slice(&resp.to_le_bytes());
        out.extend_from_slice(&(flags & FLAG_FENCE).to_le_bytes());
        out.extend_from_slice(&(if flags & FLAG_FENCE != 0 { fence } else { 0 }).to_le_bytes());
        out.extend_from_slice(
            &b.get(16..24)
                .map_or([0u8; 8], |c| c.try_into().unwrap_or([0; 8])),
        );
        out.extend_from_slice(&payload);
        let room: u64 = req.output.iter().map(|r| r.size).sum();
        let n = (out.len() as u64).min(room);
        out.truncate(n as usize);
        let segs = clip(&req.output, n);
        match dma.write(&segs, Purpose::Control, "virtio-gpu response", &out) {
            Ok(()) => n as u32,
            Err(_) => 0,
        }
    }

    fn reset(&mut self) {
        self.resources.clear();
        self.scanout = None;
    }
}
