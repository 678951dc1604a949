//! The translator: hot guest code as host code, exact against the interpreter.
//!
//! # What a translation is
//!
//! A translated block (TB) starts at one slot of a decoded page and follows the fall-through
//! path of the page's ops (the same [`Op`]s the interpreter decodes for those words, fused
//! pairs and triples included) until an unconditional control transfer, the page end or
//! [`MAX_OPS`]. Its host code does exactly what [`crate::cpu::Cpu`]'s `run_block` does for
//! those ops, step for step:
//! - after an op that falls through: one more op retired; at the budget, or the page end, the
//!   block ends there;
//! - after an op that branches: one more op retired; a target outside the page, a misaligned
//!   one, `attention` or the budget ends the block; otherwise the ops retired so far are
//!   committed to `icount` and execution continues at the target, inside the TB when the
//!   target is one of its ops, in the interpreter (which may enter another TB) otherwise;
//! - an op that ends the block ([`Flow::End`]) ends it.
//!
//! So interrupts, the timer and every exit are taken at the same instruction as in the
//! interpreter, and `icount` is the same whenever a handler can read it. Ops the translator
//! does not generate code for are called: the TB calls their interpreter handler. Ops it does
//! generate code for (ALU, compares and branches, loads and stores through the TLB) take the
//! handler's path on anything but the common case (a TLB miss, SP misaligned), so faults,
//! MMIO and page-crossing accesses are the interpreter's, with the PC of the op.
//!
//! When a TB's block ends at a branch or at its budget, the TB does what the interpreter's
//! loop does between blocks (`chain`: the block's count into `icount`, then the checks for a
//! pending exit, attention, the run's limit, an IRQ to take, PSTATE.IL, and the fetch TLB)
//! and, when the next block would start at once and a TB starts it, jumps into that TB
//! without returning: the same boundaries, one call instead of a return through the loop.
//!
//! A slot the interpreter has not decoded yet ends its block with [`Flow::Decode`] when
//! reached; a TB holding such an op checks the slot each time it reaches the op and ends the
//! same way, so block boundaries do not depend on whether code was translated.
//!
//! # Invalidation
//!
//! Whatever blanks decoded slots (stores to code pages, IC IVAU, device DMA, the embedder's
//! invalidations) drops the TBs holding any of those slots; clearing the decoded-code cache
//! drops every TB. Both happen at block boundaries, never while a TB runs.

use crate::decode::Op;
use crate::mem::HostPtr;

#[cfg(target_arch = "x86_64")]
mod x64;

/// Entries into a block after which the translator translates it. Measured on the
/// reference board (plan selftest, 1 CPU, 994.6 M instructions; 3.54 s interpreted): at 16
/// the translator made 15,400 blocks (22 MiB of host code) and the run took 2.78 s, at 128
/// 2.33 s, at 1,024 2.20 s, at 4,096 (700 blocks) 2.15 s. Only the hottest code gains yet:
/// a block run costs a call and a return through the interpreter's loop, and much host code
/// costs more in instruction-cache misses than it saves.
pub const TRANSLATE_AFTER: u16 = 4096;

/// Ops in one translated block at most.
pub const MAX_OPS: usize = 256;

/// Slots per page (as [`crate::cache::OPS_PER_PAGE`]).
const SLOTS: usize = crate::cache::OPS_PER_PAGE;

/// How a TB returned (the value its host code gives back).
pub(crate) mod ret {
    /// Continue at `Frame::slot` in the interpreter (or another TB); `pc` is that slot's.
    pub const CONTINUE: u64 = 0;
    /// End the block with no flow (budget or page end); `pc` is the next op's.
    pub const NONE: u64 = 1;
    /// End the block after a branch; `pc` is the target.
    pub const BRANCH: u64 = 2;
    /// End the block after an op that ended it (`Flow::End`); that op is not in `n` yet.
    pub const END: u64 = 3;
    /// End the block at a slot not decoded yet (`Flow::Decode`); `pc` is that slot's.
    pub const DECODE: u64 = 4;
}

/// The interpreter's block state shared with a TB: `run_block`'s locals.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    /// Ops retired in this block.
    pub n: u64,
    /// Of those, already added to `icount`.
    pub committed: u64,
    /// The block's op budget.
    pub limit: u64,
    /// VA of the page being executed.
    pub page_va: u64,
    /// Out: the slot to continue at ([`ret::CONTINUE`]).
    pub slot: u64,
    /// The run's instruction count limit (`Cpu::run`'s `end`), for chaining.
    pub end: u64,
    /// Whether a TB may go on to the next block itself (not while tracing PCs).
    pub chain: u64,
    /// Decoded-code page index of the page being executed (changes when a TB chains).
    pub idx: u64,
    /// Host address of that guest page.
    pub host: usize,
    /// The translator (for the chain helper).
    pub jit: *mut Jit,
    /// TB runs entered by chaining.
    pub chained: u64,
}

/// Translation state of one decoded page.
#[derive(Debug)]
pub(crate) struct JitPage {
    /// Per slot, one word a block start looks up in one load: the entry of the TB starting
    /// there, with the EL it was translated for in its low two bits (TB code starts are
    /// 16-byte aligned), [`Tb`] holding the rest; or, while no TB starts there, the times
    /// the slot was entered (block starts and in-page branch targets), shifted left by 4,
    /// with [`HEAT`] set; 0 for neither.
    pub tb: [usize; SLOTS],
    /// The live TBs of the page (indices into [`Jit::tbs`]).
    pub live: Vec<u32>,
}

impl JitPage {
    fn new() -> Box<Self> {
        Box::new(Self {
            tb: [0; SLOTS],
            live: Vec::new(),
        })
    }
}

/// Marks a [`JitPage::tb`] word holding a heat count rather than a TB entry.
const HEAT: usize = 8;

/// Whether a [`JitPage::tb`] word is a TB's entry.
#[inline(always)]
fn is_tb(word: usize) -> bool {
    word != 0 && word & HEAT == 0
}

/// One translated block.
#[derive(Debug)]
pub(crate) struct Tb {
    /// The ops its code calls or was generated from: never read, kept alive because the
    /// code holds their addresses.
    #[allow(dead_code)]
    pub ops: Box<[Op]>,
    /// Entry slot.
    pub entry: u16,
    /// Lowest and highest slot of its ops.
    pub first: u16,
    /// See `first`.
    pub last: u16,
}

/// What the translator did, for reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Blocks translated.
    pub translations: u64,
    /// Ops in them.
    pub ops: u64,
    /// Of those, ops with generated code (the rest call their handler).
    pub native_ops: u64,
    /// Host code bytes generated (all translations, dropped ones included).
    pub code_bytes: u64,
    /// Host code bytes in use now (since the last flush).
    pub code_in_use: u64,
    /// Nanoseconds spent translating.
    pub translate_ns: u64,
    /// TBs dropped because their code changed.
    pub invalidated: u64,
    /// Times the code region was flushed (full, or the decoded-code cache was cleared).
    pub flushes: u64,
    /// TB runs.
    pub entries: u64,
}

/// A translation wanted: (page index, slot, host pointer of the guest page, EL).
type Want = (u32, u16, HostPtr, u8);

/// The translator of one PE.
#[derive(Debug)]
pub(crate) struct Jit {
    /// Per decoded page, same indices as the code cache.
    pub pages: Vec<Box<JitPage>>,
    /// Every TB since the last flush (dropped ones keep their index, with a null `code`).
    pub tbs: Vec<Tb>,
    /// Entries that became hot inside a block, translated at the next block boundary.
    pub pending: Vec<Want>,
    /// Entries after which a slot is translated (0: at once).
    pub threshold: u16,
    /// Figures.
    pub stats: JitStats,
    /// Bytes from a TB's entry to where another TB chains in (the same for every TB: the
    /// code before it, saving registers, does not vary); 0 until the first TB is made.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    chain_offset: usize,
    #[cfg(target_arch = "x86_64")]
    region: Option<x64::Region>,
}

/// Most pending translations kept between block boundaries.
const MAX_PENDING: usize = 64;

/// Whether this host has a translator: an x86-64 CPU with LAHF in 64-bit mode (CPUID
/// 8000_0001h ECX bit 0; every one since 2006 or so), which the generated code saves NZCV with.
#[must_use]
pub fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: CPUID and its leaf 8000_0001h exist on every x86-64 CPU. (The call is
        // safe in newer Rust, hence the allow.)
        #[allow(unused_unsafe)]
        let ecx = unsafe { std::arch::x86_64::__cpuid(0x8000_0001) }.ecx;
        ecx & 1 == 1
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

impl Jit {
    /// A translator translating slots entered `threshold` times.
    pub fn new(threshold: u16) -> Self {
        Self {
            pages: Vec::new(),
            tbs: Vec::new(),
            pending: Vec::with_capacity(MAX_PENDING),
            threshold,
            stats: JitStats::default(),
            chain_offset: 0,
            #[cfg(target_arch = "x86_64")]
            region: None,
        }
    }

    /// Keeps one [`JitPage`] per decoded page: called when the cache made page `idx`.
    pub fn page_created(&mut self, idx: u32) {
        while self.pages.len() <= idx as usize {
            self.pages.push(JitPage::new());
        }
    }

    /// Drops every TB (the decoded-code cache was cleared, or the code region is full).
    pub fn clear(&mut self) {
        self.pages.clear();
        self.tbs.clear();
        self.pending.clear();
        self.stats.code_in_use = 0;
        self.stats.flushes += 1;
        #[cfg(target_arch = "x86_64")]
        if let Some(r) = &mut self.region {
            r.reset();
        }
    }

    /// Drops the TBs of page `idx` holding any of slots `[from, to)` (they were blanked).
    pub fn invalidate(&mut self, idx: u32, from: usize, to: usize) {
        let Some(page) = self.pages.get_mut(idx as usize) else {
            return;
        };
        let tbs = &mut self.tbs;
        let stats = &mut self.stats;
        page.live.retain(|&t| {
            let Some(tb) = tbs.get_mut(t as usize) else {
                return false;
            };
            if usize::from(tb.first) < to && usize::from(tb.last) >= from {
                page.tb[usize::from(tb.entry)] = 0;
                stats.invalidated += 1;
                return false;
            }
            true
        });
        for w in page.tb.iter_mut().take(to.min(SLOTS)).skip(from) {
            if !is_tb(*w) {
                *w = 0;
            }
        }
        self.pending.retain(|w| w.0 != idx);
    }

    /// Counts an entry into `slot` of page `idx` where no TB starts; true when it should
    /// be translated now.
    #[inline(always)]
    pub fn heat(page: &mut JitPage, slot: usize, threshold: u16) -> bool {
        let w = &mut page.tb[slot & (SLOTS - 1)];
        if is_tb(*w) {
            return false;
        }
        let n = u16::try_from(*w >> 4).unwrap_or(u16::MAX).saturating_add(1);
        *w = (usize::from(n) << 4) | HEAT;
        n == threshold.max(1)
    }

    /// Queues a translation found hot inside a block.
    pub fn want(&mut self, w: Want) {
        if self.pending.len() < MAX_PENDING {
            self.pending.push(w);
        }
    }

    /// The entry of the TB to run at `slot` of page `idx` at `el`, if any.
    #[inline(always)]
    pub fn tb_at(&self, idx: u32, slot: usize, el: u8) -> Option<*const u8> {
        let t = self.pages.get(idx as usize)?.tb[slot & (SLOTS - 1)];
        // A heat word has HEAT set, so its low four bits are never an EL.
        (t & !0xf != 0 && t & 0xf == usize::from(el & 3)).then_some((t & !0xf) as *const u8)
    }

    /// Translates the block at `slot` of page `idx` (guest page at `host`, decoded ops in
    /// `page`) for `el`. `zva`: the bytes a DC ZVA zeroes on this PE, and whether it never
    /// traps at EL0 (a user-mode process). Does nothing if one exists or this host has no
    /// translator.
    pub fn translate(
        &mut self,
        idx: u32,
        slot: usize,
        host: HostPtr,
        page: &crate::cache::CodePage,
        el: u8,
        zva: (u64, bool),
    ) {
        let slot = slot & (SLOTS - 1);
        let Some(jp) = self.pages.get(idx as usize) else {
            return;
        };
        if is_tb(jp.tb[slot]) {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let start = std::time::Instant::now();
            if self.region.is_none() {
                match x64::Region::new() {
                    Ok(r) => self.region = Some(r),
                    Err(_) => {
                        // No executable memory: stay interpreted.
                        self.threshold = u16::MAX;
                        return;
                    }
                }
            }
            let plan = x64::plan(host, page, slot);
            let ops: Box<[Op]> = plan.ops.iter().map(|p| p.op).collect();
            let out = match self.region.as_mut().map(|r| r.emit(&plan, &ops, el, zva)) {
                Some(Ok(out)) => out,
                Some(Err(x64::Full)) => {
                    let empty = self.stats.code_in_use == 0;
                    self.clear();
                    if empty {
                        // Even an empty region cannot take it: stay interpreted.
                        self.threshold = u16::MAX;
                    }
                    return;
                }
                None => return,
            };
            let offset = out.chain_entry as usize - out.code as usize;
            if self.chain_offset != offset && self.chain_offset != 0 {
                // Never: every TB starts with the same code. Not installed if it did not.
                return;
            }
            self.chain_offset = offset;
            self.stats.translations += 1;
            self.stats.ops += plan.ops.len() as u64;
            self.stats.native_ops += out.native as u64;
            self.stats.code_bytes += out.bytes as u64;
            self.stats.code_in_use += out.bytes as u64;
            self.tbs.push(Tb {
                ops,
                entry: slot as u16,
                first: plan.first as u16,
                last: plan.last as u16,
            });
            if let Some(jp) = self.pages.get_mut(idx as usize) {
                // Entries are 16-byte aligned (Region::emit): the EL fits below.
                jp.tb[slot] = out.code as usize | usize::from(el & 3);
                jp.live.push(self.tbs.len() as u32 - 1);
            }
            self.stats.translate_ns += start.elapsed().as_nanos() as u64;
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (host, page, el, zva);
        }
    }
}

/// Between two blocks, without returning to the interpreter's loop: called by a TB whose
/// block ended (a branch or the budget), with `f.n` and `f.committed` that block's and
/// `icount` otherwise current. Does what `Cpu::run` does between blocks: adds the block's
/// uncommitted instructions to `icount`, then, when the next block would start at once (no
/// exit pending, no attention, the run's limit not reached, no IRQ to take, PSTATE.IL
/// clear, the PC's page in the fetch TLB) and a TB starts there for this EL, sets up `f` for
/// that block and returns the TB's chain entry. Otherwise returns null and the TB returns
/// with nothing left to add (`f.n == f.committed`), so the loop does the rest as always.
#[cfg(target_arch = "x86_64")]
extern "sysv64" fn chain(c: &mut crate::cpu::Core, f: &mut Frame) -> *const u8 {
    use crate::tlb::{slot, table, AccessKind, PAGE_MASK};
    c.icount += f.n - f.committed;
    f.n = 0;
    f.committed = 0;
    if f.chain == 0
        || c.exit.is_some()
        || c.attention
        || c.icount >= f.end
        || (c.irq_pending() && !c.user_mode)
        || c.regs.pstate.il
    {
        return std::ptr::null();
    }
    let pc = c.regs.pc;
    let el = c.regs.pstate.el;
    let e = &c.tlb.t[table(el, AccessKind::Fetch)][slot(pc)];
    if e.tag != pc & PAGE_MASK || pc & 3 != 0 {
        return std::ptr::null();
    }
    let (idx, host) = (e.code, e.host);
    // SAFETY: `f.jit` is the running PE's translator, set by `Cpu::run_block` from its
    // `&mut Jit`, which it does not use until the TB returns.
    let j = unsafe { &mut *f.jit };
    let Some(entry) = j.tb_at(idx, ((pc >> 2) as usize) & (SLOTS - 1), el) else {
        return std::ptr::null();
    };
    let code = entry.wrapping_add(j.chain_offset);
    f.limit = (f.end - c.icount).min(crate::cpu::MAX_BLOCK);
    f.page_va = pc & PAGE_MASK;
    f.idx = u64::from(idx);
    f.host = host.0 as usize;
    f.chained += 1;
    code
}

/// The chain helper's address, for the code generator.
#[cfg(target_arch = "x86_64")]
pub(crate) fn chain_helper() -> usize {
    chain as *const () as usize
}

/// Runs TB host code.
///
/// # Safety
/// `code` must be the entry of a live TB translated for the page and EL `c` runs at, with
/// `frame.page_va` that page's VA and `frame.n < frame.limit`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) unsafe fn enter(code: *const u8, c: &mut crate::cpu::Core, frame: &mut Frame) -> u64 {
    // SAFETY: `code` points at a function generated by `x64::Region::emit` with this
    // signature (System V: core, frame; returns a `ret` code), per the caller's contract.
    unsafe {
        let f: unsafe extern "sysv64" fn(*mut crate::cpu::Core, *mut Frame) -> u64 =
            std::mem::transmute(code);
        f(c, frame)
    }
}

/// Runs TB host code (never called: no host has TBs without a translator).
///
/// # Safety
/// Never called.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(crate) unsafe fn enter(_: *const u8, _: &mut crate::cpu::Core, _: &mut Frame) -> u64 {
    ret::CONTINUE
}
