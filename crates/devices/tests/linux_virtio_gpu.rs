//! Replays of what Linux 7.3 does to the virtio-gpu of heap-soc.dts: drivers/virtio/
//! virtio_mmio.c (vm_probe, vm_get_features/vm_finalize_features, vm_get_shm_region,
//! vm_setup_vq, vm_notify, vm_interrupt, vm_get with the generation loop), virtio.c
//! (virtio_dev_probe's status handshake), virtio_ring.c (split ring: vring_init layout
//! with PAGE_SIZE alignment, virtqueue_add_sgs, virtqueue_kick_prepare, virtqueue_get_buf)
//! and drivers/gpu/drm/virtio (virtio_gpu_init, GET_DISPLAY_INFO, the PRIME import of a
//! heap dma-buf as a guest blob in virtgpu_dma_buf_init_obj, then ADDFB/SETCRTC through
//! virtio_gpu_primary_plane_update: SET_SCANOUT_BLOB and a fenced RESOURCE_FLUSH).

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use board::Range;
use common::virtio::*;
use common::{readl, writel};
use devices::dma::{Dma, DmaContext};
use devices::virtio::gpu::{self, Gpu};
use devices::virtio::mmio::VirtioMmio;
use devices::IrqLog;
use ledger::{Ledger, Purpose};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

// include/uapi/linux/virtio_gpu.h
const VIRTIO_GPU_F_VIRGL: u32 = 0;
const VIRTIO_GPU_F_EDID: u32 = 1;
const VIRTIO_GPU_F_RESOURCE_UUID: u32 = 2;
const VIRTIO_GPU_F_RESOURCE_BLOB: u32 = 3;
const VIRTIO_GPU_F_CONTEXT_INIT: u32 = 4;
const VIRTIO_GPU_F_BLOB_ALIGNMENT: u32 = 5;
const VIRTIO_GPU_SHM_ID_HOST_VISIBLE: u32 = 1;
const VIRTIO_GPU_FLAG_FENCE: u32 = 1;
const VIRTIO_GPU_BLOB_MEM_GUEST: u32 = 1;
const VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE: u32 = 2;
const VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM: u32 = 2; // DRM_FORMAT_XRGB8888 on little endian
const CONFIG_NUM_SCANOUTS: u64 = 8;
const CONFIG_NUM_CAPSETS: u64 = 12;

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 0x80_0000;

/// One split virtqueue as virtio_ring.c lays it out and drives it.
struct Vring {
    index: u32,
    num: u16,
    desc: u64,
    avail: u64,
    used: u64,
    free_head: u16,
    avail_idx: u16,
    last_used: u16,
    event_idx: bool,
}

impl Vring {
    /// vring_init: desc, then avail (flags, idx, ring[num], used_event), then used at the
    /// next `align` boundary (flags, idx, ring[num] of {id, len}, avail_event).
    fn new(index: u32, num: u16, base: u64, event_idx: bool) -> Vring {
        let n = u64::from(num);
        let avail = base + 16 * n;
        let used = (avail + 4 + 2 * n + 2).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        Vring {
            index,
            num,
            desc: base,
            avail,
            used,
            free_head: 0,
            avail_idx: 0,
            last_used: 0,
            event_idx,
        }
    }
}

struct Driver {
    dev: VirtioMmio<Gpu>,
    mem: GuestMemoryMmap,
    ledger: Rc<RefCell<Ledger>>,
    irq: IrqLog,
    features: u64,
    ctrl: Option<Vring>,
    cursor: Option<Vring>,
    next_buf: u64,
}

fn machine() -> Driver {
    let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(RAM), RAM_SIZE as usize)]).expect("ram");
    let ledger = Rc::new(RefCell::new(Ledger::new()));
    let ctx = DmaContext {
        written: Default::default(),
        memory: mem.clone(),
        ledger: ledger.clone(),
        now: Rc::new(Cell::new(0)),
    };
    let irq = IrqLog::default();
    Driver {
        dev: VirtioMmio::new(
            Gpu::new(1024, 768),
            Dma::new(ctx, "/virtio_mmio@a000000"),
            mem.clone(),
            Box::new(irq.clone()),
        ),
        mem,
        ledger,
        irq,
        features: 0,
        ctrl: None,
        cursor: None,
        next_buf: RAM + 0x10_0000,
    }
}

impl Driver {
    fn add_status(&mut self, s: u32) {
        common::virtio::add_status(&mut self.dev, s);
    }

    fn has(&self, bit: u32) -> bool {
        self.features & (1 << bit) != 0
    }

    /// vm_probe + virtio_dev_probe up to virtio_features_ok, with the driver's feature
    /// table (virtgpu_drv.c features[]).
    fn probe(&mut self) {
        self.features = common::virtio::probe(
            &mut self.dev,
            16,
            &[
                VIRTIO_GPU_F_VIRGL,
                VIRTIO_GPU_F_EDID,
                VIRTIO_GPU_F_RESOURCE_UUID,
                VIRTIO_GPU_F_RESOURCE_BLOB,
                VIRTIO_GPU_F_CONTEXT_INIT,
                VIRTIO_GPU_F_BLOB_ALIGNMENT,
            ],
        );
    }

    /// vm_get_shm_region
    fn shm_region(&mut self, id: u32) -> Option<u64> {
        writel(&mut self.dev, id, SHM_SEL);
        let len = u64::from(readl(&mut self.dev, SHM_LEN_LOW))
            | (u64::from(readl(&mut self.dev, SHM_LEN_HIGH)) << 32);
        (len != u64::MAX).then_some(len)
    }

    /// virtio_cread_le of a u32 config field (vm_get, len 4) inside the generation loop.
    fn cread32(&mut self, off: u64) -> u32 {
        loop {
            let gen = readl(&mut self.dev, CONFIG_GENERATION);
            let v = readl(&mut self.dev, CONFIG + off);
            if readl(&mut self.dev, CONFIG_GENERATION) == gen {
                return v;
            }
        }
    }

    /// vm_setup_vq
    fn setup_vq(&mut self, index: u32, base: u64) -> Vring {
        assert!(!self.has(F_RING_PACKED), "this replay drives split rings");
        assert!(
            !self.has(F_NOTIFICATION_DATA),
            "vm_notify_with_data not replayed"
        );
        let event_idx = self.has(RING_F_EVENT_IDX);
        let d = &mut self.dev;
        writel(d, index, QUEUE_SEL);
        assert_eq!(readl(d, QUEUE_READY), 0, "queue already set up");
        let num = readl(d, QUEUE_NUM_MAX);
        assert_ne!(num, 0, "queue not available");
        let num = num.min(u32::from(u16::MAX)) as u16;
        assert!(
            num.is_power_of_two(),
            "split rings need a power-of-two size"
        );
        let vq = Vring::new(index, num, base, event_idx);
        // The ring memory is zeroed (dma_alloc_coherent); desc[i].next = i + 1 is only
        // the driver's free list, which this replay keeps in free_head.
        self.mem
            .write_slice(
                &vec![0u8; (vq.used + 6 + 8 * u64::from(num) - base) as usize],
                GuestAddress(base),
            )
            .expect("ring");
        writel(d, u32::from(num), QUEUE_NUM);
        writel(d, vq.desc as u32, QUEUE_DESC_LOW);
        writel(d, (vq.desc >> 32) as u32, QUEUE_DESC_HIGH);
        writel(d, vq.avail as u32, QUEUE_AVAIL_LOW);
        writel(d, (vq.avail >> 32) as u32, QUEUE_AVAIL_HIGH);
        writel(d, vq.used as u32, QUEUE_USED_LOW);
        writel(d, (vq.used >> 32) as u32, QUEUE_USED_HIGH);
        writel(d, 1, QUEUE_READY);
        vq
    }

    /// virtio_gpu_init up to the GET_DISPLAY_INFO reply; returns (num_scanouts, pmode 0).
    fn virtio_gpu_init(&mut self) -> (u32, [u32; 6]) {
        assert!(self.has(F_VERSION_1));
        assert!(
            !self.has(VIRTIO_GPU_F_VIRGL),
            "no virgl: foreign dma-bufs become blobs"
        );
        assert!(self.has(VIRTIO_GPU_F_RESOURCE_BLOB));
        assert!(!self.has(VIRTIO_GPU_F_BLOB_ALIGNMENT));
        assert_eq!(
            self.shm_region(VIRTIO_GPU_SHM_ID_HOST_VISIBLE),
            None,
            "-host_visible"
        );
        // virtio_gpu_find_vqs: "control", "cursor".
        self.ctrl = Some(self.setup_vq(0, RAM + 0x1_0000));
        self.cursor = Some(self.setup_vq(1, RAM + 0x2_0000));
        let num_scanouts = self.cread32(CONFIG_NUM_SCANOUTS);
        let num_capsets = self.cread32(CONFIG_NUM_CAPSETS);
        assert_eq!(num_capsets, 0, "no GET_CAPSET_INFO without virgl");
        self.add_status(DRIVER_OK); // virtio_device_ready
        assert!(self.dev.driver_ok());
        let resp = self.ctrl_cmd(&hdr(gpu::CMD_GET_DISPLAY_INFO, 0, 0), None, 24 + 16 * 24);
        assert_eq!(resp_type(&resp), gpu::RESP_OK_DISPLAY_INFO);
        let word =
            |i: usize| u32::from_le_bytes(resp[24 + 4 * i..28 + 4 * i].try_into().expect("u32"));
        (
            num_scanouts,
            [word(0), word(1), word(2), word(3), word(4), word(5)],
        )
    }

    fn alloc(&mut self, bytes: &[u8]) -> u64 {
        let at = self.next_buf;
        self.mem
            .write_slice(bytes, GuestAddress(at))
            .expect("buffer");
        self.next_buf += (bytes.len() as u64).div_ceil(64) * 64 + 64;
        at
    }

    /// virtqueue_add_sgs (no indirect descriptors) + virtqueue_kick: returns the head.
    fn add_sgs(&mut self, ctrl: bool, out: &[(u64, u32)], inb: &[(u64, u32)]) -> u16 {
        let mem = self.mem.clone();
        let vq = if ctrl {
            self.ctrl.as_mut()
        } else {
            self.cursor.as_mut()
        }
        .expect("vq");
        let n = u64::from(vq.num);
        let head = vq.free_head;
        let total = out.len() + inb.len();
        let mut i = head;
        for (k, &(addr, len)) in out.iter().chain(inb).enumerate() {
            let d = vq.desc + 16 * u64::from(i);
            let mut flags = if k >= out.len() {
                VRING_DESC_F_WRITE
            } else {
                0
            };
            let next = (i + 1) % vq.num;
            if k + 1 < total {
                flags |= VRING_DESC_F_NEXT;
            }
            mem.write_obj(addr, GuestAddress(d)).expect("addr");
            mem.write_obj(len, GuestAddress(d + 8)).expect("len");
            mem.write_obj(flags, GuestAddress(d + 12)).expect("flags");
            mem.write_obj(next, GuestAddress(d + 14)).expect("next");
            i = next;
        }
        vq.free_head = i;
        let slot = u64::from(vq.avail_idx) % n;
        mem.write_obj(head, GuestAddress(vq.avail + 4 + 2 * slot))
            .expect("ring");
        let old = vq.avail_idx;
        vq.avail_idx = vq.avail_idx.wrapping_add(1);
        mem.write_obj(vq.avail_idx, GuestAddress(vq.avail + 2))
            .expect("idx");
        // virtqueue_kick_prepare_split
        let kick = if vq.event_idx {
            let event: u16 = mem
                .read_obj(GuestAddress(vq.used + 4 + 8 * n))
                .expect("avail_event");
            vq.avail_idx.wrapping_sub(event).wrapping_sub(1) < vq.avail_idx.wrapping_sub(old)
        } else {
            let flags: u16 = mem.read_obj(GuestAddress(vq.used)).expect("used flags");
            flags & VRING_USED_F_NO_NOTIFY == 0
        };
        let index = vq.index;
        if kick {
            writel(&mut self.dev, index, QUEUE_NOTIFY); // vm_notify
        }
        head
    }

    /// vm_interrupt then vring_interrupt/virtqueue_get_buf_ctx_split on `ctrl` or cursor:
    /// returns the used (id, len) entries.
    fn interrupt(&mut self, ctrl: bool) -> Vec<(u32, u32)> {
        assert!(self.irq.level(), "the device interrupted");
        let status = readl(&mut self.dev, INTERRUPT_STATUS);
        writel(&mut self.dev, status, INTERRUPT_ACK);
        assert_eq!(status & INT_CONFIG, 0);
        assert_ne!(status & INT_VRING, 0);
        assert!(!self.irq.level(), "acked");
        let mem = self.mem.clone();
        let vq = if ctrl {
            self.ctrl.as_mut()
        } else {
            self.cursor.as_mut()
        }
        .expect("vq");
        let n = u64::from(vq.num);
        let used_idx: u16 = mem.read_obj(GuestAddress(vq.used + 2)).expect("used idx");
        let mut got = Vec::new();
        while vq.last_used != used_idx {
            let e = vq.used + 4 + 8 * (u64::from(vq.last_used) % n);
            let id: u32 = mem.read_obj(GuestAddress(e)).expect("id");
            let len: u32 = mem.read_obj(GuestAddress(e + 4)).expect("len");
            assert!(id < u32::from(vq.num), "used id {id} out of range");
            got.push((id, len));
            vq.last_used = vq.last_used.wrapping_add(1);
        }
        if vq.event_idx {
            // virtqueue_enable_cb_prepare: used_event = last_used_idx.
            mem.write_obj(vq.last_used, GuestAddress(vq.avail + 4 + 2 * n))
                .expect("used_event");
        }
        got
    }

    /// virtio_gpu_queue_ctrl_sgs: command (+ data) out, response in; the reply.
    fn ctrl_cmd(&mut self, cmd: &[u8], data: Option<&[u8]>, resp_size: u32) -> Vec<u8> {
        let c = self.alloc(cmd);
        let mut out = vec![(c, cmd.len() as u32)];
        if let Some(data) = data {
            let a = self.alloc(data);
            out.push((a, data.len() as u32));
        }
        let r = self.alloc(&vec![0u8; resp_size as usize]);
        let head = self.add_sgs(true, &out, &[(r, resp_size)]);
        let used = self.interrupt(true);
        assert_eq!(used.len(), 1);
        assert_eq!(used[0].0, u32::from(head));
        let mut resp = vec![0u8; resp_size as usize];
        self.mem
            .read_slice(&mut resp, GuestAddress(r))
            .expect("resp");
        resp
    }
}

fn hdr(cmd: u32, flags: u32, fence: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(24);
    v.extend_from_slice(&cmd.to_le_bytes());
    v.extend_from_slice(&flags.to_le_bytes());
    v.extend_from_slice(&fence.to_le_bytes());
    v.extend_from_slice(&[0u8; 8]); // ctx_id, ring_idx, padding
    v
}

fn resp_type(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().expect("4 bytes"))
}

fn le(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn probe_and_init_get_the_display_info_linux_waits_for() {
    let mut d = machine();
    d.probe();
    let (num_scanouts, pmode) = d.virtio_gpu_init();
    assert_eq!(num_scanouts, 1);
    // struct virtio_gpu_display_one: r {x, y, width, height}, enabled, flags.
    assert_eq!(pmode, [0, 0, 1024, 768, 1, 0]);
    let ctrl = d.ctrl.as_ref().expect("ctrl");
    assert_eq!(
        ctrl.used - ctrl.desc,
        2 * PAGE_SIZE,
        "256 entries: used ring on page 2"
    );
}

#[test]
fn prime_import_addfb_setcrtc_sends_the_heap_scatter_list_and_flushes_with_a_fence() {
    let mut d = machine();
    d.probe();
    d.virtio_gpu_init();
    // A system-heap dma-buf of 1024x768x4 = 3 MiB in three scattered chunks.
    let chunks: [(u64, u32); 3] = [
        (RAM + 0x40_0000, 0x10_0000),
        (RAM + 0x20_0000, 0x18_0000),
        (RAM + 0x60_0000, 0x8_0000),
    ];
    let size: u64 = chunks.iter().map(|c| u64::from(c.1)).sum();
    // virtgpu_dma_buf_init_obj -> virtio_gpu_cmd_resource_create_blob: the command, then
    // the entries as a separate out buffer (vbuf->data_buf).
    let mut cmd = hdr(gpu::CMD_RESOURCE_CREATE_BLOB, 0, 0);
    cmd.extend(le(&[
        1, // resource_id (virtio_gpu_resource_id_get: ida from 0, +1)
        VIRTIO_GPU_BLOB_MEM_GUEST,
        VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
        chunks.len() as u32,
    ]));
    cmd.extend(0u64.to_le_bytes()); // blob_id
    cmd.extend(size.to_le_bytes());
    assert_eq!(
        cmd.len(),
        56,
        "sizeof(struct virtio_gpu_resource_create_blob)"
    );
    let ents: Vec<u8> = chunks
        .iter()
        .flat_map(|&(a, l)| {
            let mut e = a.to_le_bytes().to_vec();
            e.extend(l.to_le_bytes());
            e.extend(0u32.to_le_bytes());
            e
        })
        .collect();
    let resp = d.ctrl_cmd(&cmd, Some(&ents), 24);
    assert_eq!(resp_type(&resp), gpu::RESP_OK_NODATA);

    // virtio_gpu_primary_plane_update for a guest blob that is not dumb: no transfer,
    // SET_SCANOUT_BLOB (fb changed), then virtio_gpu_resource_flush with the plane fence.
    let mut scan = hdr(gpu::CMD_SET_SCANOUT_BLOB, 0, 0);
    scan.extend(le(&[0, 0, 1024, 768])); // r
    scan.extend(le(&[0, 1, 1024, 768, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 0])); // scanout_id, resource_id, width, height, format, padding
    scan.extend(le(&[4096, 0, 0, 0])); // strides (fb->pitches)
    scan.extend(le(&[0, 0, 0, 0])); // offsets
    assert_eq!(scan.len(), 96, "sizeof(struct virtio_gpu_set_scanout_blob)");
    assert_eq!(resp_type(&d.ctrl_cmd(&scan, None, 24)), gpu::RESP_OK_NODATA);
    let scanout = d.dev.device.scanout().expect("blob on scanout 0");
    assert_eq!((scanout.id, scanout.width, scanout.height), (1, 1024, 768));

    let mut flush = hdr(gpu::CMD_RESOURCE_FLUSH, VIRTIO_GPU_FLAG_FENCE, 7);
    flush.extend(le(&[0, 0, 1024, 768, 1, 0])); // r, resource_id, padding
    let resp = d.ctrl_cmd(&flush, None, 24);
    assert_eq!(resp_type(&resp), gpu::RESP_OK_NODATA);
    // virtio_gpu_dequeue_ctrl_func signals the fence from the response header.
    assert_eq!(
        u32::from_le_bytes(resp[4..8].try_into().expect("flags")) & VIRTIO_GPU_FLAG_FENCE,
        VIRTIO_GPU_FLAG_FENCE
    );
    assert_eq!(
        u64::from_le_bytes(resp[8..16].try_into().expect("fence")),
        7
    );

    let ledger = d.ledger.borrow();
    let buf = ledger
        .records()
        .iter()
        .find(|r| r.purpose == Purpose::Buffer)
        .expect("the imported buffer is in the ledger");
    assert_eq!(
        buf.segments,
        chunks
            .iter()
            .map(|&(base, l)| Range {
                base,
                size: u64::from(l)
            })
            .collect::<Vec<_>>()
    );
    assert!(d.dev.errors.is_empty(), "{:?}", d.dev.errors);
    assert!(d.dev.device.unknown_commands.is_empty());
}

#[test]
fn teardown_detaches_then_unrefs_and_nofb_clears_the_scanout() {
    let mut d = machine();
    d.probe();
    d.virtio_gpu_init();
    let mut cmd = hdr(gpu::CMD_RESOURCE_CREATE_BLOB, 0, 0);
    cmd.extend(le(&[
        1,
        VIRTIO_GPU_BLOB_MEM_GUEST,
        VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
        1,
    ]));
    cmd.extend(0u64.to_le_bytes());
    cmd.extend(0x1000u64.to_le_bytes());
    let mut ent = (RAM + 0x40_0000).to_le_bytes().to_vec();
    ent.extend(le(&[0x1000, 0]));
    assert_eq!(
        resp_type(&d.ctrl_cmd(&cmd, Some(&ent), 24)),
        gpu::RESP_OK_NODATA
    );
    // Plane disabled: virtio_gpu_cmd_set_scanout(output, 0, ...) ("nofb").
    let mut nofb = hdr(gpu::CMD_SET_SCANOUT, 0, 0);
    nofb.extend(le(&[0, 0, 1024, 768, 0, 0]));
    assert_eq!(resp_type(&d.ctrl_cmd(&nofb, None, 24)), gpu::RESP_OK_NODATA);
    assert!(d.dev.device.scanout().is_none());
    // virtgpu_dma_buf_unmap -> virtio_gpu_detach_object_fenced, then UNREF on free.
    let mut detach = hdr(gpu::CMD_RESOURCE_DETACH_BACKING, VIRTIO_GPU_FLAG_FENCE, 9);
    detach.extend(le(&[1, 0]));
    assert_eq!(
        resp_type(&d.ctrl_cmd(&detach, None, 24)),
        gpu::RESP_OK_NODATA
    );
    let mut unref = hdr(gpu::CMD_RESOURCE_UNREF, 0, 0);
    unref.extend(le(&[1, 0]));
    assert_eq!(
        resp_type(&d.ctrl_cmd(&unref, None, 24)),
        gpu::RESP_OK_NODATA
    );
    assert!(d.dev.device.resources().is_empty());
}

#[test]
fn cursor_commands_have_no_reply_buffer() {
    let mut d = machine();
    d.probe();
    d.virtio_gpu_init();
    // virtio_gpu_queue_cursor: one out sg, no in sg (struct virtio_gpu_update_cursor).
    let mut cur = hdr(gpu::CMD_MOVE_CURSOR, 0, 0);
    cur.extend(le(&[0, 10, 20, 0, 1, 0, 0, 0])); // pos {scanout, x, y, pad}, resource, hot, pad
    let a = d.alloc(&cur);
    d.add_sgs(false, &[(a, cur.len() as u32)], &[]);
    assert_eq!(d.interrupt(false), [(0, 0)], "used with nothing written");
    assert!(d.dev.errors.is_empty(), "{:?}", d.dev.errors);
}

#[test]
fn many_commands_wrap_the_ring() {
    // 300 GET_DISPLAY_INFO round trips: avail/used indices and descriptors wrap at 256.
    let mut d = machine();
    d.probe();
    d.virtio_gpu_init();
    for _ in 0..300 {
        d.next_buf = RAM + 0x10_0000;
        let resp = d.ctrl_cmd(&hdr(gpu::CMD_GET_DISPLAY_INFO, 0, 0), None, 408);
        assert_eq!(resp_type(&resp), gpu::RESP_OK_DISPLAY_INFO);
    }
    assert!(d.dev.errors.is_empty(), "{:?}", d.dev.errors);
}
