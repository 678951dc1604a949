//! The MMIO bus: a map from guest-physical ranges to devices. Modelled devices may not
//! overlap each other (a real conflict); stand-ins for devices heapsoc does not model may
//! overlap anything, as real SoC trees nest nodes inside their bus's or MFD's own `reg`
//! window: a modelled device answers first, else the innermost stand-in. An access that
//! hits nothing is an error the caller reports (and turns into an external abort for the
//! guest), never silently ignored.

use std::collections::BTreeMap;

/// A memory-mapped device. `offset` is relative to the start of its range; `data.len()`
/// is the access size (1, 2, 4 or 8 bytes), little-endian.
pub trait MmioDevice: std::fmt::Debug {
    fn read(&mut self, offset: u64, data: &mut [u8]);
    fn write(&mut self, offset: u64, data: &[u8]);
}

/// Answers a read of `data.len()` bytes at byte `offset & 3` within the 32-bit register
/// whose value is `value` (narrow reads of a register return its byte lanes).
pub fn read_lanes(value: u32, offset: u64, data: &mut [u8]) {
    let bytes = value.to_le_bytes();
    let shift = (offset & 3) as usize;
    for (i, b) in data.iter_mut().enumerate() {
        *b = bytes.get(shift + i).copied().unwrap_or(0);
    }
}

/// The value of a write to a 32-bit register: 1, 2 or 4 bytes at its aligned offset,
/// zero-extended (Linux's amba-pl011 uses 16-bit accesses unless `reg-io-width = <4>`).
/// `None` for other sizes and alignments, which 32-bit peripherals ignore.
pub fn word_write(offset: u64, data: &[u8]) -> Option<u32> {
    if offset & 3 != 0 || !matches!(data.len(), 1 | 2 | 4) {
        return None;
    }
    let mut b = [0u8; 4];
    b[..data.len()].copy_from_slice(data);
    Some(u32::from_le_bytes(b))
}

/// A device whose registers are 32 bits wide: narrow reads return byte lanes of the
/// register, writes of 1, 2 or 4 bytes at a register's offset are zero-extended, other
/// accesses are ignored. Implementing this gives the [`MmioDevice`] implementation.
pub trait Registers32: std::fmt::Debug {
    /// The register at the 4-byte aligned `offset` (reads may have side effects).
    fn read_reg(&mut self, offset: u64) -> u32;
    /// A write to the register at the 4-byte aligned `offset`.
    fn write_reg(&mut self, offset: u64, value: u32);
}

impl<T: Registers32> MmioDevice for T {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        let v = self.read_reg(offset & !3);
        read_lanes(v, offset, data);
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        if let Some(v) = word_write(offset, data) {
            self.write_reg(offset, v);
        }
    }
}

/// A device that decodes only the low `window` bytes of its address, so its registers
/// repeat through a larger `reg` range (incomplete address decoding: a 4 KiB PrimeCell in
/// a 64 KiB slot). Linux's AMBA bus reads a PrimeCell's ID at the end of the range the DT
/// gives (drivers/amba/bus.c, amba_read_periphid: `size - 0x20` and `size - 0x10`), which
/// finds the ID registers of the last copy.
#[derive(Debug)]
pub struct Mirrored<T: MmioDevice> {
    /// The decoded size, a power of two.
    pub window: u64,
    pub inner: T,
}

impl<T: MmioDevice> MmioDevice for Mirrored<T> {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        self.inner.read(offset & (self.window - 1), data);
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        self.inner.write(offset & (self.window - 1), data);
    }
}

/// Bus errors; each names the range or address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BusError {
    #[error("{name}: zero-sized MMIO range at 0x{base:x}")]
    Empty { name: String, base: u64 },
    #[error("{name}: MMIO range 0x{base:x}+0x{size:x} wraps the address space")]
    Wraps { name: String, base: u64, size: u64 },
    #[error("{name}: MMIO range 0x{base:x}+0x{size:x} overlaps {other}")]
    Overlap {
        name: String,
        base: u64,
        size: u64,
        other: String,
    },
    #[error("no device at 0x{addr:x} ({len}-byte access)")]
    Unmapped { addr: u64, len: usize },
}

#[derive(Debug)]
struct Slot {
    size: u64,
    name: String,
    device: Box<dyn MmioDevice>,
}

/// A stand-in's range.
#[derive(Debug)]
struct Stand {
    base: u64,
    slot: Slot,
}

/// The bus.
#[derive(Debug, Default)]
pub struct Bus {
    /// Modelled devices, keyed by base address; they never overlap.
    slots: BTreeMap<u64, Slot>,
    /// Stand-ins for unmodelled devices, which may overlap anything.
    stands: Vec<Stand>,
    /// Overlaps accepted, as (name, other name).
    overlaps: Vec<(String, String)>,
}

/// The last byte of `[base, base + size)`, refusing empty and wrapping ranges.
fn last_byte(name: &str, base: u64, size: u64) -> Result<u64, BusError> {
    if size == 0 {
        return Err(BusError::Empty {
            name: name.into(),
            base,
        });
    }
    base.checked_add(size - 1).ok_or_else(|| BusError::Wraps {
        name: name.into(),
        base,
        size,
    })
}

impl Bus {
    pub fn new() -> Bus {
        Bus::default()
    }

    /// Registers `device` (named after its DT node) at `[base, base + size)`.
    pub fn insert(
        &mut self,
        name: &str,
        base: u64,
        size: u64,
        device: Box<dyn MmioDevice>,
    ) -> Result<(), BusError> {
        let last = last_byte(name, base, size)?;
        // The nearest range starting at or below `last` is the only one that can overlap.
        if let Some((&b, slot)) = self.slots.range(..=last).next_back() {
            if b + (slot.size - 1) >= base {
                return Err(BusError::Overlap {
                    name: name.into(),
                    base,
                    size,
                    other: format!("{} at 0x{b:x}+0x{:x}", slot.name, slot.size),
                });
            }
        }
        for s in self
            .stands
            .iter()
            .filter(|s| s.base <= last && s.base + (s.slot.size - 1) >= base)
        {
            if self.overlaps.len() < 4096 {
                self.overlaps.push((s.slot.name.clone(), name.to_string()));
            }
        }
        self.slots.insert(
            base,
            Slot {
                size,
                name: name.into(),
                device,
            },
        );
        Ok(())
    }

    /// Registers a stand-in for a device heapsoc does not model at `[base, base + size)`;
    /// it may overlap other stand-ins and modelled devices (which answer first). The
    /// overlaps are remembered for the report.
    pub fn insert_stand_in(
        &mut self,
        name: &str,
        base: u64,
        size: u64,
        device: Box<dyn MmioDevice>,
    ) -> Result<(), BusError> {
        let last = last_byte(name, base, size)?;
        let hits = |b: u64, s: u64| b <= last && b + (s - 1) >= base;
        let mut others: Vec<String> = self
            .slots
            .range(..=last)
            .filter(|(&b, slot)| hits(b, slot.size))
            .map(|(_, slot)| slot.name.clone())
            .collect();
        others.extend(
            self.stands
                .iter()
                .filter(|s| hits(s.base, s.slot.size) && s.slot.name != name)
                .map(|s| s.slot.name.clone()),
        );
        others.dedup();
        for other in others {
            if self.overlaps.len() < 4096 {
                self.overlaps.push((name.to_string(), other));
            }
        }
        self.stands.push(Stand {
            base,
            slot: Slot {
                size,
                name: name.into(),
                device,
            },
        });
        Ok(())
    }

    /// Stand-ins that overlap another range, as (stand-in, other), in insertion order.
    pub fn overlaps(&self) -> &[(String, String)] {
        &self.overlaps
    }

    fn find(&mut self, addr: u64, len: usize) -> Result<(&mut Slot, u64), BusError> {
        let fits = |base: u64, size: u64| {
            addr >= base
                && (addr - base)
                    .checked_add(len as u64)
                    .is_some_and(|end| end <= size)
        };
        let modelled = self
            .slots
            .range(..=addr)
            .next_back()
            .filter(|(&b, slot)| fits(b, slot.size))
            .map(|(&b, _)| b);
        if let Some(b) = modelled {
            let slot = self
                .slots
                .get_mut(&b)
                .ok_or(BusError::Unmapped { addr, len })?;
            return Ok((slot, addr - b));
        }
        // The innermost stand-in: the smallest range holding the access.
        let s = self
            .stands
            .iter_mut()
            .filter(|s| fits(s.base, s.slot.size))
            .min_by_key(|s| s.slot.size)
            .ok_or(BusError::Unmapped { addr, len })?;
        Ok((&mut s.slot, addr - s.base))
    }

    /// Reads `data.len()` bytes at `addr`.
    pub fn read(&mut self, addr: u64, data: &mut [u8]) -> Result<(), BusError> {
        let (slot, offset) = self.find(addr, data.len())?;
        slot.device.read(offset, data);
        Ok(())
    }

    /// Writes `data` at `addr`.
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), BusError> {
        let (slot, offset) = self.find(addr, data.len())?;
        slot.device.write(offset, data);
        Ok(())
    }

    /// The name of the device at `addr`, if any.
    pub fn device_at(&mut self, addr: u64) -> Option<&str> {
        self.find(addr, 1).ok().map(|(slot, _)| slot.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Remembers the last write and answers reads with the offset.
    #[derive(Debug, Default)]
    struct Probe {
        last: Option<(u64, Vec<u8>)>,
    }

    impl MmioDevice for Probe {
        fn read(&mut self, offset: u64, data: &mut [u8]) {
            data.fill(offset as u8);
        }
        fn write(&mut self, offset: u64, data: &[u8]) {
            self.last = Some((offset, data.to_vec()));
        }
    }

    fn bus() -> Bus {
        let mut bus = Bus::new();
        bus.insert("/a", 0x1000, 0x100, Box::new(Probe::default()))
            .expect("first");
        bus.insert("/b", 0x2000, 0x1000, Box::new(Probe::default()))
            .expect("second");
        bus
    }

    #[test]
    fn bus_rejects_overlapping_ranges() {
        let mut bus = bus();
        for (base, size) in [(0x10ff, 1), (0xf00, 0x101), (0x1080, 0x10), (0x0, 0x10000)] {
            let err = bus
                .insert("/c", base, size, Box::new(Probe::default()))
                .expect_err("overlap");
            assert!(matches!(err, BusError::Overlap { .. }), "{base:x}: {err}");
        }
        bus.insert("/c", 0x1100, 0x10, Box::new(Probe::default()))
            .expect("adjacent is fine");
    }

    #[test]
    fn bus_rejects_zero_sized_and_wrapping_ranges() {
        let mut bus = Bus::new();
        assert!(matches!(
            bus.insert("/z", 0x1000, 0, Box::new(Probe::default())),
            Err(BusError::Empty { .. })
        ));
        assert!(matches!(
            bus.insert("/w", u64::MAX - 1, 4, Box::new(Probe::default())),
            Err(BusError::Wraps { .. })
        ));
        bus.insert("/top", u64::MAX - 0xfff, 0x1000, Box::new(Probe::default()))
            .expect("a range ending at the top of the address space");
    }

    #[test]
    fn accesses_reach_the_device_at_their_offset() {
        let mut bus = bus();
        let mut data = [0u8; 4];
        bus.read(0x2010, &mut data).expect("read");
        assert_eq!(data, [0x10; 4]);
        assert_eq!(bus.device_at(0x2fff), Some("/b"));
    }

    #[test]
    fn stand_ins_nest_and_the_innermost_answers_after_modelled_devices() {
        let mut bus = bus();
        let count = |b: &mut Bus, addr: u64| b.device_at(addr).map(str::to_string);
        bus.insert_stand_in("/soc/bus", 0x0, 0x10000, Box::new(Probe::default()))
            .expect("a bus window over everything");
        bus.insert_stand_in("/soc/bus/mfd", 0x3000, 0x1000, Box::new(Probe::default()))
            .expect("a stand-in inside it");
        bus.insert_stand_in(
            "/soc/bus/mfd-twin",
            0x3000,
            0x1000,
            Box::new(Probe::default()),
        )
        .expect("the same range twice");
        assert_eq!(
            count(&mut bus, 0x1010).as_deref(),
            Some("/a"),
            "modelled first"
        );
        assert_eq!(count(&mut bus, 0x3010).as_deref(), Some("/soc/bus/mfd"));
        assert_eq!(count(&mut bus, 0x5000).as_deref(), Some("/soc/bus"));
        let overlaps: Vec<_> = bus
            .overlaps()
            .iter()
            .map(|(a, b)| format!("{a}~{b}"))
            .collect();
        assert!(
            overlaps.contains(&"/soc/bus~/a".to_string()),
            "{overlaps:?}"
        );
        assert!(
            overlaps.contains(&"/soc/bus/mfd-twin~/soc/bus/mfd".to_string()),
            "{overlaps:?}"
        );
        // Modelled devices still refuse one another.
        assert!(bus
            .insert("/c", 0x2800, 0x10, Box::new(Probe::default()))
            .is_err());
    }

    #[test]
    fn unmapped_and_straddling_accesses_are_errors() {
        let mut bus = bus();
        let mut data = [0u8; 4];
        assert_eq!(
            bus.read(0x1800, &mut data),
            Err(BusError::Unmapped {
                addr: 0x1800,
                len: 4
            })
        );
        assert_eq!(
            bus.write(0x10fe, &[0; 4]),
            Err(BusError::Unmapped {
                addr: 0x10fe,
                len: 4
            })
        );
        assert!(bus.read(0x0, &mut data).is_err());
    }
}
