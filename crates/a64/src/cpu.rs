//! The processing element: architectural state plus the execute loop.
//!
//! [`Core`] is everything an instruction handler may touch; [`Cpu`] adds the
//! decoded-code cache, which only the loop touches, so that a handler can
//! never invalidate the page it is running from (invalidation requests are
//! queued and applied at the block boundary, which the architecture allows:
//! new code is only guaranteed visible after IC IVAU + ISB, both of which end
//! the block).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::cache::{CodeCache, OPS_PER_PAGE};
use crate::decode::{Flow, GROUPS};
use crate::exception::{ec, SyncException, Vector};
use crate::jit::{ret, Frame, Jit, JitStats};
use crate::mem::{HostPtr, Mmio, PhysMem};
use crate::state::{Regs, DAIF_ALL, DAIF_I, SP};
use crate::sysreg::{CpuProfile, SysRegs};
use crate::tlb::{slot, table, AccessKind, Fill, Tlb, PAGE_MASK};

/// Why [`Cpu::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The instruction budget ran out, the timer deadline was reached, or
    /// the guest wrote a timer register: re-sample [`Core::vtimer_irq`] /
    /// [`Core::ptimer_irq`], update the interrupt controller, and run again.
    Budget,
    /// WFI: nothing to do until an interrupt; `deadline` is the virtual
    /// counter value at which the enabled timer fires, if any.
    Idle {
        /// CNTVCT value when the virtual timer condition becomes true.
        deadline: Option<u64>,
    },
    /// HVC at EL1 (firmware call, e.g. PSCI): `pc` is already past the HVC;
    /// the embedder edits X0-X3 and resumes.
    Hvc(u16),
    /// `b .` with IRQs masked: the PE can never leave it (see branch.rs `b_self`); `pc` is
    /// the branch.
    Halted,
    /// SEV: the embedder sets every PE's event register (and may release parked PEs).
    Sev,
    /// WFE with the event register clear on a PE that shares the machine with others:
    /// the embedder runs the others before this one again (the wait ends at the next
    /// turn, which the architecture allows: WFE may complete at any time).
    Yield,
    /// SMC at EL1 (a call to the EL3 firmware): `pc` is already past the SMC; the
    /// embedder edits X0-X3 and resumes.
    Smc(u16),
    /// User mode: SVC (system call). `pc` is past the SVC.
    Svc(u16),
    /// User mode: a synchronous exception the runner must handle.
    Exception(SyncException),
    /// The same synchronous exception was taken [`EXCEPTION_LOOP`] times in a row (same
    /// return address, syndrome and fault address): the guest makes no progress.
    /// [`Cpu::exception_loop`] says which.
    ExceptionLoop,
}

/// Identical synchronous exceptions in a row after which [`Cpu::run`] reports
/// [`Exit::ExceptionLoop`]. A handler that fixes the cause (a page fault, an emulated
/// instruction) changes the next exception's address or syndrome, so a working guest
/// never gets near this; one whose vectors or handler are missing reaches it in well
/// under a second.
pub const EXCEPTION_LOOP: u64 = 100_000;

/// A maintenance operation that the architecture broadcasts to every PE of the inner
/// shareable domain (TLBI ...IS, IC IALLUIS, IC IVAU): recorded by the PE that ran it, for
/// the embedder to apply to the other PEs before they run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shootdown {
    /// TLBI VMALLE1IS.
    TlbAll,
    /// TLBI ASIDE1IS (non-global entries; the others' current ASIDs differ, so this is
    /// what their TLBs hold of any ASID).
    TlbNonGlobal,
    /// TLBI VAE1IS and friends, for the VA.
    TlbVa(u64),
    /// IC IVAU: decoded code at physical `[pa, pa + len)`.
    Code(u64, u64),
    /// IC IALLUIS.
    CodeAll,
}

/// Shootdowns one PE records before the embedder collects them; beyond it the record
/// collapses into "everything".
const MAX_SHOOTDOWNS: usize = 256;

/// A synchronous exception as the loop watch compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakenException {
    /// Preferred return address (ELR_EL1): where the exception was raised.
    pub ret: u64,
    /// ESR_EL1.
    pub esr: u64,
    /// FAR_EL1, for exceptions that set it.
    pub far: Option<u64>,
    /// The vector the exception entered (VBAR_EL1 + offset).
    pub vector: u64,
    /// VBAR_EL1 at the time.
    pub vbar: u64,
}

/// Everything instruction handlers can see.
pub struct Core {
    /// Registers.
    pub regs: Regs,
    /// System registers.
    pub sys: SysRegs,
    /// Identification profile.
    pub profile: CpuProfile,
    /// Guest-physical memory (crate-private: the TLB holds host pointers into its RAM
    /// regions; [`Core::phys`] gives the safe part of its interface).
    pub(crate) mem: PhysMem,
    /// Software TLB (crate-private: its entries hold host pointers the loads and stores
    /// use unchecked).
    pub(crate) tlb: Tlb,
    /// Exclusive monitor: (physical address, size) armed by a load-exclusive.
    pub monitor: Option<(u64, u8)>,
    /// Instructions retired.
    pub icount: u64,
    /// Virtual counter ticks skipped while idle (added to `icount`).
    pub idle_ticks: u64,
    /// Something outside the straight-line path changed: recheck at the
    /// block boundary (pending invalidations, EL/ASID/timer changes).
    pub attention: bool,
    /// Set by handlers to make `run` return.
    pub exit: Option<Exit>,
    /// UNDEFINED words executed, per top-level group.
    pub undef_counts: [u64; GROUPS],
    /// The first distinct UNDEFINED words seen, with how often each ran
    /// (capacity fixed at creation: recording never allocates).
    pub undef_words: Vec<(u32, u64)>,
    /// User mode: no EL1 software; SVC and exceptions exit to the runner,
    /// translation is flat (VA = PA, top byte ignored).
    pub user_mode: bool,
    /// Level of the IRQ input, shared with the interrupt controller model
    /// (which may change it from inside an MMIO access); sampled at block
    /// boundaries.
    pub irq_line: Arc<AtomicBool>,
    /// Physical pages holding decoded code (mirrors the cache's keys).
    pub code_pages: crate::cache::PageSet,
    /// Queued code invalidations (physical address, length).
    pub inval: Vec<(u64, u64)>,
    /// Queued full code invalidation.
    pub inval_all: bool,
    /// ASID the TLB currently holds non-global entries for.
    pub asid: u16,
    /// The last synchronous exception taken to EL1 and how many times in a row it was
    /// taken identically (the exception-loop watch).
    pub sync_repeat: Option<(TakenException, u64)>,
    /// The synchronous exception before that run of identical ones (how a loop began).
    pub sync_before: Option<TakenException>,
    /// Other PEs share the machine: WFE waits, SEV and the broadcast maintenance
    /// operations are reported to the embedder.
    pub multi_pe: bool,
    /// The event register (WFE/SEV).
    pub event: bool,
    /// Broadcast maintenance this PE ran since the embedder last collected it.
    pub(crate) shootdowns: Vec<Shootdown>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("pc", &format_args!("{:#x}", self.regs.pc))
            .field("el", &self.regs.pstate.el)
            .field("icount", &self.icount)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// Read register slot `i`.
    #[inline(always)]
    #[must_use]
    pub fn x(&self, i: u8) -> u64 {
        self.regs.x[usize::from(i & 63)]
    }

    /// Write register slot `i`.
    #[inline(always)]
    pub fn set_x(&mut self, i: u8, v: u64) {
        self.regs.x[usize::from(i & 63)] = v;
    }

    /// The virtual counter (CNTVCT_EL0): one tick per retired instruction
    /// plus skipped idle time, so guest time is deterministic.
    #[must_use]
    pub fn counter(&self) -> u64 {
        self.icount.wrapping_add(self.idle_ticks)
    }

    /// Queue invalidation of decoded code at physical `[pa, pa+len)`.
    pub fn queue_inval(&mut self, pa: u64, len: u64) {
        if self.inval.len() < self.inval.capacity() {
            self.inval.push((pa, len));
        } else {
            self.inval_all = true;
        }
        self.attention = true;
    }

    /// Guest-physical memory: registering RAM (`unsafe`), reads and writes by physical
    /// address. Host pointers never leave it.
    pub fn phys(&mut self) -> &mut PhysMem {
        &mut self.mem
    }

    /// Drops every TLB entry (after the embedder changed translation state directly).
    pub fn flush_tlb(&mut self) {
        self.tlb.flush_all();
    }

    /// Records a broadcast maintenance operation for the other PEs.
    pub(crate) fn broadcast(&mut self, op: Shootdown) {
        if !self.multi_pe {
            return;
        }
        if self.shootdowns.len() < MAX_SHOOTDOWNS {
            self.shootdowns.push(op);
        } else {
            self.shootdowns.clear();
            self.shootdowns.push(Shootdown::TlbAll);
            self.shootdowns.push(Shootdown::CodeAll);
        }
    }

    /// Whether an IRQ is pending and unmasked.
    #[inline(always)]
    #[must_use]
    pub fn irq_pending(&self) -> bool {
        self.regs.pstate.daif & DAIF_I == 0 && self.irq_line.load(Ordering::Relaxed)
    }
}

/// A processing element with its decoded-code cache.
#[derive(Debug)]
pub struct Cpu {
    /// Architectural and memory state.
    pub core: Core,
    cache: CodeCache,
    /// Ring of the most recently executed PCs, when tracing is on.
    trace: Option<(Vec<u64>, usize)>,
    /// The translator, when on.
    jit: Option<Jit>,
}

/// Most physical pages of decoded code kept (24 KiB each) before the cache
/// is dropped and rebuilt.
pub const MAX_CODE_PAGES: usize = 8192;

/// How many distinct UNDEFINED words are remembered.
pub const UNDEF_WORDS: usize = 256;

/// Most instructions one block runs before rechecking interrupts and budget.
pub(crate) const MAX_BLOCK: u64 = 4096;

impl Cpu {
    /// A CPU in the reset state (EL1h, DAIF masked, MMU off, PC 0).
    #[must_use]
    pub fn new(profile: CpuProfile, mmio: Box<dyn Mmio>) -> Self {
        let sys = SysRegs::reset(&profile);
        Self {
            core: Core {
                regs: Regs::default(),
                sys,
                profile,
                mem: PhysMem::new(mmio),
                tlb: Tlb::new(),
                monitor: None,
                icount: 0,
                idle_ticks: 0,
                attention: true,
                exit: None,
                undef_counts: [0; GROUPS],
                undef_words: Vec::with_capacity(UNDEF_WORDS),
                user_mode: false,
                irq_line: Arc::new(AtomicBool::new(false)),
                code_pages: crate::cache::PageSet::default(),
                inval: Vec::with_capacity(64),
                inval_all: false,
                asid: 0,
                sync_repeat: None,
                sync_before: None,
                multi_pe: false,
                event: false,
                shootdowns: Vec::new(),
            },
            cache: CodeCache::default(),
            trace: None,
            jit: None,
        }
    }

    /// Record the PCs of the last `depth` instructions (0 turns tracing
    /// off). Tracing runs one instruction per block: for debugging only.
    pub fn set_pc_trace(&mut self, depth: usize) {
        self.trace = (depth > 0).then(|| (Vec::with_capacity(depth), 0));
    }

    /// The traced PCs, oldest first.
    #[must_use]
    pub fn pc_trace(&self) -> Vec<u64> {
        match &self.trace {
            Some((buf, pos)) if buf.len() == buf.capacity() => {
                buf[*pos..].iter().chain(&buf[..*pos]).copied().collect()
            }
            Some((buf, _)) => buf.clone(),
            None => Vec::new(),
        }
    }

    /// Switch to Linux-user mode at EL0 (see [`Core::user_mode`]).
    pub fn set_user_mode(&mut self) {
        self.core.user_mode = true;
        self.core.regs.switch_sp(0, false);
        self.core.regs.pstate.daif = 0;
        // FP/SIMD enabled at EL0, as Linux does for user processes.
        self.core.sys.cpacr = 3 << 20;
        self.core.tlb.flush_all();
    }

    /// Number of physical pages holding decoded code.
    #[must_use]
    pub fn code_pages(&self) -> usize {
        self.cache.len()
    }

    /// Drops all decoded code and its translations (page indices become invalid, so the
    /// fetch TLB entries holding them go too).
    fn clear_code(&mut self) {
        self.cache.clear();
        self.core.code_pages.clear();
        self.core.tlb.flush_fetch();
        if let Some(j) = &mut self.jit {
            j.clear();
        }
    }

    /// Apply queued invalidations and other block-boundary work.
    fn service(&mut self) {
        let c = &mut self.core;
        c.attention = false;
        if c.inval_all {
            c.inval_all = false;
            c.inval.clear();
            self.clear_code();
        }
        let c = &mut self.core;
        let jit = &mut self.jit;
        for &(pa, len) in &c.inval {
            self.cache.invalidate(pa, len, |idx, from, to| {
                if let Some(j) = jit.as_mut() {
                    j.invalidate(idx, from, to);
                }
            });
        }
        c.inval.clear();
        c.sync_asid();
    }

    /// Find (or create) the decoded page for the current PC. `None` means an
    /// exception was taken (or an exit set) instead.
    fn code_page(&mut self) -> Option<(u32, HostPtr)> {
        let c = &mut self.core;
        let pc = c.regs.pc;
        let el = c.regs.pstate.el;
        let e = &c.tlb.t[table(el, AccessKind::Fetch)][slot(pc)];
        if e.tag == pc & PAGE_MASK {
            return Some((e.code, e.host));
        }
        if pc & 3 != 0 {
            c.take_sync(SyncException {
                ec: ec::PC_ALIGN,
                iss: 0,
                far: Some(pc),
                ret: pc,
            });
            return None;
        }
        let t = match c.translate(pc, AccessKind::Fetch, el) {
            Ok(t) => t,
            Err(f) => {
                c.fetch_abort(pc, f.status());
                return None;
            }
        };
        let pa_page = t.pa & PAGE_MASK;
        let host = match c.mem.ram_ptr(pa_page) {
            Some((h, left)) if left >= 4096 => h,
            _ => {
                c.fetch_abort(pc, crate::exception::FSC_EXTERNAL);
                return None;
            }
        };
        if self.cache.len() >= MAX_CODE_PAGES && !self.cache.holds(pa_page) {
            // Bound host memory: start over rather than grow without limit.
            self.clear_code();
        }
        let (idx, new) = self.cache.page_index(pa_page);
        if new {
            if let Some(j) = &mut self.jit {
                j.page_created(idx);
            }
        }
        let c = &mut self.core;
        if new {
            c.code_pages.insert(pa_page);
            c.tlb.flush_writes_to(pa_page);
        }
        c.tlb.fill(
            table(el, AccessKind::Fetch),
            Fill {
                va: pc,
                host,
                pa_page,
                code: idx,
                global: t.global,
                large: t.large,
                block_shift: t.block_shift,
            },
        );
        Some((idx, host))
    }

    /// Decode the word at the current PC into its slot.
    fn decode_at_pc(&mut self, idx: u32, host: HostPtr) {
        let slot = ((self.core.regs.pc & 0xffc) >> 2) as usize;
        let word = |i: usize| crate::cache::page_word(host, slot + i);
        // `slot` is inside the page, so its own word is always there.
        let (op, _) =
            crate::exec::fused::decode_words(word(0).unwrap_or_default(), word(1), word(2));
        self.cache.set(idx, slot, op);
    }

    /// Run until `max_insns` instructions have retired, the timer deadline is
    /// reached, or something needs the embedder.
    pub fn run(&mut self, max_insns: u64) -> Exit {
        let mut end = self.core.icount.saturating_add(max_insns);
        if let Some(d) = self.core.timer_deadline_icount() {
            end = end.min(d.max(self.core.icount + 1));
        }
        loop {
            if let Some(e) = self.core.exit.take() {
                return e;
            }
            if self.core.attention {
                self.service();
                if let Some(d) = self.core.timer_deadline_icount() {
                    end = end.min(d.max(self.core.icount + 1));
                }
            }
            if self.core.icount >= end {
                return Exit::Budget;
            }
            if self.core.irq_pending() && !self.core.user_mode {
                let pc = self.core.regs.pc;
                self.core.enter_el1(Vector::Irq, pc);
                continue;
            }
            if self.core.regs.pstate.il {
                let pc = self.core.regs.pc;
                self.core.take_sync(SyncException {
                    ec: ec::ILLEGAL,
                    iss: 0,
                    far: None,
                    ret: pc,
                });
                continue;
            }
            let Some((idx, host)) = self.code_page() else {
                continue;
            };
            let pc = self.core.regs.pc;
            let limit = if self.trace.is_some() {
                1
            } else {
                (end - self.core.icount).min(MAX_BLOCK)
            };
            if self.jit.is_some() {
                self.translate_hot(idx, host);
            }
            // A TB may chain into other pages' blocks: the page the block ended in comes back.
            let (n, flow, idx, host) = self.run_block(idx, host, limit, end);
            self.core.icount += n;
            if let Some((buf, pos)) = &mut self.trace {
                if flow != Some(Flow::Decode) {
                    if buf.len() < buf.capacity() {
                        buf.push(pc);
                    } else if let Some(slot) = buf.get_mut(*pos) {
                        *slot = pc;
                        *pos = (*pos + 1) % buf.capacity();
                    }
                }
            }
            if flow == Some(Flow::Decode) {
                self.decode_at_pc(idx, host);
            }
        }
    }

    /// At a block boundary: translates the entries that became hot, and the block about to
    /// run (page `idx`, guest page at `host`) if it is hot now.
    fn translate_hot(&mut self, idx: u32, host: HostPtr) {
        let Some(j) = &mut self.jit else {
            return;
        };
        let c = &self.core;
        if c.attention || !c.inval.is_empty() {
            // Queued invalidations first: they apply at the next boundary.
            return;
        }
        // What DC ZVA does on this PE, for the code generated for it.
        let zva = || (c.profile.zva_bytes(), c.user_mode);
        while let Some((pi, ps, ph, pel)) = j.pending.pop() {
            if let Some(page) = self.cache.page(pi) {
                j.translate(pi, usize::from(ps), ph, page, pel, zva());
            }
        }
        let el = c.regs.pstate.el;
        let slot = ((c.regs.pc >> 2) as usize) & (OPS_PER_PAGE - 1);
        let threshold = j.threshold;
        let hot = match j.pages.get_mut(idx as usize) {
            Some(jp) => Jit::heat(jp, slot, threshold),
            _ => false,
        };
        if hot {
            if let Some(page) = self.cache.page(idx) {
                j.translate(idx, slot, host, page, el, zva());
            }
        }
    }

    /// Execute from the current PC within one decoded page (guest page at `host`). Returns
    /// the number of instructions retired and not yet added to `icount`, and the flow that
    /// stopped the block. Translated blocks run where they start (at the block's start and
    /// at in-page branch targets) and do exactly what this loop would.
    ///
    /// A TB may also go on to the blocks after its own (see [`crate::jit`]'s `chain`),
    /// doing between them what [`Cpu::run`] does: the page index and guest page the last
    /// block ran in are returned too. `end` is the run's instruction count limit.
    #[inline(never)]
    fn run_block(
        &mut self,
        mut idx: u32,
        mut host: HostPtr,
        mut limit: u64,
        end: u64,
    ) -> (u64, Option<Flow>, u32, HostPtr) {
        let Some(mut page) = self.cache.page(idx) else {
            return (0, None, idx, host);
        };
        let c = &mut self.core;
        let mut jit = self.jit.as_mut();
        let chain = u64::from(self.trace.is_none());
        let mut page_va = c.regs.pc & PAGE_MASK;
        let mut slot = ((c.regs.pc >> 2) as usize) & (OPS_PER_PAGE - 1);
        let mut n = 0u64;
        // Instructions already added to `icount` (at taken branches, so that
        // counter reads in a long in-page loop stay current).
        let mut committed = 0u64;
        // Straight-line execution stops at the page end or when the budget
        // is used up, whichever comes first (exact budgets for the timer and
        // for single-stepping).
        let mut stop = (slot + limit as usize).min(OPS_PER_PAGE);
        loop {
            // Translated code tests `attention` only after the handlers it calls (nothing
            // else sets it): a block that has it set is finished by the interpreter.
            if let Some(j) = jit.as_deref_mut().filter(|_| !c.attention) {
                if let Some(code) = j.tb_at(idx, slot, c.regs.pstate.el) {
                    j.stats.entries += 1;
                    let mut f = Frame {
                        n,
                        committed,
                        limit,
                        page_va,
                        slot: slot as u64,
                        end,
                        chain,
                        idx: u64::from(idx),
                        host: host.0 as usize,
                        jit: std::ptr::from_mut(j),
                        chained: 0,
                    };
                    // SAFETY: `code` is a live TB of this page for the current EL (tb_at),
                    // `page_va` is the page's VA, and `n < limit` here (at the block's
                    // start `limit >= 1`; after a branch or a TB it was checked). `f.jit`
                    // is `j`, not used again until the TB returns.
                    let r = unsafe { crate::jit::enter(code, c, &mut f) };
                    j.stats.entries += f.chained;
                    n = f.n;
                    committed = f.committed;
                    // The TB may have chained on (to a block of this page or another):
                    // continue with its last block's page and budget.
                    limit = f.limit;
                    page_va = f.page_va;
                    if f.idx != u64::from(idx) {
                        idx = f.idx as u32;
                        host = HostPtr(f.host as *mut u8);
                        page = match self.cache.page(idx) {
                            Some(p) => p,
                            None => return (n - committed, None, idx, host),
                        };
                    }
                    match r {
                        ret::CONTINUE => {
                            slot = (f.slot as usize) & (OPS_PER_PAGE - 1);
                            stop = (slot + (limit - n) as usize).min(OPS_PER_PAGE);
                            continue;
                        }
                        ret::NONE => return (n - committed, None, idx, host),
                        ret::BRANCH => return (n - committed, Some(Flow::Branch), idx, host),
                        ret::END => return (n - committed + 1, Some(Flow::End), idx, host),
                        r => {
                            debug_assert_eq!(r, ret::DECODE);
                            return (n - committed, Some(Flow::Decode), idx, host);
                        }
                    }
                }
            }
            // Straight-line code until a branch: a TB is looked for only where one can
            // start (the block's start, in-page branch targets, where a TB handed back).
            loop {
                let op = &page[slot & (OPS_PER_PAGE - 1)];
                let r = (op.h)(c, op);
                // Test the common case first: a match compiles to a jump table,
                // a second indirect branch per instruction.
                if r.is_ok() {
                    c.regs.pc = c.regs.pc.wrapping_add(4);
                    n += 1;
                    slot += 1;
                    if slot >= stop {
                        return (n - committed, None, idx, host);
                    }
                    continue;
                }
                if r == Err(Flow::Branch) {
                    n += 1;
                    let pc = c.regs.pc;
                    if pc & PAGE_MASK != page_va || pc & 3 != 0 || c.attention || n >= limit {
                        return (n - committed, Some(Flow::Branch), idx, host);
                    }
                    c.icount += n - committed;
                    committed = n;
                    slot = ((pc >> 2) as usize) & (OPS_PER_PAGE - 1);
                    stop = (slot + (limit - n) as usize).min(OPS_PER_PAGE);
                    if let Some(j) = jit.as_deref_mut() {
                        let threshold = j.threshold;
                        if let Some(jp) = j.pages.get_mut(idx as usize) {
                            if Jit::heat(jp, slot, threshold) {
                                j.want((idx, slot as u16, host, c.regs.pstate.el));
                            }
                        }
                    }
                    break;
                }
                // End (the instruction completed or took an exception) or Decode
                // (nothing ran).
                let flow = r.err();
                return (
                    n - committed + u64::from(flow == Some(Flow::End)),
                    flow,
                    idx,
                    host,
                );
            }
        }
    }

    /// Turns the translator on (`Some(threshold)`: blocks are translated once entered that
    /// many times; 0 translates every block the first time) or off (`None`). Returns false
    /// when this host has no translator (the interpreter then runs alone).
    pub fn set_translation(&mut self, threshold: Option<u16>) -> bool {
        self.jit = None;
        let Some(t) = threshold else {
            return true;
        };
        if !crate::jit::supported() {
            return false;
        }
        let mut j = Jit::new(t);
        for i in 0..self.cache.len() {
            j.page_created(i as u32);
        }
        self.jit = Some(j);
        true
    }

    /// What the translator did, when it is on.
    #[must_use]
    pub fn translation_stats(&self) -> Option<JitStats> {
        self.jit.as_ref().map(|j| j.stats)
    }

    /// Reset-state helpers for embedders: set PC.
    pub fn set_pc(&mut self, pc: u64) {
        self.core.regs.pc = pc;
    }

    /// The IRQ input line, to share with the interrupt controller model.
    #[must_use]
    pub fn irq_line(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.core.irq_line)
    }

    /// Set the level of the IRQ input.
    pub fn set_irq(&mut self, level: bool) {
        self.core.irq_line.store(level, Ordering::Relaxed);
    }

    /// Skip idle time: advance the virtual counter to `counter` (if later).
    pub fn advance_counter_to(&mut self, counter: u64) {
        let now = self.core.counter();
        if counter > now {
            self.core.idle_ticks += counter - now;
        }
    }

    /// The synchronous exception taken [`EXCEPTION_LOOP`] or more times in a row, with the
    /// count and the different exception taken before them (how the loop began), once
    /// [`Exit::ExceptionLoop`] was reported.
    #[must_use]
    pub fn exception_loop(&self) -> Option<(TakenException, u64, Option<TakenException>)> {
        self.core
            .sync_repeat
            .filter(|&(_, n)| n >= EXCEPTION_LOOP)
            .map(|(e, n)| (e, n, self.core.sync_before))
    }

    /// The broadcast maintenance this PE ran since the last call, for the other PEs.
    pub fn take_shootdowns(&mut self) -> Vec<Shootdown> {
        std::mem::take(&mut self.core.shootdowns)
    }

    /// Applies another PE's broadcast maintenance to this one (before it runs again).
    pub fn apply_shootdown(&mut self, op: Shootdown) {
        match op {
            Shootdown::TlbAll => self.core.tlb.flush_all(),
            Shootdown::TlbNonGlobal => self.core.tlb.flush_non_global(),
            Shootdown::TlbVa(va) => self.core.tlb.flush_va(va),
            Shootdown::Code(pa, len) => self.core.queue_inval(pa, len),
            Shootdown::CodeAll => {
                self.core.inval_all = true;
                self.core.attention = true;
            }
        }
    }

    /// Clears the exclusive monitor (another PE may have written the granule) and sets
    /// the event register, as clearing the global monitor does.
    pub fn clear_monitor(&mut self) {
        self.core.monitor = None;
        self.core.event = true;
    }

    /// Puts the PE in the state PSCI CPU_ON or a spin-table release gives it: reset at
    /// EL1h, MMU off, DAIF masked, `pc = entry`, `x0 = context`, x1-x3 zero.
    pub fn power_on(&mut self, entry: u64, context: u64) {
        self.reset();
        self.core.set_x(0, context);
        for i in 1..4 {
            self.core.set_x(i, 0);
        }
        self.core.regs.pc = entry;
    }

    /// UNDEFINED words executed per encoding group, as (group name, count).
    #[must_use]
    pub fn undefined_counts(&self) -> Vec<(&'static str, u64)> {
        crate::decode::GROUP_NAMES
            .iter()
            .zip(self.core.undef_counts)
            .map(|(n, c)| (*n, c))
            .collect()
    }

    /// The first distinct UNDEFINED words executed, with counts.
    #[must_use]
    pub fn undefined_words(&self) -> &[(u32, u64)] {
        &self.core.undef_words
    }

    /// Drop all decoded code and TLB entries (e.g. after the embedder wrote
    /// guest memory behind the CPU's back).
    pub fn flush_all(&mut self) {
        self.core.inval_all = true;
        self.core.attention = true;
        self.core.tlb.flush_all();
    }

    /// Tell the CPU that guest-physical `[pa, pa + len)` was written behind
    /// its back (loader, device DMA): decoded code there is dropped before
    /// the next instruction.
    pub fn invalidate_code(&mut self, pa: u64, len: u64) {
        self.core.queue_inval(pa, len);
    }

    /// Put the core in the architectural reset state at EL1h.
    pub fn reset(&mut self) {
        let c = &mut self.core;
        c.regs = Regs::default();
        c.sys = SysRegs::reset(&c.profile);
        c.regs.pstate.daif = DAIF_ALL;
        c.regs.x[usize::from(SP)] = 0;
        c.user_mode = false;
        c.sync_repeat = None;
        c.sync_before = None;
        c.event = false;
        c.monitor = None;
        self.flush_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_exact_in_straight_line_code() {
        let mut ram = vec![0u8; 0x2000];
        let mut cpu = Cpu::new(
            CpuProfile::default(),
            Box::new(crate::mem::NoMmio::default()),
        );
        // SAFETY: `ram` outlives `cpu` (dropped explicitly below).
        unsafe { cpu.core.mem.add_ram(ram.as_mut_ptr(), 0, 0x2000) }.expect("ram");
        for i in 0..0x800u64 {
            cpu.core.mem.write(4 * i, 4, 0x9100_0400).expect("ram"); // add x0, x0, #1
        }
        for step in 1..=5 {
            assert_eq!(cpu.run(1), Exit::Budget);
            assert_eq!((cpu.core.icount, cpu.core.regs.x[0]), (step, step));
        }
        assert_eq!(cpu.run(2000), Exit::Budget);
        assert_eq!(cpu.core.regs.x[0], 2005);
        assert_eq!(cpu.core.regs.pc, 4 * 2005);
        drop(cpu);
    }

    #[test]
    fn pc_trace_keeps_the_last_pcs() {
        let mut ram = vec![0u8; 0x1000];
        let mut cpu = Cpu::new(
            CpuProfile::default(),
            Box::new(crate::mem::NoMmio::default()),
        );
        // SAFETY: `ram` outlives `cpu` (dropped explicitly below).
        unsafe { cpu.core.mem.add_ram(ram.as_mut_ptr(), 0, 0x1000) }.expect("ram");
        // add x0, x0, #1 ; b .-4
        cpu.core.mem.write(0, 4, 0x9100_0400).expect("ram");
        cpu.core.mem.write(4, 4, 0x17ff_ffff).expect("ram");
        cpu.set_pc_trace(3);
        assert_eq!(cpu.run(7), Exit::Budget);
        assert_eq!(cpu.pc_trace(), vec![0, 4, 0]);
        assert_eq!(cpu.core.regs.x[0], 4);
        drop(cpu);
    }

    #[test]
    fn a_vector_that_faults_is_reported_as_an_exception_loop() {
        let mut ram = vec![0u8; 0x1000];
        let mut cpu = Cpu::new(
            CpuProfile::default(),
            Box::new(crate::mem::NoMmio::default()),
        );
        // SAFETY: `ram` outlives `cpu` (dropped explicitly below).
        unsafe { cpu.core.mem.add_ram(ram.as_mut_ptr(), 0x4000_0000, 0x1000) }.expect("ram");
        cpu.reset();
        // An all-zero word is UDF #0; VBAR_EL1 (0 at reset) is not RAM, so the vector's
        // fetch aborts, and so on: no instruction ever retires again.
        cpu.set_pc(0x4000_0010);
        assert_eq!(cpu.run(1_000_000_000), Exit::ExceptionLoop);
        let (e, n, before) = cpu.exception_loop().expect("the loop");
        assert_eq!(n, EXCEPTION_LOOP);
        assert_eq!((e.ret, e.vector, e.far), (0x200, 0x200, Some(0x200)));
        assert_eq!(e.esr >> 26, 0x21, "instruction abort, same EL");
        let before = before.expect("the UNDEFINED that led into it");
        assert_eq!((before.ret, before.esr >> 26), (0x4000_0010, 0));
        drop(cpu);
    }

    #[test]
    fn repeated_faults_at_different_addresses_are_not_a_loop() {
        // A store loop walking through unmapped space: the same pc and syndrome each time,
        // but a new fault address, as when a handler maps pages one by one.
        let mut ram = vec![0u8; 0x1000];
        let mut cpu = Cpu::new(
            CpuProfile::default(),
            Box::new(crate::mem::NoMmio::default()),
        );
        // SAFETY: `ram` outlives `cpu` (dropped explicitly below).
        unsafe { cpu.core.mem.add_ram(ram.as_mut_ptr(), 0, 0x1000) }.expect("ram");
        cpu.reset();
        // 0x000: str xzr, [x1]; vector at 0x200 (SPx sync): add x1, x1, #8 ; eret
        cpu.core.mem.write(0x000, 4, 0xf900_003f).expect("ram");
        cpu.core.mem.write(0x200, 4, 0x9100_2021).expect("ram");
        cpu.core.mem.write(0x204, 4, 0xd69f_03e0).expect("ram");
        cpu.core.sys.spsr = 0x3c5; // EL1h, DAIF masked
        cpu.core.set_x(1, 0x1_0000_0000);
        assert_eq!(cpu.run(3 * EXCEPTION_LOOP), Exit::Budget);
        assert!(cpu.exception_loop().is_none());
        drop(cpu);
    }
}
