//! Accessors with the widths Linux's readb/readw/readl/readq and writeb/.../writeq use.
#![allow(dead_code)]

pub mod gic;
pub mod virtio;

use devices::MmioDevice;

pub fn readb(d: &mut dyn MmioDevice, off: u64) -> u8 {
    let mut b = [0u8; 1];
    d.read(off, &mut b);
    b[0]
}

pub fn readw(d: &mut dyn MmioDevice, off: u64) -> u16 {
    let mut b = [0u8; 2];
    d.read(off, &mut b);
    u16::from_le_bytes(b)
}

pub fn readl(d: &mut dyn MmioDevice, off: u64) -> u32 {
    let mut b = [0u8; 4];
    d.read(off, &mut b);
    u32::from_le_bytes(b)
}

pub fn readq(d: &mut dyn MmioDevice, off: u64) -> u64 {
    let mut b = [0u8; 8];
    d.read(off, &mut b);
    u64::from_le_bytes(b)
}

pub fn writeb(d: &mut dyn MmioDevice, v: u8, off: u64) {
    d.write(off, &[v]);
}

pub fn writew(d: &mut dyn MmioDevice, v: u16, off: u64) {
    d.write(off, &v.to_le_bytes());
}

pub fn writel(d: &mut dyn MmioDevice, v: u32, off: u64) {
    d.write(off, &v.to_le_bytes());
}

pub fn writeq(d: &mut dyn MmioDevice, v: u64, off: u64) {
    d.write(off, &v.to_le_bytes());
}

/// readl_poll_timeout: reads until `done` holds; the model must get there within a few
/// reads (it has no time of its own), so more than 16 is a hang in the guest.
pub fn poll(d: &mut dyn MmioDevice, off: u64, done: impl Fn(u32) -> bool) -> u32 {
    for _ in 0..16 {
        let v = readl(d, off);
        if done(v) {
            return v;
        }
    }
    panic!("polling 0x{off:x} would time out in the guest");
}
