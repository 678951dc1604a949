//! `a64`: an AArch64 (Armv8.0-A, EL0/EL1) interpreter for heapsoc.
//!
//! Module map:
//! - [`state`]: registers and PSTATE; [`sysreg`]: EL1 system registers and
//!   the ID profile; [`timer`]: generic timer on a deterministic counter.
//! - [`decode`] + [`table`]: the declarative decoder; [`exec`]: semantics per
//!   encoding group (scalar FP in `exec::fp`, AdvSIMD integer in
//!   `exec::vint` and FP in `exec::vfp`, on the `simd` and `fpsimd` crates);
//!   [`cache`]: decoded code per physical page.
//! - [`mem`]: guest-physical RAM/MMIO; [`mmu`]: stage-1 walk; [`tlb`]: the
//!   software TLB; [`access`]: instruction memory accesses.
//! - [`exception`]: exception entry/return; [`cpu`]: the execute loop;
//!   [`user`]: a minimal Linux-user runner for static ELF programs.
//!
//! # Design
//!
//! - Decoding is declarative: [`table::INSNS`] has one line per pattern
//!   (fixed bits and named fields); a word matching two patterns takes the
//!   strictly more specific one or a declared winner, never the first in
//!   table order (checked by a unit test). Unmatched or unallocated words are
//!   UNDEFINED and counted per top-level group ([`Cpu::undefined_counts`],
//!   [`Cpu::undefined_words`]).
//! - Each word is decoded once into an [`decode::Op`] (handler pointer plus
//!   operands with XZR/SP already resolved to register-file slots) kept per
//!   guest-physical page ([`cache`]), filled lazily per slot. Writes to
//!   pages holding decoded code take the slow store path and queue an
//!   invalidation; IC IVAU/IALLU do too; both apply at the block boundary.
//! - Memory accesses go through a direct-mapped software TLB per privilege
//!   and access kind holding host pointers to RAM pages ([`tlb`]); misses,
//!   faults, unaligned page-crossing accesses, Device memory and MMIO take
//!   the slow path ([`access`]). Non-global entries are dropped when the
//!   ASID changes.
//! - The loop ([`Cpu::run`]) runs straight-line code and in-page branches
//!   without leaving the decoded page, checking interrupts, queued work and
//!   the budget only at block boundaries (taken branches, page ends,
//!   `Flow::End`). Guest time is the retired-instruction count, so runs are
//!   deterministic and budgets exact (a compare + conditional branch pair,
//!   fused at decode time by [`exec::fused`], retires as one step).
//!
//! # Embedding
//!
//! The embedder owns guest RAM and hands the CPU host pointers to it; every
//! other physical access reaches its [`Mmio`] implementation. [`Cpu::run`]
//! returns on HVC and SMC (firmware calls such as PSCI), WFI (with the timer
//! deadline, so idle time can be skipped) and when the instruction budget
//! or the next timer event is reached; the embedder then samples
//! [`Core::vtimer_irq`], updates its interrupt controller and calls
//! [`Cpu::set_irq`].
//!
//! ```
//! use a64::{Cpu, CpuProfile, Exit, NoMmio};
//!
//! let mut ram = vec![0u8; 0x1000];
//! let mut cpu = Cpu::new(CpuProfile::default(), Box::new(NoMmio::default()));
//! // SAFETY: `ram` outlives `cpu` and is only accessed through the CPU.
//! unsafe { cpu.core.phys().add_ram(ram.as_mut_ptr(), 0x4000_0000, 0x1000) }.unwrap();
//! // mov x0, #42 ; hvc #0
//! for (i, w) in [0xd280_0540u32, 0xd400_0002].iter().enumerate() {
//!     cpu.core.phys().write(0x4000_0000 + 4 * i as u64, 4, u64::from(*w)).unwrap();
//! }
//! cpu.set_pc(0x4000_0000);
//! assert_eq!(cpu.run(1000), Exit::Hvc(0));
//! assert_eq!(cpu.core.regs.x[0], 42);
//! drop(cpu);
//! ```
//!
//! The loads and stores use the TLB's host pointers unchecked, so safe code outside the
//! crate can neither reach the TLB nor forge a host pointer:
//!
//! ```compile_fail
//! let cpu = a64::Cpu::new(a64::CpuProfile::default(), Box::new(a64::NoMmio::default()));
//! let _ = &cpu.core.tlb; // private to the crate
//! ```
//!
//! ```compile_fail
//! let p = a64::mem::HostPtr(std::ptr::null_mut()); // the field is private to the crate
//! ```

pub mod access;
pub mod cache;
pub mod cpu;
pub mod decode;
pub mod exception;
pub mod exec;
pub mod jit;
pub mod mem;
pub mod mmu;
pub mod state;
pub mod sysreg;
pub mod table;
pub mod timer;
pub mod tlb;
pub mod user;

pub use cpu::{Core, Cpu, Exit, Shootdown, TakenException, EXCEPTION_LOOP};
pub use jit::JitStats;
pub use mem::{BusFault, Mmio, NoMmio};
pub use sysreg::CpuProfile;
