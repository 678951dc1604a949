//! Stand-ins for devices the DT describes and heapsoc does not model (yet): the guest's
//! driver finds registers that read as zero instead of an external abort, and every access
//! is counted so that the run reports which unmodelled device the guest touched.

use std::cell::Cell;
use std::rc::Rc;

use crate::bus::MmioDevice;

/// Accesses to an unmodelled device, shared with whoever reports them.
#[derive(Debug, Clone, Default)]
pub struct AccessCount {
    pub reads: Rc<Cell<u64>>,
    pub writes: Rc<Cell<u64>>,
}

/// Reads as zero, ignores writes, counts both.
#[derive(Debug)]
pub struct Unmodelled {
    pub count: AccessCount,
}

impl MmioDevice for Unmodelled {
    fn read(&mut self, _offset: u64, data: &mut [u8]) {
        self.count.reads.set(self.count.reads.get() + 1);
        data.fill(0);
    }
    fn write(&mut self, _offset: u64, _data: &[u8]) {
        self.count.writes.set(self.count.writes.get() + 1);
    }
}

/// A virtio-mmio transport with no device behind it (DeviceID 0, virtio spec 4.2.2):
/// Linux's virtio_mmio driver sees the magic value and skips the slot quietly.
#[derive(Debug, Default)]
pub struct VirtioMmioEmpty;

impl MmioDevice for VirtioMmioEmpty {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        let v: u32 = match offset {
            0x000 => 0x7472_6976, // "virt"
            0x004 => 2,           // version 2 (virtio 1.x)
            0x00c => 0x554d_4551, // vendor "QEMU", as Linux has seen it on virt boards
            _ => 0,
        };
        let bytes = v.to_le_bytes();
        for (i, b) in data.iter_mut().enumerate() {
            *b = bytes.get(i).copied().unwrap_or(0);
        }
    }
    fn write(&mut self, _offset: u64, _data: &[u8]) {}
}

/// Shares a device between the bus and the machine (which feeds it input or inspects it).
#[derive(Debug)]
pub struct Shared<T: MmioDevice>(pub Rc<std::cell::RefCell<T>>);

impl<T: MmioDevice> MmioDevice for Shared<T> {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        self.0.borrow_mut().read(offset, data);
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        self.0.borrow_mut().write(offset, data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmodelled_devices_read_zero_and_count_accesses() {
        let count = AccessCount::default();
        let mut d = Unmodelled {
            count: count.clone(),
        };
        let mut buf = [0xffu8; 4];
        d.read(0xfe0, &mut buf);
        d.write(0, &[1]);
        d.write(4, &[1]);
        assert_eq!(buf, [0; 4]);
        assert_eq!((count.reads.get(), count.writes.get()), (1, 2));
    }

    #[test]
    fn empty_virtio_slot_has_magic_version_2_and_device_id_0() {
        let mut v = VirtioMmioEmpty;
        let mut w = [0u8; 4];
        v.read(0, &mut w);
        assert_eq!(&w, b"virt");
        v.read(4, &mut w);
        assert_eq!(u32::from_le_bytes(w), 2);
        v.read(8, &mut w);
        assert_eq!(u32::from_le_bytes(w), 0);
    }
}
