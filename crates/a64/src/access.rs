//! Virtual memory accesses of instructions: the TLB fast path (host pointer
//! into RAM, no alignment or page crossing) and the slow path (translation,
//! faults, alignment, page-crossing splits, MMIO, code-page invalidation).

use std::sync::atomic::Ordering;

use crate::cpu::Core;
use crate::decode::Flow;
use crate::exception::{ec, SyncException, FSC_ALIGNMENT, FSC_EXTERNAL};
use crate::mem::{load_host, store_host, HostPtr};
use crate::mmu::{self, Translation};
use crate::sysreg::sctlr;
use crate::tlb::{slot, table, AccessKind, Fill, PAGE_MASK};

/// Result of a memory access: `Err` carries the flow after the exception.
pub type MemResult<T> = Result<T, Flow>;

impl Core {
    /// Translate `va` for `kind` with the permissions of `el`.
    ///
    /// # Errors
    /// The stage-1 fault.
    pub fn translate(
        &mut self,
        va: u64,
        kind: AccessKind,
        el: u8,
    ) -> Result<Translation, mmu::Fault> {
        if self.user_mode {
            // Flat user address space: VA = PA with the top byte ignored (TBI0).
            return Ok(Translation {
                pa: va & 0x00ff_ffff_ffff_ffff,
                attr: 0xff,
                sh: 3,
                global: true,
                large: false,
                block_shift: 12,
            });
        }
        let regs = mmu::MmuRegs {
            sctlr: self.sys.sctlr,
            tcr: self.sys.tcr,
            ttbr0: self.sys.ttbr0,
            ttbr1: self.sys.ttbr1,
            mair: self.sys.mair,
            pa_bits: self.pa_bits(),
        };
        let mem = &mut self.mem;
        mmu::translate(&regs, va, kind, el, |pa| mem.read(pa, 8).ok())
    }

    /// Physical address size in bits from the profile (ID_AA64MMFR0.PARange).
    #[must_use]
    pub fn pa_bits(&self) -> u32 {
        match self.profile.id_aa64mmfr0 & 0xf {
            0 => 32,
            1 => 36,
            2 => 40,
            3 => 42,
            4 => 44,
            _ => 48,
        }
    }

    /// Take a data abort for `va` with fault status `fsc`.
    pub fn data_abort(&mut self, va: u64, fsc: u32, write: bool, cm: bool) -> Flow {
        let lower = self.regs.pstate.el == 0;
        let iss = fsc | (u32::from(write) << 6) | (u32::from(cm) << 8);
        let pc = self.regs.pc;
        self.take_sync(SyncException {
            ec: if lower { ec::DABT_LOWER } else { ec::DABT_SAME },
            iss,
            far: Some(va),
            ret: pc,
        })
    }

    /// Take an instruction abort for `va` with fault status `fsc`.
    pub fn fetch_abort(&mut self, va: u64, fsc: u32) -> Flow {
        let lower = self.regs.pstate.el == 0;
        self.take_sync(SyncException {
            ec: if lower { ec::IABT_LOWER } else { ec::IABT_SAME },
            iss: fsc,
            far: Some(va),
            ret: va,
        })
    }

    fn fill(&mut self, va: u64, kind: AccessKind, el: u8, t: &Translation) {
        if t.device() || (!self.user_mode && self.sys.sctlr & sctlr::A != 0) {
            return;
        }
        let pa_page = t.pa & PAGE_MASK;
        if kind == AccessKind::Write && self.code_pages.contains(&pa_page) {
            return;
        }
        let Some((host, left)) = self.mem.ram_ptr(pa_page) else {
            return;
        };
        if left < 4096 {
            return;
        }
        self.tlb.fill(
            table(el, kind),
            Fill {
                va,
                host,
                pa_page,
                code: 0,
                global: t.global,
                large: t.large,
                block_shift: t.block_shift,
            },
        );
    }

    /// Translate a data access, taking the abort on failure.
    fn translate_data(
        &mut self,
        va: u64,
        kind: AccessKind,
        el: u8,
        cm: bool,
    ) -> MemResult<Translation> {
        self.translate(va, kind, el)
            .map_err(|f| self.data_abort(va, f.status(), kind == AccessKind::Write, cm))
    }

    /// Read `size` (1..=8) bytes at `va` with the permissions of `el`.
    /// `align` demands natural alignment (exclusives, acquire/release).
    ///
    /// # Errors
    /// The exception taken.
    #[inline(always)]
    pub fn read_el<const N: usize>(&mut self, va: u64, el: u8) -> MemResult<u64> {
        let e = &self.tlb.t[table(el, AccessKind::Read)][slot(va)];
        if e.tag == va & PAGE_MASK && (va & 0xfff) <= (4096 - N) as u64 {
            // SAFETY: the entry was filled from a whole 4 KiB RAM page
            // (PhysMem::add_ram keeps it valid) and the offset check keeps
            // all N bytes inside that page.
            return Ok(unsafe { load_host::<N>(e.host.0.wrapping_add((va & 0xfff) as usize)) });
        }
        self.read_slow(va, N, el, false)
    }

    /// Whether the TLB holds a translation of `va`'s page for `kind` with the permissions
    /// of `el`: the page is then normal RAM that this access may make (a cached entry is
    /// only ever filled for such a page), with no walk needed to know it.
    #[inline(always)]
    #[must_use]
    pub fn tlb_hit(&self, va: u64, kind: AccessKind, el: u8) -> bool {
        self.tlb.t[table(el, kind)][slot(va)].tag == va & PAGE_MASK
    }

    /// Read at the current EL.
    ///
    /// # Errors
    /// The exception taken.
    #[inline(always)]
    pub fn read<const N: usize>(&mut self, va: u64) -> MemResult<u64> {
        self.read_el::<N>(va, self.regs.pstate.el)
    }

    /// Write `size` (1..=8) bytes at `va` with the permissions of `el`.
    ///
    /// # Errors
    /// The exception taken.
    #[inline(always)]
    pub fn write_el<const N: usize>(&mut self, va: u64, v: u64, el: u8) -> MemResult<()> {
        let e = &self.tlb.t[table(el, AccessKind::Write)][slot(va)];
        if e.tag == va & PAGE_MASK && (va & 0xfff) <= (4096 - N) as u64 {
            // SAFETY: as in `read_el`; write entries are only filled for
            // pages the translation allows writing.
            unsafe { store_host::<N>(e.host.0.wrapping_add((va & 0xfff) as usize), v) };
            return Ok(());
        }
        self.write_slow(va, N, v, el, false)
    }

    /// Write at the current EL.
    ///
    /// # Errors
    /// The exception taken.
    #[inline(always)]
    pub fn write<const N: usize>(&mut self, va: u64, v: u64) -> MemResult<()> {
        self.write_el::<N>(va, v, self.regs.pstate.el)
    }

    /// Read two consecutive `N`-byte values at `va` (pairs, Q registers):
    /// one TLB lookup when both lie in one page.
    ///
    /// # Errors
    /// The exception taken.
    #[inline(always)]
    pub fn read_pair<const N: usize>(&mut self, va: u64, el: u8) -> MemResult<(u64, u64)> {
        let e = &self.tlb.t[table(el, AccessKind::Read)][slot(va)];
        if e.tag == va & PAGE_MASK && (va & 0xfff) <= (4096 - 2 * N) as u64 {
            let p = e.host.0.wrapping_add((va & 0xfff) as usize);
            // SAFETY: as in `read_el`, for 2*N bytes inside the page.
            return Ok(unsafe { (load_host::<N>(p), load_host::<N>(p.wrapping_add(N))) });
        }
        let a = self.read_el::<N>(va, el)?;
        let b = self.read_el::<N>(va.wrapping_add(N as u64), el)?;
        Ok((a, b))
    }

    /// Write two consecutive `N`-byte values at `va`: one TLB lookup when
    /// both lie in one page; otherwise the second page is checked first so
    /// that a fault leaves memory unchanged.
    ///
    /// # Errors
    /// The exception taken.
    #[inline(always)]
    pub fn write_pair<const N: usize>(&mut self, va: u64, a: u64, b: u64, el: u8) -> MemResult<()> {
        let e = &self.tlb.t[table(el, AccessKind::Write)][slot(va)];
        if e.tag == va & PAGE_MASK && (va & 0xfff) <= (4096 - 2 * N) as u64 {
            let p = e.host.0.wrapping_add((va & 0xfff) as usize);
            // SAFETY: as in `write_el`, for 2*N bytes inside the page.
            unsafe {
                store_host::<N>(p, a);
                store_host::<N>(p.wrapping_add(N), b);
            }
            return Ok(());
        }
        let second = va.wrapping_add(N as u64);
        if (va & 0xfff) + 2 * N as u64 > 4096 {
            // The pair spans two pages: probe the last byte's page first.
            let last = va.wrapping_add(2 * N as u64 - 1);
            self.translate_data(last, AccessKind::Write, el, false)?;
        }
        self.write_el::<N>(va, a, el)?;
        self.write_el::<N>(second, b, el)
    }

    /// Aligned read at the current EL (alignment fault otherwise).
    ///
    /// # Errors
    /// The exception taken.
    pub fn read_aligned(&mut self, va: u64, size: usize) -> MemResult<u64> {
        let el = self.regs.pstate.el;
        // Aligned, so inside one page: a TLB hit is the slow path's answer without its
        // walk (exclusives and acquires are most of a kernel's walks otherwise).
        if va & (size as u64).wrapping_sub(1) == 0 {
            match size {
                1 => return self.read_el::<1>(va, el),
                2 => return self.read_el::<2>(va, el),
                4 => return self.read_el::<4>(va, el),
                8 => return self.read_el::<8>(va, el),
                _ => {}
            }
        }
        self.read_slow(va, size, el, true)
    }

    /// Aligned write at the current EL (alignment fault otherwise).
    ///
    /// # Errors
    /// The exception taken.
    pub fn write_aligned(&mut self, va: u64, size: usize, v: u64) -> MemResult<()> {
        let el = self.regs.pstate.el;
        // As `read_aligned` (a write entry is never filled for a page holding code).
        if va & (size as u64).wrapping_sub(1) == 0 {
            match size {
                1 => return self.write_el::<1>(va, v, el),
                2 => return self.write_el::<2>(va, v, el),
                4 => return self.write_el::<4>(va, v, el),
                8 => return self.write_el::<8>(va, v, el),
                _ => {}
            }
        }
        self.write_slow(va, size, v, el, true)
    }

    /// Slow-path read.
    ///
    /// # Errors
    /// The exception taken.
    #[inline(never)]
    pub fn read_slow(&mut self, va: u64, size: usize, el: u8, align: bool) -> MemResult<u64> {
        let size = size.clamp(1, 8);
        let misaligned = va & (size as u64 - 1) != 0;
        if misaligned && (align || (!self.user_mode && self.sys.sctlr & sctlr::A != 0)) {
            return Err(self.data_abort(va, FSC_ALIGNMENT, false, false));
        }
        if (va & 0xfff) + size as u64 > 4096 {
            // Crosses a page: byte by byte, each translated on its own.
            let mut v = 0u64;
            for i in 0..size {
                let b = self.read_slow(va.wrapping_add(i as u64), 1, el, false)?;
                v |= b << (8 * i);
            }
            return Ok(v);
        }
        let t = self.translate_data(va, AccessKind::Read, el, false)?;
        if misaligned && t.device() {
            return Err(self.data_abort(va, FSC_ALIGNMENT, false, false));
        }
        self.fill(va, AccessKind::Read, el, &t);
        let irq = self.irq_line.load(Ordering::Relaxed);
        let r = self
            .mem
            .read(t.pa, size)
            .map_err(|_| self.data_abort(va, FSC_EXTERNAL, false, false));
        self.irq_line_moved(irq);
        r
    }

    /// An MMIO access may have changed the interrupt controller's output: end the block
    /// at the next branch so that a new interrupt is taken at once (the architecture only
    /// promises "eventually"; a GIC's nIRQ reaches the PE within a few cycles).
    #[inline]
    fn irq_line_moved(&mut self, before: bool) {
        if self.irq_line.load(Ordering::Relaxed) != before {
            self.attention = true;
        }
    }

    /// Slow-path write.
    ///
    /// # Errors
    /// The exception taken.
    #[inline(never)]
    pub fn write_slow(
        &mut self,
        va: u64,
        size: usize,
        v: u64,
        el: u8,
        align: bool,
    ) -> MemResult<()> {
        let size = size.clamp(1, 8);
        let misaligned = va & (size as u64 - 1) != 0;
        if misaligned && (align || (!self.user_mode && self.sys.sctlr & sctlr::A != 0)) {
            return Err(self.data_abort(va, FSC_ALIGNMENT, true, false));
        }
        if (va & 0xfff) + size as u64 > 4096 {
            // Probe the second page first so that a fault writes nothing.
            let second = (va | 0xfff).wrapping_add(1);
            self.translate_data(second, AccessKind::Write, el, false)?;
            for i in 0..size {
                self.write_slow(va.wrapping_add(i as u64), 1, v >> (8 * i), el, false)?;
            }
            return Ok(());
        }
        let t = self.translate_data(va, AccessKind::Write, el, false)?;
        if misaligned && t.device() {
            return Err(self.data_abort(va, FSC_ALIGNMENT, true, false));
        }
        self.fill(va, AccessKind::Write, el, &t);
        if self.code_pages.contains(&(t.pa & PAGE_MASK)) {
            self.queue_inval(t.pa, size as u64);
        }
        let irq = self.irq_line.load(Ordering::Relaxed);
        let r = self
            .mem
            .write(t.pa, size, v)
            .map_err(|_| self.data_abort(va, FSC_EXTERNAL, true, false));
        self.irq_line_moved(irq);
        r
    }

    /// Physical address of `va` for the exclusive monitor (translating as a
    /// read at the current EL).
    ///
    /// # Errors
    /// The exception taken.
    pub fn monitor_pa(&mut self, va: u64) -> MemResult<u64> {
        let el = self.regs.pstate.el;
        let e = &self.tlb.t[table(el, AccessKind::Read)][slot(va)];
        if e.tag == va & PAGE_MASK {
            return Ok(e.pa_page | (va & 0xfff));
        }
        Ok(self.translate_data(va, AccessKind::Read, el, false)?.pa)
    }

    /// Host pointer of the RAM page mapping `va` for reading, if any (used
    /// by bulk operations).
    #[must_use]
    pub fn host_page(&self, va: u64, kind: AccessKind) -> Option<HostPtr> {
        let e = &self.tlb.t[table(self.regs.pstate.el, kind)][slot(va)];
        (e.tag == va & PAGE_MASK).then_some(e.host)
    }

    /// Recompute the ASID from TCR/TTBR and drop non-global TLB entries if it
    /// changed ("context switches write TTBR without TLBI").
    pub fn sync_asid(&mut self) {
        let a = mmu::asid(self.sys.tcr, self.sys.ttbr0, self.sys.ttbr1);
        if a != self.asid {
            self.asid = a;
            self.tlb.flush_non_global();
        }
    }
}
