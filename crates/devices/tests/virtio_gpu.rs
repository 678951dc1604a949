//! virtio-gpu over virtio-mmio, driven the way Linux's virtio_mmio and virtio-gpu drivers
//! drive it: feature negotiation, queue setup in guest memory, commands, used ring.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use board::Range;
use devices::dma::{Dma, DmaContext};
use devices::virtio::gpu::{self, Gpu};
use devices::virtio::mmio::VirtioMmio;
use devices::{IrqLog, MmioDevice};
use ledger::{Ledger, Purpose};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

const RAM: u64 = 0x4000_0000;
const DESC: u64 = RAM + 0x1000;
const AVAIL: u64 = RAM + 0x2000;
const USED: u64 = RAM + 0x3000;
const CMD: u64 = RAM + 0x10000;
const RESP: u64 = RAM + 0x20000;

struct Rig {
    dev: VirtioMmio<Gpu>,
    mem: GuestMemoryMmap,
    ledger: Rc<RefCell<Ledger>>,
    written: Rc<RefCell<devices::dma::WrittenRanges>>,
    irq: IrqLog,
    avail_idx: u16,
}

fn w(d: &mut dyn MmioDevice, off: u64, v: u32) {
    d.write(off, &v.to_le_bytes());
}

fn r(d: &mut dyn MmioDevice, off: u64) -> u32 {
    let mut b = [0u8; 4];
    d.read(off, &mut b);
    u32::from_le_bytes(b)
}

fn rig() -> Rig {
    let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(RAM), 0x40_0000)]).expect("ram");
    let ledger = Rc::new(RefCell::new(Ledger::new()));
    let written: Rc<RefCell<devices::dma::WrittenRanges>> = Rc::default();
    let ctx = DmaContext {
        written: written.clone(),
        memory: mem.clone(),
        ledger: ledger.clone(),
        now: Rc::new(Cell::new(0)),
    };
    let irq = IrqLog::default();
    let dev = VirtioMmio::new(
        Gpu::new(1024, 768),
        Dma::new(ctx, "/virtio_mmio@a000000"),
        mem.clone(),
        Box::new(irq.clone()),
    );
    Rig {
        dev,
        mem,
        ledger,
        written,
        irq,
        avail_idx: 0,
    }
}

/// virtio_mmio's probe and virtio-gpu's find_vqs for queue 0.
fn bring_up(rig: &mut Rig) {
    let d = &mut rig.dev;
    w(d, 0x070, 0);
    w(d, 0x070, 1 | 2);
    w(d, 0x024, 1);
    w(d, 0x020, 1); // VERSION_1
    w(d, 0x024, 0);
    w(d, 0x020, 1 << 3); // RESOURCE_BLOB
    w(d, 0x070, 1 | 2 | 8);
    assert_ne!(r(d, 0x070) & 8, 0, "FEATURES_OK accepted");
    w(d, 0x030, 0);
    assert_eq!(r(d, 0x034), 256);
    w(d, 0x038, 8);
    w(d, 0x080, DESC as u32);
    w(d, 0x084, 0);
    w(d, 0x090, AVAIL as u32);
    w(d, 0x094, 0);
    w(d, 0x0a0, USED as u32);
    w(d, 0x0a4, 0);
    w(d, 0x044, 1);
    w(d, 0x070, 1 | 2 | 8 | 4);
    assert!(rig.dev.driver_ok());
}

/// Submits `cmd` as a two-descriptor chain (command, then a 1 KiB response buffer) and
/// returns the response bytes.
fn submit(rig: &mut Rig, cmd: &[u8]) -> Vec<u8> {
    let m = &rig.mem;
    m.write_slice(cmd, GuestAddress(CMD)).expect("cmd");
    m.write_obj(CMD, GuestAddress(DESC)).expect("d0 addr");
    m.write_obj(cmd.len() as u32, GuestAddress(DESC + 8))
        .expect("d0 len");
    m.write_obj(1u16, GuestAddress(DESC + 12))
        .expect("d0 flags NEXT");
    m.write_obj(1u16, GuestAddress(DESC + 14)).expect("d0 next");
    m.write_obj(RESP, GuestAddress(DESC + 16)).expect("d1 addr");
    m.write_obj(1024u32, GuestAddress(DESC + 24))
        .expect("d1 len");
    m.write_obj(2u16, GuestAddress(DESC + 28))
        .expect("d1 flags WRITE");
    let slot = u64::from(rig.avail_idx % 8);
    m.write_obj(0u16, GuestAddress(AVAIL + 4 + 2 * slot))
        .expect("ring");
    rig.avail_idx = rig.avail_idx.wrapping_add(1);
    m.write_obj(rig.avail_idx, GuestAddress(AVAIL + 2))
        .expect("avail idx");
    w(&mut rig.dev, 0x050, 0);
    let used_idx: u16 = m.read_obj(GuestAddress(USED + 2)).expect("used idx");
    assert_eq!(used_idx, rig.avail_idx, "request completed");
    let len: u32 = m
        .read_obj(GuestAddress(
            USED + 4 + 8 * u64::from((used_idx - 1) % 8) + 4,
        ))
        .expect("len");
    let mut out = vec![0u8; len as usize];
    m.read_slice(&mut out, GuestAddress(RESP)).expect("resp");
    out
}

fn hdr(cmd: u32) -> Vec<u8> {
    let mut v = vec![0u8; 24];
    v[..4].copy_from_slice(&cmd.to_le_bytes());
    v
}

fn resp_type(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().expect("4 bytes"))
}

#[test]
fn identifies_as_a_virtio_1_gpu_offering_blobs() {
    let mut rig = rig();
    let d = &mut rig.dev;
    assert_eq!(r(d, 0x000), 0x7472_6976);
    assert_eq!(r(d, 0x004), 2);
    assert_eq!(r(d, 0x008), 16);
    w(d, 0x014, 0);
    assert_ne!(r(d, 0x010) & (1 << 3), 0, "VIRTIO_GPU_F_RESOURCE_BLOB");
    w(d, 0x014, 1);
    assert_eq!(r(d, 0x010) & 1, 1, "VIRTIO_F_VERSION_1");
    assert_eq!(r(d, 0x0b0), u32::MAX, "no shared memory region");
    assert_eq!(r(d, 0x100 + 8), 1, "one scanout");
}

#[test]
fn a_driver_without_version_1_is_refused() {
    let mut rig = rig();
    let d = &mut rig.dev;
    w(d, 0x070, 1 | 2);
    w(d, 0x024, 0);
    w(d, 0x020, 1 << 3);
    w(d, 0x070, 1 | 2 | 8);
    assert_eq!(r(d, 0x070) & 8, 0);
    assert_ne!(r(d, 0x070) & 0x80, 0, "FAILED");
}

#[test]
fn display_info_reports_the_scanout_and_raises_the_interrupt() {
    let mut rig = rig();
    bring_up(&mut rig);
    let resp = submit(&mut rig, &hdr(gpu::CMD_GET_DISPLAY_INFO));
    assert_eq!(resp_type(&resp), gpu::RESP_OK_DISPLAY_INFO);
    assert_eq!(
        u32::from_le_bytes(resp[24 + 8..24 + 12].try_into().expect("w")),
        1024
    );
    assert!(rig.irq.level());
    assert!(
        rig.written.borrow().ranges.iter().any(|r| r.base == RESP),
        "the response the device wrote is reported for the CPU's code cache"
    );
    w(&mut rig.dev, 0x064, 1);
    assert!(!rig.irq.level());
}

#[test]
fn an_imported_blob_records_its_scatter_list_in_the_ledger() {
    let mut rig = rig();
    bring_up(&mut rig);
    let segs = [
        (RAM + 0x10_0000, 0x1000u32),
        (RAM + 0x30_0000, 0x2000),
        (RAM + 0x20_0000, 0x1000),
    ];
    let mut cmd = hdr(gpu::CMD_RESOURCE_CREATE_BLOB);
    cmd.extend_from_slice(&7u32.to_le_bytes()); // resource id
    cmd.extend_from_slice(&1u32.to_le_bytes()); // BLOB_MEM_GUEST
    cmd.extend_from_slice(&2u32.to_le_bytes()); // USE_SHAREABLE
    cmd.extend_from_slice(&(segs.len() as u32).to_le_bytes());
    cmd.extend_from_slice(&0u64.to_le_bytes()); // blob id
    cmd.extend_from_slice(&0x4000u64.to_le_bytes()); // size
    for (addr, len) in segs {
        cmd.extend_from_slice(&addr.to_le_bytes());
        cmd.extend_from_slice(&len.to_le_bytes());
        cmd.extend_from_slice(&0u32.to_le_bytes());
    }
    let resp = submit(&mut rig, &cmd);
    assert_eq!(resp_type(&resp), gpu::RESP_OK_NODATA);
    assert_eq!(rig.dev.device.resources()[0].backing.len(), 3);
    let ledger = rig.ledger.borrow();
    let buf = ledger
        .records()
        .iter()
        .find(|r| r.purpose == Purpose::Buffer)
        .expect("the blob was recorded");
    assert_eq!(buf.buffer, "blob resource 7");
    assert_eq!(
        buf.segments[1],
        Range {
            base: RAM + 0x30_0000,
            size: 0x2000
        }
    );
    assert!(!buf.contiguous());
    assert!(ledger
        .records()
        .iter()
        .any(|r| r.buffer == "virtqueue descriptors"));
}

#[test]
fn transfer_reads_the_backing_and_bad_ids_are_errors() {
    let mut rig = rig();
    bring_up(&mut rig);
    let mut create = hdr(gpu::CMD_RESOURCE_CREATE_2D);
    for v in [3u32, 1, 16, 16] {
        create.extend_from_slice(&v.to_le_bytes());
    }
    assert_eq!(resp_type(&submit(&mut rig, &create)), gpu::RESP_OK_NODATA);
    assert_eq!(
        resp_type(&submit(&mut rig, &create)),
        gpu::RESP_ERR_INVALID_RESOURCE_ID,
        "duplicate id"
    );
    let mut attach = hdr(gpu::CMD_RESOURCE_ATTACH_BACKING);
    attach.extend_from_slice(&3u32.to_le_bytes());
    attach.extend_from_slice(&1u32.to_le_bytes());
    attach.extend_from_slice(&(RAM + 0x5_0000).to_le_bytes());
    attach.extend_from_slice(&1024u32.to_le_bytes());
    attach.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(resp_type(&submit(&mut rig, &attach)), gpu::RESP_OK_NODATA);
    let mut xfer = hdr(gpu::CMD_TRANSFER_TO_HOST_2D);
    xfer.extend_from_slice(&[0u8; 16]);
    xfer.extend_from_slice(&0u64.to_le_bytes());
    xfer.extend_from_slice(&3u32.to_le_bytes());
    xfer.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(resp_type(&submit(&mut rig, &xfer)), gpu::RESP_OK_NODATA);
    let bad = {
        let mut x = xfer.clone();
        x[24 + 24..24 + 28].copy_from_slice(&99u32.to_le_bytes());
        x
    };
    assert_eq!(
        resp_type(&submit(&mut rig, &bad)),
        gpu::RESP_ERR_INVALID_RESOURCE_ID
    );
    let transfers = rig
        .ledger
        .borrow()
        .records()
        .iter()
        .filter(|r| r.buffer == "resource 3")
        .map(|r| r.count)
        .sum::<u64>();
    assert_eq!(transfers, 2, "attach gave the buffer, the transfer read it");
}

#[test]
fn a_request_claiming_gigabytes_is_refused_without_allocating_them() {
    let mut rig = rig();
    bring_up(&mut rig);
    let m = &rig.mem;
    m.write_obj(CMD, GuestAddress(DESC)).expect("d0 addr");
    m.write_obj(0x8000_0000u32, GuestAddress(DESC + 8))
        .expect("d0 len: 2 GiB");
    m.write_obj(0u16, GuestAddress(DESC + 12))
        .expect("d0 flags");
    m.write_obj(0u16, GuestAddress(AVAIL + 4)).expect("ring");
    m.write_obj(1u16, GuestAddress(AVAIL + 2))
        .expect("avail idx");
    w(&mut rig.dev, 0x050, 0);
    let used_idx: u16 = rig.mem.read_obj(GuestAddress(USED + 2)).expect("used idx");
    assert_eq!(used_idx, 1, "the request is completed, empty");
    assert!(
        rig.dev.errors.iter().any(|e| e.contains("exceeds")),
        "{:?}",
        rig.dev.errors
    );
}

// ---- a hostile guest --------------------------------------------------------------------

#[test]
fn a_notify_loop_cannot_grow_the_hosts_error_log() {
    let mut rig = rig();
    bring_up(&mut rig);
    for _ in 0..100_000 {
        w(&mut rig.dev, 0x050, 7); // a queue that does not exist
    }
    assert_eq!(rig.dev.errors.len(), devices::virtio::mmio::MAX_ERRORS);
    assert_eq!(
        rig.dev.errors_dropped,
        100_000 - devices::virtio::mmio::MAX_ERRORS as u64
    );
}

fn create_2d(rig: &mut Rig, id: u32, w: u32, h: u32) -> u32 {
    let mut cmd = hdr(gpu::CMD_RESOURCE_CREATE_2D);
    for v in [id, 1, w, h] {
        cmd.extend_from_slice(&v.to_le_bytes());
    }
    resp_type(&submit(rig, &cmd))
}

#[test]
fn a_2d_resource_whose_size_overflows_64_bits_is_refused() {
    let mut rig = rig();
    bring_up(&mut rig);
    // u32::MAX * u32::MAX * 4 wraps a u64 to a small number: it must not be accepted.
    assert_eq!(
        create_2d(&mut rig, 1, u32::MAX, u32::MAX),
        gpu::RESP_ERR_OUT_OF_MEMORY
    );
    assert_eq!(
        create_2d(&mut rig, 2, 0x8000_0000, 2),
        gpu::RESP_ERR_OUT_OF_MEMORY
    );
    assert!(rig.dev.device.resources().is_empty());
    assert_eq!(create_2d(&mut rig, 3, 64, 64), gpu::RESP_OK_NODATA);
}

#[test]
fn backing_entries_are_bounded_over_all_resources() {
    // The host keeps every entry a guest attaches: 16 bytes each, whatever the guest
    // claims they hold. One request carries up to 64 Ki entries (1 MiB).
    let mut rig = rig();
    bring_up(&mut rig);
    let per = 0x1_0000u32;
    let attach = |rig: &mut Rig, id: u32| {
        let mut cmd = hdr(gpu::CMD_RESOURCE_ATTACH_BACKING);
        cmd.extend_from_slice(&id.to_le_bytes());
        cmd.extend_from_slice(&per.to_le_bytes());
        for i in 0..u64::from(per) {
            cmd.extend_from_slice(&(RAM + (i % 256) * 0x1000).to_le_bytes());
            cmd.extend_from_slice(&0x1000u32.to_le_bytes());
            cmd.extend_from_slice(&0u32.to_le_bytes());
        }
        resp_type(&submit(rig, &cmd))
    };
    let fits = gpu::MAX_BACKING_ENTRIES / per as usize;
    for id in 1..=fits as u32 + 1 {
        assert_eq!(create_2d(&mut rig, id, 16, 16), gpu::RESP_OK_NODATA);
        let want = if id as usize <= fits {
            gpu::RESP_OK_NODATA
        } else {
            gpu::RESP_ERR_OUT_OF_MEMORY
        };
        assert_eq!(attach(&mut rig, id), want, "resource {id}");
    }
    // Attaching again to a resource replaces its entries: still within the bound.
    assert_eq!(attach(&mut rig, 1), gpu::RESP_OK_NODATA);
    let held: usize = rig
        .dev
        .device
        .resources()
        .iter()
        .map(|r| r.backing.len())
        .sum();
    assert_eq!(held, gpu::MAX_BACKING_ENTRIES);
}
