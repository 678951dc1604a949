//! Guest-physical memory as the CPU sees it: RAM regions reached through host
//! pointers (the fast path) and everything else forwarded to the embedder as
//! MMIO accesses. An access the embedder cannot resolve becomes a synchronous
//! external abort in the guest.

use thiserror::Error;

/// Errors configuring guest-physical memory.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MemError {
    /// The new RAM region overlaps an existing one.
    #[error("RAM region {base:#x}+{len:#x} overlaps an existing region")]
    Overlap {
        /// Guest-physical base.
        base: u64,
        /// Length in bytes.
        len: u64,
    },
    /// The region is empty, not page aligned, or wraps the address space.
    #[error("RAM region {base:#x}+{len:#x} is empty, unaligned or wraps")]
    Invalid {
        /// Guest-physical base.
        base: u64,
        /// Length in bytes.
        len: u64,
    },
}

/// The embedder could not complete an MMIO access (nothing mapped there, or
/// the device rejected it): the guest sees a synchronous external abort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusFault;

/// Direction of an MMIO access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmioDir {
    /// Guest load.
    Read,
    /// Guest store.
    Write,
}

/// The embedder's side of every guest-physical access outside RAM.
pub trait Mmio {
    /// Read `size` (1, 2, 4 or 8) bytes at guest-physical `pa`.
    ///
    /// # Errors
    /// [`BusFault`] when nothing answers at `pa`.
    fn read(&mut self, pa: u64, size: u8) -> Result<u64, BusFault>;
    /// Write the low `size` bytes of `value` at guest-physical `pa`.
    ///
    /// # Errors
    /// [`BusFault`] when nothing answers at `pa`.
    fn write(&mut self, pa: u64, size: u8, value: u64) -> Result<(), BusFault>;

    /// MRS at EL1 of a system register the CPU does not implement itself
    /// (key = instruction bits 20:5, see [`crate::sysreg::key`]), e.g. the
    /// GICv3 CPU interface (ICC_*). `None` makes the access UNDEFINED.
    fn sysreg_read(&mut self, _key: u32) -> Option<u64> {
        None
    }

    /// MSR at EL1 of a system register the CPU does not implement itself;
    /// `false` makes the access UNDEFINED. Returning `true` also ends the
    /// current block, so an interrupt the write unmasks is seen at once.
    fn sysreg_write(&mut self, _key: u32, _value: u64) -> bool {
        false
    }
}

/// An MMIO handler with no devices: every access is a bus fault. Accesses are
/// recorded so that a test or runner can report them.
#[derive(Debug, Default)]
pub struct NoMmio {
    /// Faulting accesses seen: (address, size, direction).
    pub faults: Vec<(u64, u8, MmioDir)>,
}

impl Mmio for NoMmio {
    fn read(&mut self, pa: u64, size: u8) -> Result<u64, BusFault> {
        if self.faults.len() < 1024 {
            self.faults.push((pa, size, MmioDir::Read));
        }
        Err(BusFault)
    }
    fn write(&mut self, pa: u64, size: u8, _value: u64) -> Result<(), BusFault> {
        if self.faults.len() < 1024 {
            self.faults.push((pa, size, MmioDir::Write));
        }
        Err(BusFault)
    }
}

/// A raw host pointer into guest RAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostPtr(pub(crate) *mut u8);

// SAFETY: a HostPtr is only created from a RAM region registered through
// `PhysMem::add_ram`, whose contract makes the memory valid for the lifetime of
// the CPU and usable from whichever thread runs it.
unsafe impl Send for HostPtr {}

/// Load `N` little-endian bytes from host memory.
///
/// # Safety
/// `p..p+N` must be valid for reads.
#[inline(always)]
pub(crate) unsafe fn load_host<const N: usize>(p: *const u8) -> u64 {
    // SAFETY: guaranteed by the caller.
    unsafe {
        match N {
            1 => u64::from(*p),
            2 => u64::from(u16::from_le(std::ptr::read_unaligned(p.cast::<u16>()))),
            4 => u64::from(u32::from_le(std::ptr::read_unaligned(p.cast::<u32>()))),
            _ => u64::from_le(std::ptr::read_unaligned(p.cast::<u64>())),
        }
    }
}

/// Store the low `N` bytes of `v` little-endian to host memory.
///
/// # Safety
/// `p..p+N` must be valid for writes.
#[inline(always)]
pub(crate) unsafe fn store_host<const N: usize>(p: *mut u8, v: u64) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        match N {
            1 => *p = v as u8,
            2 => std::ptr::write_unaligned(p.cast::<u16>(), (v as u16).to_le()),
            4 => std::ptr::write_unaligned(p.cast::<u32>(), (v as u32).to_le()),
            _ => std::ptr::write_unaligned(p.cast::<u64>(), v.to_le()),
        }
    }
}

impl HostPtr {
    /// A null pointer (never dereferenced: entries holding it never match).
    pub const NULL: Self = Self(std::ptr::null_mut());
}

/// One region of guest RAM.
#[derive(Debug, Clone, Copy)]
struct RamRegion {
    host: HostPtr,
    base: u64,
    len: u64,
}

/// Size of a translation granule / RAM page.
pub const PAGE_SIZE: u64 = 4096;

/// Guest-physical address space: RAM regions plus the MMIO handler.
pub struct PhysMem {
    regions: Vec<RamRegion>,
    /// Last region hit (index), to speed up repeated lookups.
    last: usize,
    /// The embedder's MMIO handler.
    pub mmio: Box<dyn Mmio>,
}

impl std::fmt::Debug for PhysMem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhysMem")
            .field("regions", &self.regions)
            .finish_non_exhaustive()
    }
}

impl PhysMem {
    /// Physical memory with no RAM and the given MMIO handler.
    #[must_use]
    pub fn new(mmio: Box<dyn Mmio>) -> Self {
        Self {
            regions: Vec::new(),
            last: 0,
            mmio,
        }
    }

    /// Make `len` bytes at `host` the guest RAM at guest-physical `base`.
    ///
    /// # Safety
    /// `host..host+len` must be valid for reads and writes for as long as the
    /// CPU owning this `PhysMem` exists, and must not be accessed through Rust
    /// references while the CPU runs (other accesses must be raw or volatile,
    /// as guest memory is shared with the guest).
    ///
    /// # Errors
    /// [`MemError`] if the region is empty, unaligned or overlaps another.
    pub unsafe fn add_ram(&mut self, host: *mut u8, base: u64, len: u64) -> Result<(), MemError> {
        if len == 0
            || base % PAGE_SIZE != 0
            || len % PAGE_SIZE != 0
            || base.checked_add(len).is_none()
        {
            return Err(MemError::Invalid { base, len });
        }
        if self
            .regions
            .iter()
            .any(|r| base < r.base + r.len && r.base < base + len)
        {
            return Err(MemError::Overlap { base, len });
        }
        self.regions.push(RamRegion {
            host: HostPtr(host),
            base,
            len,
        });
        Ok(())
    }

    /// Host pointer for guest-physical `pa` if it is RAM, plus the number of
    /// bytes from `pa` to the end of its region.
    #[inline]
    #[must_use]
    pub(crate) fn ram_ptr(&mut self, pa: u64) -> Option<(HostPtr, u64)> {
        let hit = |r: &RamRegion| pa.wrapping_sub(r.base) < r.len;
        let i = if self.regions.get(self.last).is_some_and(hit) {
            self.last
        } else {
            let i = self.regions.iter().position(hit)?;
            self.last = i;
            i
        };
        let r = self.regions[i];
        let off = pa - r.base;
        Some((HostPtr(r.host.0.wrapping_add(off as usize)), r.len - off))
    }

    /// Whether `pa` is RAM.
    #[must_use]
    pub fn is_ram(&mut self, pa: u64) -> bool {
        self.ram_ptr(pa).is_some()
    }

    /// Read `size` (1..=8) bytes of RAM or MMIO at `pa`. Accesses must not
    /// cross a page (callers split them).
    ///
    /// # Errors
    /// [`BusFault`] if nothing answers at `pa`.
    pub fn read(&mut self, pa: u64, size: usize) -> Result<u64, BusFault> {
        if let Some((p, left)) = self.ram_ptr(pa) {
            if left >= size as u64 {
                // SAFETY: `p` points into a registered RAM region with at least
                // `size` bytes left (checked above); add_ram's contract keeps it valid.
                // The common sizes without a call to memcpy.
                return Ok(unsafe {
                    match size {
                        1 => load_host::<1>(p.0),
                        2 => load_host::<2>(p.0),
                        4 => load_host::<4>(p.0),
                        8 => load_host::<8>(p.0),
                        _ => {
                            let mut b = [0u8; 8];
                            std::ptr::copy_nonoverlapping(p.0, b.as_mut_ptr(), size.min(8));
                            u64::from_le_bytes(b)
                        }
                    }
                });
            }
        }
        self.mmio.read(pa, size as u8)
    }

    /// Write the low `size` (1..=8) bytes of `v` at `pa`.
    ///
    /// # Errors
    /// [`BusFault`] if nothing answers at `pa`.
    pub fn write(&mut self, pa: u64, size: usize, v: u64) -> Result<(), BusFault> {
        if let Some((p, left)) = self.ram_ptr(pa) {
            if left >= size as u64 {
                // SAFETY: as in `read`, `p` has at least `size` valid bytes.
                unsafe {
                    match size {
                        1 => store_host::<1>(p.0, v),
                        2 => store_host::<2>(p.0, v),
                        4 => store_host::<4>(p.0, v),
                        8 => store_host::<8>(p.0, v),
                        _ => {
                            let b = v.to_le_bytes();
                            std::ptr::copy_nonoverlapping(b.as_ptr(), p.0, size.min(8));
                        }
                    }
                }
                return Ok(());
            }
        }
        self.mmio.write(pa, size as u8, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_regions_reject_overlap_and_misalignment() {
        let mut buf = vec![0u8; 8192];
        let mut m = PhysMem::new(Box::new(NoMmio::default()));
        // SAFETY: `buf` outlives `m` and is not otherwise accessed meanwhile.
        unsafe {
            assert!(m.add_ram(buf.as_mut_ptr(), 0x1000, 8192).is_ok());
            assert!(matches!(
                m.add_ram(buf.as_mut_ptr(), 0x2000, 4096),
                Err(MemError::Overlap { .. })
            ));
            assert!(matches!(
                m.add_ram(buf.as_mut_ptr(), 0x10010, 4096),
                Err(MemError::Invalid { .. })
            ));
        }
        m.write(0x1ffe, 2, 0xbeef).expect("ram");
        assert_eq!(m.read(0x1ffe, 2), Ok(0xbeef));
        assert_eq!(m.read(0x9000, 4), Err(BusFault));
        drop(m);
        assert_eq!(buf[0xffe], 0xef);
    }
}
