//! The heapsoc machine, assembled from a [`board::Board`], and the run loop.
//!
//! - [`memory`]: guest RAM, one vm-memory region per bank;
//! - [`machine`]: the MMIO bus and the device models, each at the `reg` and interrupt its
//!   DT node gives (a table from `compatible` to constructor);
//! - [`loader`]: the arm64 Image header and where the Image, DTB and initramfs go
//!   (Documentation/arch/arm64/booting.rst);
//! - [`console`]: which device carries the guest's console (the board's UART, or a
//!   virtio-console heapsoc adds to the guest DT);
//! - [`psci`]: the firmware calls the kernel makes (over HVC or SMC);
//! - [`vm`]: the a64 interpreter on the machine (MMIO exits to the bus, idle skipping,
//!   interrupt delivery, exception-loop and power-off stops).

pub mod memory;

pub use memory::{guest_memory, MemoryError};

/// The guest RAM type of the machine.
pub type GuestMemory = vm_memory::GuestMemoryMmap;

/// Number of RAM regions (one per bank).
pub fn region_count(memory: &GuestMemory) -> usize {
    use vm_memory::GuestMemoryBackend as _;
    memory.num_regions()
}

pub mod console;
pub mod kvm;
pub mod loader;
#[cfg(test)]
mod loader_tests;
pub mod machine;
pub mod psci;
pub mod vm;
