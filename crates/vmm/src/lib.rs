//! The heapsoc machine, assembled from a [`board::Board`].
//!
//! So far: guest RAM, one region per bank. The MMIO bus, the loader and the run loop
//! come with the CPU backend.

pub mod memory;

pub use memory::{guest_memory, MemoryError};

/// The guest RAM type of the machine.
pub type GuestMemory = vm_memory::GuestMemoryMmap;

/// Number of RAM regions (one per bank).
pub fn region_count(memory: &GuestMemory) -> usize {
    use vm_memory::GuestMemoryBackend as _;
    memory.num_regions()
}

pub mod loader;
#[cfg(test)]
mod loader_tests;
pub mod machine;
pub mod psci;
pub mod vm;
