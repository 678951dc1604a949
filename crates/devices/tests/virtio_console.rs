//! virtio-console over virtio-mmio, driven the way Linux 7.3 drives it: drivers/virtio/
//! virtio_mmio.c (vm_probe, vm_get_features/vm_finalize_features, vm_setup_vq, vm_notify,
//! vm_interrupt, vm_del_vq), virtio.c (virtio_dev_probe's status handshake), virtio_ring.c
//! (split ring: vring_init layout, the descriptor free list, virtqueue_add_split,
//! virtqueue_kick_prepare_split, virtqueue_get_buf_ctx_split/detach_buf_split) and
//! drivers/char/virtio_console.c (virtcons_probe, init_vqs, add_port's fill_queue of
//! PAGE_SIZE receive buffers, put_chars spinning on the used ring, in_intr and
//! get_chars/fill_readbuf re-posting a consumed buffer).

mod common;

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;

use board::Range;
use common::virtio::*;
use common::{readb, readl, readw, writel};
use devices::dma::{Dma, DmaContext, WrittenRanges};
use devices::virtio::console::{self, Console};
use devices::virtio::mmio::{self, VirtioMmio};
use devices::IrqLog;
use ledger::{Direction, Ledger, Purpose};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

// include/uapi/linux/virtio_ids.h, virtio_console.h
const VIRTIO_ID_CONSOLE: u32 = 3;
const VIRTIO_CONSOLE_F_SIZE: u32 = 0;
const VIRTIO_CONSOLE_F_MULTIPORT: u32 = 1;
const VIRTIO_CONSOLE_F_EMERG_WRITE: u32 = 2;
// struct virtio_console_config { cols, rows, max_nr_ports, emerg_wr }
const CONFIG_COLS: u64 = 0;
const CONFIG_ROWS: u64 = 2;
const CONFIG_MAX_NR_PORTS: u64 = 4;
const CONFIG_EMERG_WR: u64 = 8;

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 0x80_0000;
const IN_VQ: usize = 0;
const OUT_VQ: usize = 1;

/// The host side of the console: every byte written, and how much of it was flushed.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<SinkLog>>);

#[derive(Default)]
struct SinkLog {
    bytes: Vec<u8>,
    flushed: usize,
    flushes: usize,
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut log = self.0.borrow_mut();
        log.flushed = log.bytes.len();
        log.flushes += 1;
        Ok(())
    }
}

impl Sink {
    fn bytes(&self) -> Vec<u8> {
        self.0.borrow().bytes.clone()
    }

    /// Whether everything written so far was flushed.
    fn all_flushed(&self) -> bool {
        let log = self.0.borrow();
        log.flushed == log.bytes.len()
    }

    fn flushes(&self) -> usize {
        self.0.borrow().flushes
    }
}

/// One split virtqueue as virtio_ring.c lays it out and drives it.
struct Vring {
    index: u32,
    num: u16,
    desc: u64,
    avail: u64,
    used: u64,
    /// desc_extra[i].next: the driver's own copy of the free list and chains.
    next: Vec<u16>,
    free_head: u16,
    num_free: u16,
    avail_idx: u16,
    last_used: u16,
    /// Per head: the token (buffer address) and the chain's length.
    data: Vec<Option<(u64, u16)>>,
}

impl Vring {
    /// vring_init: desc, then avail (flags, idx, ring[num], used_event), then used at the
    /// next page boundary (flags, idx, ring[num] of {id, len}, avail_event).
    fn new(index: u32, num: u16, base: u64) -> Vring {
        let n = u64::from(num);
        let avail = base + 16 * n;
        let used = (avail + 4 + 2 * n + 2).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        Vring {
            index,
            num,
            desc: base,
            avail,
            used,
            next: (0..num).map(|i| i.wrapping_add(1) % num).collect(),
            free_head: 0,
            num_free: num,
            avail_idx: 0,
            last_used: 0,
            data: vec![None; usize::from(num)],
        }
    }
}

struct Driver {
    dev: VirtioMmio<Console>,
    mem: GuestMemoryMmap,
    ledger: Rc<RefCell<Ledger>>,
    written: Rc<RefCell<WrittenRanges>>,
    irq: IrqLog,
    out: Sink,
    features: u64,
    vqs: Vec<Vring>,
    next_buf: u64,
}

fn machine() -> Driver {
    let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(RAM), RAM_SIZE as usize)]).expect("ram");
    let ledger = Rc::new(RefCell::new(Ledger::new()));
    let written: Rc<RefCell<WrittenRanges>> = Rc::default();
    let ctx = DmaContext {
        written: written.clone(),
        memory: mem.clone(),
        ledger: ledger.clone(),
        now: Rc::new(Cell::new(0)),
    };
    let irq = IrqLog::default();
    let out = Sink::default();
    Driver {
        dev: VirtioMmio::new(
            Console::new(Box::new(out.clone())),
            Dma::new(ctx, "/virtio_mmio@a000000"),
            mem.clone(),
            Box::new(irq.clone()),
        ),
        mem,
        ledger,
        written,
        irq,
        out,
        features: 0,
        vqs: Vec::new(),
        next_buf: RAM + 0x20_0000,
    }
}

impl Driver {
    fn add_status(&mut self, s: u32) {
        common::virtio::add_status(&mut self.dev, s);
    }

    fn has(&self, bit: u32) -> bool {
        self.features & (1 << bit) != 0
    }

    /// vm_probe + virtio_dev_probe up to virtio_features_ok, with virtio_console.c's
    /// features[].
    fn probe(&mut self) {
        self.features = common::virtio::probe(
            &mut self.dev,
            VIRTIO_ID_CONSOLE,
            &[VIRTIO_CONSOLE_F_SIZE, VIRTIO_CONSOLE_F_MULTIPORT],
        );
    }

    /// vm_setup_vq
    fn setup_vq(&mut self, index: u32, base: u64) -> Vring {
        assert!(!self.has(F_RING_PACKED) && !self.has(F_NOTIFICATION_DATA));
        assert!(!self.has(RING_F_EVENT_IDX) && !self.has(RING_F_INDIRECT_DESC));
        let d = &mut self.dev;
        writel(d, index, QUEUE_SEL);
        assert_eq!(readl(d, QUEUE_READY), 0, "queue already set up");
        let num = readl(d, QUEUE_NUM_MAX);
        assert_ne!(num, 0, "queue not available");
        let num = num.min(u32::from(u16::MAX)) as u16;
        assert!(num.is_power_of_two());
        let vq = Vring::new(index, num, base);
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

    /// virtcons_probe without multiport: init_vqs ("input", "output"), then
    /// virtio_device_ready. No config field is read: neither F_SIZE nor F_MULTIPORT.
    fn virtcons_probe_vqs(&mut self) {
        assert!(!self.has(VIRTIO_CONSOLE_F_MULTIPORT), "max_nr_ports = 1");
        assert!(!self.has(VIRTIO_CONSOLE_F_SIZE));
        self.vqs = vec![
            self.setup_vq(0, RAM + 0x1_0000),
            self.setup_vq(1, RAM + 0x2_0000),
        ];
        self.add_status(DRIVER_OK);
        assert!(self.dev.driver_ok());
    }

    /// add_port(portdev, 0) -> fill_queue(in_vq): PAGE_SIZE buffers until the ring is
    /// full; returns the buffers' addresses.
    fn fill_queue(&mut self) -> Vec<u64> {
        let mut bufs = Vec::new();
        loop {
            let b = self.alloc_zeroed(PAGE_SIZE);
            self.add(IN_VQ, &[], &[(b, PAGE_SIZE as u32)], b);
            bufs.push(b);
            if self.vqs[IN_VQ].num_free == 0 {
                return bufs;
            }
        }
    }

    /// The whole probe: vm_probe, virtcons_probe, add_port.
    fn bring_up(&mut self) -> Vec<u64> {
        self.probe();
        self.virtcons_probe_vqs();
        self.fill_queue()
    }

    fn alloc(&mut self, bytes: &[u8]) -> u64 {
        let at = self.next_buf;
        self.mem
            .write_slice(bytes, GuestAddress(at))
            .expect("buffer");
        self.next_buf += (bytes.len() as u64).div_ceil(64) * 64 + 64;
        at
    }

    fn alloc_zeroed(&mut self, len: u64) -> u64 {
        self.alloc(&vec![0u8; len as usize])
    }

    /// virtqueue_add_split (direct descriptors) + virtqueue_kick: returns the head.
    fn add(&mut self, q: usize, out: &[(u64, u32)], inb: &[(u64, u32)], token: u64) -> u16 {
        let mem = self.mem.clone();
        let vq = &mut self.vqs[q];
        let total = out.len() + inb.len();
        assert!(total <= usize::from(vq.num_free), "ring full");
        let head = vq.free_head;
        let mut i = head;
        for (k, &(addr, len)) in out.iter().chain(inb).enumerate() {
            let d = vq.desc + 16 * u64::from(i);
            let mut flags = if k >= out.len() {
                VRING_DESC_F_WRITE
            } else {
                0
            };
            if k + 1 < total {
                flags |= VRING_DESC_F_NEXT;
            }
            mem.write_obj(addr, GuestAddress(d)).expect("addr");
            mem.write_obj(len, GuestAddress(d + 8)).expect("len");
            mem.write_obj(flags, GuestAddress(d + 12)).expect("flags");
            mem.write_obj(vq.next[usize::from(i)], GuestAddress(d + 14))
                .expect("next");
            i = vq.next[usize::from(i)];
        }
        vq.free_head = i;
        vq.num_free -= total as u16;
        vq.data[usize::from(head)] = Some((token, total as u16));
        let slot = u64::from(vq.avail_idx % vq.num);
        mem.write_obj(head, GuestAddress(vq.avail + 4 + 2 * slot))
            .expect("ring");
        vq.avail_idx = vq.avail_idx.wrapping_add(1);
        mem.write_obj(vq.avail_idx, GuestAddress(vq.avail + 2))
            .expect("idx");
        self.kick(q);
        head
    }

    /// virtqueue_kick_prepare_split without EVENT_IDX, then vm_notify.
    fn kick(&mut self, q: usize) {
        let vq = &self.vqs[q];
        let flags: u16 = self
            .mem
            .read_obj(GuestAddress(vq.used))
            .expect("used flags");
        if flags & VRING_USED_F_NO_NOTIFY == 0 {
            let index = vq.index;
            writel(&mut self.dev, index, QUEUE_NOTIFY);
        }
    }

    /// virtqueue_get_buf_ctx_split + detach_buf_split: (token, head, len) of the next
    /// used buffer.
    fn get_buf(&mut self, q: usize) -> Option<(u64, u16, u32)> {
        let mem = self.mem.clone();
        let vq = &mut self.vqs[q];
        let used_idx: u16 = mem.read_obj(GuestAddress(vq.used + 2)).expect("used idx");
        if used_idx == vq.last_used {
            return None;
        }
        let e = vq.used + 4 + 8 * u64::from(vq.last_used % vq.num);
        let id: u32 = mem.read_obj(GuestAddress(e)).expect("id");
        let len: u32 = mem.read_obj(GuestAddress(e + 4)).expect("len");
        assert!(id < u32::from(vq.num), "used id {id} out of range");
        let head = id as u16;
        let (token, count) = vq.data[usize::from(head)]
            .take()
            .unwrap_or_else(|| panic!("id {id} is not a head"));
        let mut last = head;
        for _ in 1..count {
            last = vq.next[usize::from(last)];
        }
        vq.next[usize::from(last)] = vq.free_head;
        vq.free_head = head;
        vq.num_free += count;
        vq.last_used = vq.last_used.wrapping_add(1);
        Some((token, head, len))
    }

    /// put_chars -> __send_to_port(nonblock = false): one out buffer, kick, then spin on
    /// the used ring. The device must have used it by the time the kick returns.
    fn put_chars(&mut self, bytes: &[u8]) {
        let b = self.alloc(bytes);
        self.send(&[(b, bytes.len() as u32)], b);
    }

    /// __send_to_port of a scatter list (port_fops_splice_write), spinning like put_chars.
    fn send(&mut self, sg: &[(u64, u32)], token: u64) {
        let head = self.add(OUT_VQ, sg, &[], token);
        for _ in 0..16 {
            if let Some((t, h, len)) = self.get_buf(OUT_VQ) {
                assert_eq!((t, h), (token, head));
                assert_eq!(len, 0, "the device writes nothing into a transmit buffer");
                return;
            }
        }
        panic!("put_chars would spin forever");
    }

    /// vm_interrupt: acks and returns the status.
    fn vm_interrupt(&mut self) -> u32 {
        let status = readl(&mut self.dev, INTERRUPT_STATUS);
        writel(&mut self.dev, status, INTERRUPT_ACK);
        assert!(!self.irq.level(), "acked");
        status
    }

    /// in_intr -> hvc_poll -> get_chars/fill_readbuf: takes every used receive buffer's
    /// bytes and re-posts the consumed buffer (add_inbuf); returns (head, bytes) per
    /// buffer. A device using re-posted buffers again at once, with no input, would keep
    /// the guest here for ever: that fails the test instead of hanging it.
    fn in_intr(&mut self) -> Vec<(u16, Vec<u8>)> {
        let mut got = Vec::new();
        while let Some((buf, head, len)) = self.get_buf(IN_VQ) {
            assert!(
                got.len() < usize::from(self.vqs[IN_VQ].num),
                "the device used more receive buffers than the ring holds"
            );
            let mut data = vec![0u8; len.min(PAGE_SIZE as u32) as usize];
            self.mem
                .read_slice(&mut data, GuestAddress(buf))
                .expect("inbuf");
            got.push((head, data));
            self.add(IN_VQ, &[], &[(buf, PAGE_SIZE as u32)], buf);
        }
        got
    }

    /// An interrupt for the receiveq: vm_interrupt then in_intr; the bytes in order.
    fn receive_interrupt(&mut self) -> Vec<u8> {
        assert!(self.irq.level(), "the device interrupted");
        let status = self.vm_interrupt();
        assert_eq!(status & INT_CONFIG, 0);
        assert_ne!(status & INT_VRING, 0);
        self.in_intr().into_iter().flat_map(|(_, b)| b).collect()
    }

    fn receive_records(&self) -> Vec<ledger::DmaRecord> {
        self.ledger
            .borrow()
            .records()
            .iter()
            .filter(|r| r.buffer == "virtio-console receive buffer")
            .cloned()
            .collect()
    }
}

#[test]
fn identifies_as_a_virtio_1_console_offering_no_feature_of_its_own() {
    let mut d = machine();
    let dev = &mut d.dev;
    assert_eq!(readl(dev, MAGIC_VALUE), 0x7472_6976);
    assert_eq!(readl(dev, VERSION), 2);
    assert_eq!(readl(dev, DEVICE_ID), VIRTIO_ID_CONSOLE);
    assert_eq!(console::DEVICE_ID, VIRTIO_ID_CONSOLE);
    writel(dev, 0, DEVICE_FEATURES_SEL);
    let low = readl(dev, DEVICE_FEATURES);
    assert_eq!(
        low & ((1 << VIRTIO_CONSOLE_F_SIZE)
            | (1 << VIRTIO_CONSOLE_F_MULTIPORT)
            | (1 << VIRTIO_CONSOLE_F_EMERG_WRITE)),
        0,
        "no SIZE, MULTIPORT or EMERG_WRITE"
    );
    assert_eq!(low, 0, "no device feature at all");
    writel(dev, 1, DEVICE_FEATURES_SEL);
    assert_eq!(readl(dev, DEVICE_FEATURES), 1, "VIRTIO_F_VERSION_1 only");
    d.probe();
    assert_eq!(d.features, 1 << F_VERSION_1, "negotiated: VERSION_1 alone");
    // Every configuration field reads as zero, at the widths virtio_cread uses.
    let dev = &mut d.dev;
    assert_eq!(readw(dev, CONFIG + CONFIG_COLS), 0);
    assert_eq!(readw(dev, CONFIG + CONFIG_ROWS), 0);
    assert_eq!(readl(dev, CONFIG + CONFIG_MAX_NR_PORTS), 0);
    assert_eq!(readl(dev, CONFIG + CONFIG_EMERG_WR), 0);
    assert!((0..12).all(|o| readb(dev, CONFIG + o) == 0));
    // emerg_wr without EMERG_WRITE does nothing.
    writel(dev, u32::from(b'!'), CONFIG + CONFIG_EMERG_WR);
    assert_eq!(readl(dev, CONFIG + CONFIG_EMERG_WR), 0);
    assert!(d.out.bytes().is_empty());
}

#[test]
fn a_driver_without_version_1_is_refused() {
    let mut d = machine();
    let dev = &mut d.dev;
    writel(dev, ACKNOWLEDGE | DRIVER, STATUS);
    writel(dev, 0, DRIVER_FEATURES_SEL);
    writel(dev, 0, DRIVER_FEATURES);
    writel(dev, ACKNOWLEDGE | DRIVER | FEATURES_OK, STATUS);
    assert_eq!(readl(dev, STATUS) & FEATURES_OK, 0);
}

#[test]
fn fill_queue_posts_a_page_per_descriptor_and_the_device_keeps_them_all() {
    let mut d = machine();
    d.probe();
    d.virtcons_probe_vqs();
    assert!(!d.dev.accepting_input(), "no receive buffer yet");
    let bufs = d.fill_queue();
    assert_eq!(bufs.len(), 256, "fill_queue stops when num_free is 0");
    assert_eq!(d.dev.kept(console::RECEIVEQ), 256);
    assert_eq!(d.get_buf(IN_VQ), None, "nothing used without input");
    assert!(!d.irq.level());
    assert!(d.dev.accepting_input());
    assert!(d.dev.errors.is_empty(), "{:?}", d.dev.errors);
}

#[test]
fn put_chars_hello_reaches_the_writer_flushed() {
    let mut d = machine();
    d.bring_up();
    d.put_chars(b"hello");
    assert_eq!(d.out.bytes(), b"hello");
    assert!(d.out.all_flushed());
    // The transport read the buffer through the ledger, as a control record.
    let ledger = d.ledger.borrow();
    let read = ledger
        .records()
        .iter()
        .find(|r| r.buffer == "virtqueue request")
        .expect("the transmit buffer is in the ledger");
    assert_eq!(
        (read.direction, read.purpose.clone(), read.bytes()),
        (Direction::Read, Purpose::Control, 5)
    );
    assert!(ledger
        .records()
        .iter()
        .all(|r| r.purpose == Purpose::Control));
    drop(ledger);
    assert!(d.dev.errors.is_empty(), "{:?}", d.dev.errors);
}

#[test]
fn a_multi_descriptor_transmit_chain_is_written_in_order() {
    let mut d = machine();
    d.bring_up();
    // Three pieces, placed in memory in the reverse of their order in the chain.
    let c = d.alloc(b"console\n");
    let b = d.alloc(b"tio-");
    let a = d.alloc(b"vir");
    d.send(&[(a, 3), (b, 4), (c, 8)], a);
    assert_eq!(d.out.bytes(), b"virtio-console\n");
    assert_eq!(d.out.flushes(), 1, "flushed once, after the whole buffer");
    d.put_chars(b"$ ");
    assert_eq!(d.out.bytes(), b"virtio-console\n$ ");
    assert!(d.out.all_flushed());
    let read = d
        .ledger
        .borrow()
        .records()
        .iter()
        .find(|r| r.buffer == "virtqueue request")
        .cloned()
        .expect("recorded");
    assert_eq!(
        read.segments,
        [
            Range { base: a, size: 3 },
            Range { base: b, size: 4 },
            Range { base: c, size: 8 }
        ]
    );
}

#[test]
fn input_fills_a_posted_buffer_and_raises_the_used_interrupt() {
    let mut d = machine();
    let bufs = d.bring_up();
    assert!(!d.irq.level());
    assert_eq!(d.dev.receive(b"ls\n"), 3);
    assert!(d.irq.level(), "used-buffer interrupt");
    assert_eq!(readl(&mut d.dev, INTERRUPT_STATUS) & INT_VRING, INT_VRING);
    let status = d.vm_interrupt();
    assert_eq!(status, INT_VRING);
    let got = d.in_intr();
    assert_eq!(got, [(0, b"ls\n".to_vec())], "the first buffer posted");
    assert_eq!(d.dev.device.pending_input(), 0);
    // The device wrote the buffer through its DMA handle: a control record, and a range
    // the CPU's code cache hears of.
    let rec = d.receive_records();
    assert_eq!(rec.len(), 1);
    assert_eq!(
        (rec[0].direction, rec[0].purpose.clone()),
        (Direction::Write, Purpose::Control)
    );
    assert_eq!(
        rec[0].segments,
        [Range {
            base: bufs[0],
            size: 3
        }]
    );
    assert!(d
        .written
        .borrow()
        .ranges
        .iter()
        .any(|r| r.base == bufs[0] && r.size == 3));
    assert_eq!(d.dev.kept(console::RECEIVEQ), 256, "get_chars re-posted it");
    assert!(d.dev.errors.is_empty(), "{:?}", d.dev.errors);
}

#[test]
fn input_with_no_buffer_posted_waits_bounded_until_one_is() {
    let mut d = machine();
    // Typed before the kernel probed the device: held, and kept across its reset.
    assert_eq!(d.dev.receive(b"early "), 6);
    assert_eq!(d.dev.receive(&[b'x'; 5000]), console::MAX_INPUT - 6);
    assert_eq!(d.dev.receive(b"lost"), 0, "the host buffer is full");
    assert!(!d.dev.device.can_receive());
    assert_eq!(d.dev.device.pending_input(), console::MAX_INPUT);
    assert!(!d.irq.level());
    assert!(d.receive_records().is_empty(), "nothing written anywhere");
    d.probe();
    d.virtcons_probe_vqs();
    assert!(!d.irq.level(), "still no buffer");
    // The first buffer fill_queue posts takes the input at once: one page, all of it.
    let bufs = d.fill_queue();
    assert!(d.irq.level(), "used-buffer interrupt");
    let status = d.vm_interrupt();
    assert_eq!(status, INT_VRING);
    let got = d.in_intr();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, 0);
    let mut want = b"early ".to_vec();
    want.resize(console::MAX_INPUT, b'x');
    assert_eq!(got[0].1, want);
    assert_eq!(d.receive_records()[0].segments[0].base, bufs[0]);
    assert_eq!(d.dev.device.pending_input(), 0);
    assert!(d.dev.device.can_receive());
    assert_eq!(d.dev.kept(console::RECEIVEQ), 256);
}

#[test]
fn input_for_a_buffer_posted_before_driver_ok_waits_for_driver_ok() {
    // Linux posts receive buffers only after virtio_device_ready; a driver that posts one
    // earlier does not get it used before DRIVER_OK (virtio 1.2, 3.1.1).
    let mut d = machine();
    d.probe();
    d.vqs = vec![d.setup_vq(0, RAM + 0x1_0000), d.setup_vq(1, RAM + 0x2_0000)];
    let b = d.alloc_zeroed(PAGE_SIZE);
    d.add(IN_VQ, &[], &[(b, PAGE_SIZE as u32)], b);
    assert!(!d.dev.accepting_input());
    assert_eq!(d.dev.receive(b"a"), 1);
    assert!(!d.irq.level());
    assert_eq!(d.dev.kept(console::RECEIVEQ), 1);
    d.add_status(DRIVER_OK);
    assert_eq!(d.receive_interrupt(), b"a");
}

#[test]
fn input_longer_than_a_buffer_fills_the_posted_buffers_in_order() {
    let mut d = machine();
    d.probe();
    d.virtcons_probe_vqs();
    // A driver posting small buffers: each holds four bytes.
    let bufs: Vec<u64> = (0..4)
        .map(|_| {
            let b = d.alloc_zeroed(4);
            d.add(IN_VQ, &[], &[(b, 4)], b);
            b
        })
        .collect();
    assert_eq!(d.dev.receive(b"abcdefghij"), 10);
    assert_eq!(
        d.irq.changes(),
        [true],
        "one interrupt for the three buffers"
    );
    d.vm_interrupt();
    let mut used = Vec::new();
    while let Some((buf, head, len)) = d.get_buf(IN_VQ) {
        let mut data = vec![0u8; len as usize];
        d.mem.read_slice(&mut data, GuestAddress(buf)).expect("buf");
        used.push((head, buf, data));
    }
    assert_eq!(
        used,
        [
            (0, bufs[0], b"abcd".to_vec()),
            (1, bufs[1], b"efgh".to_vec()),
            (2, bufs[2], b"ij".to_vec())
        ]
    );
    assert_eq!(d.dev.kept(console::RECEIVEQ), 1, "the fourth still waits");
    assert_eq!(d.dev.receive(b"k"), 1);
    assert_eq!(d.receive_interrupt(), b"k");
}

#[test]
fn many_lines_wrap_both_rings() {
    // 300 lines each way: avail/used indices and the descriptor free lists wrap at 256.
    let mut d = machine();
    d.bring_up();
    let mut typed = Vec::new();
    for i in 0..300 {
        let line = format!("line {i}\n");
        d.next_buf = RAM + 0x60_0000;
        d.put_chars(line.as_bytes());
        assert_eq!(d.dev.receive(line.as_bytes()), line.len());
        typed.extend(d.receive_interrupt());
    }
    let all: String = (0..300).map(|i| format!("line {i}\n")).collect();
    assert_eq!(d.out.bytes(), all.as_bytes());
    assert_eq!(typed, all.as_bytes());
    assert!(d.dev.errors.is_empty(), "{:?}", d.dev.errors);
}

#[test]
fn queue_teardown_and_reset_forget_the_kept_buffers_but_not_the_input() {
    let mut d = machine();
    d.bring_up();
    assert_eq!(d.dev.kept(console::RECEIVEQ), 256);
    // remove_vqs -> vm_del_vq for each queue, then the driver frees the rings.
    for q in [0u32, 1] {
        writel(&mut d.dev, q, QUEUE_SEL);
        writel(&mut d.dev, 0, QUEUE_READY);
        assert_eq!(readl(&mut d.dev, QUEUE_READY), 0);
    }
    assert_eq!(d.dev.kept(console::RECEIVEQ), 0);
    assert_eq!(d.dev.receive(b"z"), 1);
    assert!(!d.irq.level());
    assert!(d.receive_records().is_empty(), "no write to freed buffers");
    writel(&mut d.dev, 0, STATUS);
    assert_eq!(d.dev.device.pending_input(), 1);
    // Probed again (the module reloaded): the input goes to the new first buffer.
    d.vqs.clear();
    d.next_buf = RAM + 0x40_0000;
    let bufs = d.bring_up();
    assert_eq!(d.receive_interrupt(), b"z");
    assert_eq!(d.receive_records()[0].segments[0].base, bufs[0]);
}

// ---- a hostile guest --------------------------------------------------------------------

#[test]
fn a_transmit_chain_claiming_more_than_the_limit_is_refused_without_allocating_it() {
    let mut d = machine();
    d.bring_up();
    // Two descriptors claiming 4 GiB each: 8 GiB the host must neither read nor allocate.
    let a = d.alloc(b"never");
    d.send(&[(a, u32::MAX), (a, u32::MAX)], a);
    assert!(d.out.bytes().is_empty(), "nothing of it reached the writer");
    assert!(
        d.dev.errors.iter().any(|e| e.contains("exceeds")),
        "{:?}",
        d.dev.errors
    );
    assert!(
        d.ledger
            .borrow()
            .records()
            .iter()
            .all(|r| r.bytes() < u64::from(u32::MAX)),
        "the claimed range was never read"
    );
    // The console still works.
    d.put_chars(b"ok");
    assert_eq!(d.out.bytes(), b"ok");
}

#[test]
fn reposting_receive_heads_cannot_make_the_host_keep_more_than_the_ring() {
    let mut d = machine();
    d.bring_up();
    // The guest publishes heads 0..256 again without having been given them back.
    let vq = &d.vqs[IN_VQ];
    let (avail, start) = (vq.avail, vq.avail_idx);
    for k in 0..256u16 {
        let slot = u64::from(start.wrapping_add(k) % 256);
        d.mem
            .write_obj(k, GuestAddress(avail + 4 + 2 * slot))
            .expect("ring");
    }
    d.mem
        .write_obj(start.wrapping_add(256), GuestAddress(avail + 2))
        .expect("idx");
    writel(&mut d.dev, 0, QUEUE_NOTIFY);
    assert_eq!(
        d.dev.kept(console::RECEIVEQ),
        256,
        "never more than the ring"
    );
    let used: u16 = d
        .mem
        .read_obj(GuestAddress(d.vqs[IN_VQ].used + 2))
        .expect("used idx");
    assert_eq!(used, 256, "the extra ones were used at once, empty");
    assert!(d.receive_records().is_empty());
    assert_eq!(d.dev.errors.len(), mmio::MAX_ERRORS);
    assert!(
        d.dev.errors[0].contains("already kept"),
        "{:?}",
        d.dev.errors
    );
}

#[test]
fn receive_buffers_with_huge_readable_parts_are_bounded_in_bytes() {
    let mut d = machine();
    d.probe();
    d.virtcons_probe_vqs();
    // Against the spec (5.3.6.1), each receive buffer carries a 512 KiB readable part,
    // which the transport gathers: it keeps at most MAX_KEPT_BYTES of them.
    let junk = d.alloc_zeroed(512 << 10);
    let mut heads = Vec::new();
    for _ in 0..4 {
        let b = d.alloc_zeroed(16);
        heads.push(d.add(IN_VQ, &[(junk, 512 << 10)], &[(b, 16)], b));
    }
    assert_eq!(d.dev.kept(console::RECEIVEQ), 1, "1 MiB holds one of them");
    assert!(d.dev.errors.iter().any(|e| e.contains("already kept")));
    assert_eq!(d.dev.receive(b"hi"), 2);
    d.vm_interrupt();
    let mut used = Vec::new();
    while let Some((_, head, len)) = d.get_buf(IN_VQ) {
        used.push((head, len));
    }
    // Three used at once, empty; the kept one filled by the input.
    assert_eq!(used.len(), 4);
    assert_eq!(used.iter().filter(|&&(_, len)| len == 0).count(), 3);
    assert!(used.contains(&(heads[0], 2)));
}

#[test]
fn a_receive_buffer_outside_ram_is_used_empty_and_the_input_waits_for_the_next() {
    let mut d = machine();
    d.probe();
    d.virtcons_probe_vqs();
    let bad = 0x1_0000_0000u64;
    let good = d.alloc_zeroed(PAGE_SIZE);
    d.add(IN_VQ, &[], &[(bad, PAGE_SIZE as u32)], bad);
    d.add(IN_VQ, &[], &[(good, PAGE_SIZE as u32)], good);
    assert_eq!(d.dev.receive(b"q"), 1);
    d.vm_interrupt();
    let first = d.get_buf(IN_VQ).expect("the bad buffer was used");
    assert_eq!((first.0, first.2), (bad, 0));
    let second = d.get_buf(IN_VQ).expect("the good one was used");
    assert_eq!((second.0, second.2), (good, 1));
    let mut q = [0u8; 1];
    d.mem.read_slice(&mut q, GuestAddress(good)).expect("good");
    assert_eq!(&q, b"q");
    assert_eq!(d.dev.device.dma_errors, 1);
}

#[test]
fn a_receive_buffer_with_no_room_is_used_at_once() {
    let mut d = machine();
    d.probe();
    d.virtcons_probe_vqs();
    let b = d.alloc_zeroed(16);
    d.add(IN_VQ, &[], &[(b, 0)], b);
    assert_eq!(d.dev.kept(console::RECEIVEQ), 0, "it could never be filled");
    assert_eq!(d.get_buf(IN_VQ), Some((b, 0, 0)));
}
