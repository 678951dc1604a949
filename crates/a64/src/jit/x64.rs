//! x86-64 code generation for translated blocks, with dynasm-rs.
//!
//! Why dynasm-rs: it assembles at run time from templates checked at build time, emitting
//! bytes directly (no IR, no register allocator), so a block costs microseconds to
//! translate. Cranelift produces better code but its compile time dominated the run of
//! another Rust aarch64 emulator (simulans); here blocks are short and guest state lives in
//! memory, so there is little for an optimiser to win.
//!
//! Host registers inside a TB (System V, all callee-saved, restored on return):
//! `rbx` the [`Core`], `r12` ops retired in the block (`n`), `r13` ops committed (`n` at
//! the last in-page branch), `r14` the block's limit, `r15` the VA of the page, `rbp`
//! the extra instructions fused ops retired. A commit is only `r13 = r12`: `Core::icount`
//! is brought up to date (by `r13` minus its value at the last update, kept at `[rsp + 8]`,
//! plus `rbp`) where something can read it, before a called handler and when the TB
//! returns or chains. The [`Frame`] pointer is at `[rsp]`. Guest
//! registers stay in `Core::regs` (every op reads and writes them in memory), so a called
//! handler sees exactly the state it would in the interpreter. NZCV is the exception: a
//! flag-setting op leaves it in the host flags, saved at `[rsp + 16]` (see [`Nzcv`]), and
//! `Regs::nzcv` is written only where a handler, an exit or a flag-reading op could see it.

use std::collections::{HashMap, HashSet};
use std::mem::offset_of;

use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};

use super::{ret, Frame, MAX_OPS, SLOTS};
use crate::cache::{page_word as word, CodePage, BLANK};
use crate::cpu::Core;
use crate::decode::{Flow, Handler, Op};
use crate::exec::fused::{self, Fusion};
use crate::mem::HostPtr;
use crate::state::{Regs, COND_TABLE, SINK, SP};
use crate::tlb::{table, AccessKind, Tlb, TlbEntry, TLB_SIZE};

/// Bytes of host code one PE may hold before its translations are flushed.
const REGION_BYTES: usize = 32 << 20;

/// The code region is full: flush and start over.
#[derive(Debug)]
pub(crate) struct Full;

/// Executable memory for one PE's TBs, filled front to back. One memory object mapped
/// twice: read+execute where TBs run, read+write where they are written, so no page is ever
/// writable and executable at once and adding a TB costs no system call. Where a memory file
/// cannot be made (`memfd_create` refused), one read+execute mapping whose pages are made
/// writable only while a TB is copied in (two small `mprotect`s per TB).
#[derive(Debug)]
pub(crate) struct Region {
    /// Where TBs run.
    exec: *mut u8,
    /// The same memory, writable; null when the `mprotect` fallback is in use.
    write: *mut u8,
    /// Bytes in use.
    used: usize,
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: `exec` (and `write`, when not null) are mappings of REGION_BYTES made in
        // `new`, unmapped once here; no TB can run again (the Jit owning them is dropped).
        unsafe {
            libc::munmap(self.exec.cast(), REGION_BYTES);
            if !self.write.is_null() {
                libc::munmap(self.write.cast(), REGION_BYTES);
            }
        }
    }
}

/// Host page size (mprotect granularity).
const HOST_PAGE: usize = 4096;

/// Maps `len` bytes of `fd` (or anonymous memory when `fd` is -1) with `prot`.
fn map(fd: i32, prot: i32) -> Option<*mut u8> {
    let flags = if fd < 0 {
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE
    } else {
        libc::MAP_SHARED
    };
    // SAFETY: a new mapping at an address the kernel picks, of a memory file only this
    // Region maps (or anonymous memory): it aliases nothing Rust references.
    let p = unsafe { libc::mmap(std::ptr::null_mut(), REGION_BYTES, prot, flags, fd, 0) };
    (p != libc::MAP_FAILED).then_some(p.cast())
}

/// One emitted TB.
#[derive(Debug)]
pub(crate) struct Emitted {
    /// Entry.
    pub code: *const u8,
    /// Entry from a TB chaining to this one (see `super::chain`).
    pub chain_entry: *const u8,
    /// Code bytes.
    pub bytes: usize,
    /// Ops with generated code.
    pub native: usize,
}

/// What code an op gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Call the interpreter's handler.
    Call,
    /// ADD/SUB (immediate), no flags.
    AddImm { sf: bool },
    /// ADDS/SUBS (immediate), CMP/CMN.
    AddsImm { sf: bool, sub: bool },
    /// Integer load (zero-extending) or store of `n` bytes, or a pair of them.
    Mem {
        n: u8,
        mode: Mode,
        load: bool,
        pair: bool,
    },
    /// AND/ORR/EOR/ANDS and their inverted forms (shifted register).
    LogicSh { sf: bool, s: bool },
    /// ADD/SUB/ADDS/SUBS (shifted register).
    AddSubSh { sf: bool, sub: bool, s: bool },
    /// AND/ORR/EOR/ANDS (immediate), `opc` as encoded.
    LogicImm { sf: bool, opc: u8 },
    /// MOVZ/MOVN (the op holds the value).
    MovConst,
    /// MOVK.
    Movk { sf: bool },
    /// ADR/ADRP.
    Adr { page: bool },
    /// UBFM (LSL/LSR/UBFX/UXTB/UXTH).
    Ubfm { sf: bool },
    /// CSEL/CSINC/CSINV/CSNEG.
    Csel { sf: bool, inv: bool, inc: bool },
    /// LSLV/LSRV/ASRV/RORV (the host's shifts mask the count as the architecture does).
    Shiftv { sf: bool },
    /// An op whose handler does nothing (PRFM).
    Nop,
    /// ADD/ADDS/SUB/SUBS (extended register).
    AddSubExt { sf: bool, sub: bool, s: bool },
    /// CCMP/CCMN, register (`imm` false) or immediate.
    Ccmp { sf: bool, sub: bool, imm: bool },
    /// DC ZVA (generated at EL1, and at EL0 of a user-mode process; otherwise at EL0 it
    /// may trap, and is called).
    DcZva,
    /// B (not to itself).
    B,
    /// BL.
    Bl,
    /// B.cond.
    BCond,
    /// CBZ/CBNZ.
    Cbz { sf: bool, nz: bool },
    /// TBZ/TBNZ.
    Tbz { nz: bool },
    /// Fused ADD/SUB #imm to itself; CMP (register); B.cond.
    StepCmp { sf: bool, sub: bool },
    /// Fused ADDS/SUBS (immediate); B.cond.
    CmpImm { sf: bool, sub: bool },
    /// Fused ADDS/SUBS (register); B.cond.
    CmpReg { sf: bool, sub: bool },
    /// Fused zero-extending load; CBZ/CBNZ.
    LdCbz { n: u8, reg: bool },
}

impl Kind {
    /// For an op whose code sets NZCV, the form it leaves it saved in: `Some(true)` when the
    /// host CF is a SUB's borrow, `Some(false)` when it is C (ADD, logic).
    fn sets_nzcv(self) -> Option<bool> {
        match self {
            Kind::AddsImm { sub, .. }
            | Kind::CmpImm { sub, .. }
            | Kind::CmpReg { sub, .. }
            | Kind::StepCmp { sub, .. }
            | Kind::AddSubSh { sub, s: true, .. }
            | Kind::AddSubExt { sub, s: true, .. }
            | Kind::Ccmp { sub, .. } => Some(sub),
            Kind::LogicSh { s: true, .. } | Kind::LogicImm { opc: 3, .. } => Some(false),
            _ => None,
        }
    }

    /// Whether the op's code overwrites all of NZCV before anything can read it (a handler
    /// call, an exit, a flag-reading op): every flag-setting op but CCMP, which reads the
    /// flags first.
    fn sets_nzcv_first(self) -> bool {
        self.sets_nzcv().is_some() && !matches!(self, Kind::Ccmp { .. })
    }
}

/// Addressing of a load or store (as the interpreter's modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Xn + imm.
    Off,
    /// Xn + imm, written back before the access.
    Pre,
    /// Xn, then Xn + imm written back.
    Post,
    /// Xn + (Xm << aux).
    RegLsl,
}

/// One op of a planned TB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Planned {
    /// Its slot.
    pub slot: usize,
    /// The op, as the interpreter decodes it.
    pub op: Op,
    /// Its code.
    pub kind: Kind,
    /// The slot was not decoded when the TB was made.
    pub blank: bool,
    /// Address of the slot in the decoded page (for the "still undecoded?" check).
    pub slot_addr: usize,
}

/// A TB's ops, in layout order (the fall-through path from the entry).
#[derive(Debug)]
pub(crate) struct Plan {
    /// The ops.
    pub ops: Vec<Planned>,
    /// Lowest slot.
    pub first: usize,
    /// Highest slot.
    pub last: usize,
}

/// The op at `slot` exactly as `Cpu::decode_at_pc` decodes it, and its code kind.
fn classify(host: HostPtr, slot: usize) -> (Op, Kind) {
    let w0 = word(host, slot).unwrap_or_default();
    let (w1, w2) = (word(host, slot + 1), word(host, slot + 2));
    let (op, fusion) = fused::decode_words(w0, w1, w2);
    let second = w1.unwrap_or_default();
    let kind = match fusion {
        Fusion::Step => Kind::StepCmp {
            sf: second >> 31 == 1,
            sub: (second >> 30) & 1 == 1,
        },
        Fusion::Pair if second & 0xFF00_0010 == 0x5400_0000 => {
            let (sf, sub) = (w0 >> 31 == 1, (w0 >> 30) & 1 == 1);
            if w0 & 0x3F80_0000 == 0x3100_0000 {
                Kind::CmpImm { sf, sub }
            } else {
                Kind::CmpReg { sf, sub }
            }
        }
        Fusion::Pair => Kind::LdCbz {
            n: 1 << (w0 >> 30),
            reg: w0 & 0x3FC0_0000 != 0x3940_0000,
        },
        Fusion::None if std::ptr::fn_addr_eq(op.h, crate::exec::undefined as Handler) => Kind::Call,
        Fusion::None if std::ptr::fn_addr_eq(op.h, crate::exec::ldst::nop as Handler) => Kind::Nop,
        Fusion::None => single(w0, &op),
    };
    (op, kind)
}

/// The code kind of an unfused op.
fn single(w: u32, op: &Op) -> Kind {
    let sf = w >> 31 == 1;
    if w & 0x1F80_0000 == 0x1100_0000 {
        // ADD/ADDS/SUB/SUBS (immediate).
        return if (w >> 29) & 1 == 1 {
            Kind::AddsImm {
                sf,
                sub: (w >> 30) & 1 == 1,
            }
        } else {
            Kind::AddImm { sf }
        };
    }
    if w & 0x7C00_0000 == 0x1400_0000 {
        // B/BL; `b .` has its own handler (it may halt the PE).
        return match (w >> 31, op.imm) {
            (_, 0) => Kind::Call,
            (0, _) => Kind::B,
            _ => Kind::Bl,
        };
    }
    if w & 0xFF00_0010 == 0x5400_0000 {
        return Kind::BCond;
    }
    if w & 0x7E00_0000 == 0x3400_0000 {
        return Kind::Cbz {
            sf,
            nz: (w >> 24) & 1 == 1,
        };
    }
    if w & 0x7E00_0000 == 0x3600_0000 {
        return Kind::Tbz {
            nz: (w >> 24) & 1 == 1,
        };
    }
    // Integer LDR/STR: unsigned offset, unscaled offset, register offset with LSL,
    // pre- and post-index.
    let n = 1u8 << (w >> 30);
    let opc = (w >> 22) & 3;
    let mode = if w & 0x3F00_0000 == 0x3900_0000 || w & 0x3F20_0C00 == 0x3800_0000 {
        Some(Mode::Off)
    } else if w & 0x3F20_0C00 == 0x3820_0800 && (w >> 13) & 7 == 3 {
        Some(Mode::RegLsl)
    } else if w & 0x3F20_0C00 == 0x3800_0C00 {
        Some(Mode::Pre)
    } else if w & 0x3F20_0C00 == 0x3800_0400 {
        Some(Mode::Post)
    } else {
        None
    };
    if let Some(mode) = mode {
        return match opc {
            0 | 1 => Kind::Mem {
                n,
                mode,
                load: opc == 1,
                pair: false,
            },
            _ => Kind::Call,
        };
    }
    // LDP/STP (integer, 32 or 64 bits, zero-extending): offset, pre- and post-index.
    if w & 0x3E00_0000 == 0x2800_0000 && (w >> 30) != 1 && (w >> 30) != 3 {
        let mode = match (w >> 23) & 3 {
            1 => Mode::Post,
            3 => Mode::Pre,
            _ => Mode::Off,
        };
        return Kind::Mem {
            n: if w >> 31 == 1 { 8 } else { 4 },
            mode,
            load: (w >> 22) & 1 == 1,
            pair: true,
        };
    }
    if w & 0x1F00_0000 == 0x0A00_0000 {
        return Kind::LogicSh {
            sf,
            s: (w >> 29) & 3 == 3,
        };
    }
    if w & 0x1F20_0000 == 0x0B00_0000 {
        return Kind::AddSubSh {
            sf,
            sub: (w >> 30) & 1 == 1,
            s: (w >> 29) & 1 == 1,
        };
    }
    if w & 0x1F80_0000 == 0x1200_0000 {
        return Kind::LogicImm {
            sf,
            opc: ((w >> 29) & 3) as u8,
        };
    }
    if w & 0x1F80_0000 == 0x1280_0000 {
        return match (w >> 29) & 3 {
            0 | 2 => Kind::MovConst,
            3 => Kind::Movk { sf },
            _ => Kind::Call,
        };
    }
    if w & 0x1F00_0000 == 0x1000_0000 {
        return Kind::Adr { page: w >> 31 == 1 };
    }
    if w & 0x7F80_0000 == 0x5300_0000 {
        return Kind::Ubfm { sf };
    }
    if w & 0xFFFF_FFE0 == 0xD50B_7420 {
        return Kind::DcZva;
    }
    if w & 0x7FE0_F000 == 0x1AC0_2000 {
        return Kind::Shiftv { sf };
    }
    if w & 0x1FE0_0000 == 0x0B20_0000 && (w >> 10) & 7 <= 4 {
        return Kind::AddSubExt {
            sf,
            sub: (w >> 30) & 1 == 1,
            s: (w >> 29) & 1 == 1,
        };
    }
    if w & 0x3FE0_0410 == 0x3A40_0000 {
        return Kind::Ccmp {
            sf,
            sub: (w >> 30) & 1 == 1,
            imm: (w >> 11) & 1 == 1,
        };
    }
    if w & 0x3FE0_0800 == 0x1A80_0000 {
        return Kind::Csel {
            sf,
            inv: (w >> 30) & 1 == 1,
            inc: (w >> 10) & 1 == 1,
        };
    }
    Kind::Call
}

/// Whether a called op never falls through: register branches, exception generation and
/// return, and `b .`.
fn ends_path(w: u32, kind: Kind) -> bool {
    matches!(kind, Kind::B | Kind::Bl)
        || (kind == Kind::Call
            && (w & 0xFE00_0000 == 0xD600_0000
                || w & 0xFF00_0000 == 0xD400_0000
                || w & 0xFC00_0000 == 0x1400_0000))
}

/// Plans the TB at `entry` of the guest page at `host` whose decoded ops are `page`.
pub(crate) fn plan(host: HostPtr, page: &CodePage, entry: usize) -> Plan {
    let mut ops = Vec::new();
    let mut s = entry;
    while ops.len() < MAX_OPS && s < SLOTS {
        let blank = std::ptr::fn_addr_eq(page[s].h, BLANK.h);
        if blank && !ops.is_empty() {
            // Code that never ran stays out (the interpreter decodes it when it first runs;
            // a later translation can take it in). Only the entry may be undecoded.
            break;
        }
        let (op, kind) = classify(host, s);
        let w = word(host, s).unwrap_or_default();
        ops.push(Planned {
            slot: s,
            op,
            kind,
            blank,
            slot_addr: &page[s] as *const Op as usize,
        });
        if ends_path(w, kind) {
            break;
        }
        // The next op on the path: fused ops always branch, falling through past all
        // their words.
        s += match kind {
            Kind::StepCmp { .. } => 3,
            Kind::CmpImm { .. } | Kind::CmpReg { .. } | Kind::LdCbz { .. } => 2,
            _ => 1,
        };
    }
    let first = ops.iter().map(|p| p.slot).min().unwrap_or(entry);
    let last = ops.iter().map(|p| p.slot).max().unwrap_or(entry);
    Plan { ops, first, last }
}

/// Where NZCV is after an op's code, from where it was before (as the code generator
/// leaves it on every path that goes on to another op of the TB).
fn nzcv_after(kind: Kind, before: Nzcv) -> Nzcv {
    match kind.sets_nzcv() {
        Some(sub) => Nzcv::Saved { sub },
        // Called handlers, and the ops reading the flags, have them settled.
        None if matches!(kind, Kind::Call | Kind::BCond | Kind::Csel { .. }) => Nzcv::Settled,
        None => before,
    }
}

/// The slots an op's code goes on to (in the page's slot numbering; some may be outside
/// the page or have no op in the TB).
fn successors(p: &Planned) -> [i64; 2] {
    let (op, si) = (p.op, p.slot as i64);
    let rel = si + (op.imm as i64 >> 2);
    match p.kind {
        Kind::B | Kind::Bl => [rel, rel],
        Kind::BCond | Kind::Cbz { .. } | Kind::Tbz { .. } => [rel, si + 1],
        Kind::StepCmp { .. } => [si + 2 + imm19(op.aux << 5), si + 3],
        Kind::CmpImm { .. } | Kind::CmpReg { .. } => [si + 1 + imm19(op.aux << 5), si + 2],
        Kind::LdCbz { .. } => [si + 1 + imm19(op.aux << 1), si + 2],
        _ => [si + 1, si + 1],
    }
}

/// The ops of `plan` that overwrite NZCV before anything can read it, and where NZCV is
/// on entry to each other op: saved (in the same form) when every jump to it comes with it
/// saved so, settled otherwise (always for the TB's entry, entered from outside).
fn nzcv_at_labels(plan: &Plan) -> (HashSet<usize>, HashMap<usize, Nzcv>) {
    let sets: HashSet<usize> = plan
        .ops
        .iter()
        .filter(|p| !p.blank && p.kind.sets_nzcv_first())
        .map(|p| p.slot)
        .collect();
    let slots: HashSet<usize> = plan.ops.iter().map(|p| p.slot).collect();
    // None: no jump seen yet. Each label's state only moves down (none, saved, settled).
    let mut at: HashMap<usize, Option<Nzcv>> = slots.iter().map(|&s| (s, None)).collect();
    if let Some(first) = plan.ops.first() {
        at.insert(first.slot, Some(Nzcv::Settled));
    }
    loop {
        let mut changed = false;
        for p in &plan.ops {
            let before = if sets.contains(&p.slot) {
                Some(Nzcv::Settled)
            } else {
                at[&p.slot]
            };
            let Some(before) = before else {
                continue;
            };
            let after = nzcv_after(p.kind, before);
            for t in successors(p) {
                let Ok(t) = usize::try_from(t) else {
                    continue;
                };
                if !slots.contains(&t) || sets.contains(&t) {
                    continue;
                }
                let new = match at[&t] {
                    None => after,
                    Some(s) if s == after => s,
                    Some(_) => Nzcv::Settled,
                };
                if at[&t] != Some(new) {
                    at.insert(t, Some(new));
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let label = at.into_iter().filter_map(|(s, n)| Some((s, n?))).collect();
    (sets, label)
}

/// The interpreter's handler, called from TB code: the op's `Step` as a `ret`-like code
/// (0 fall through, 1 branch, 2 end, 3 decode).
extern "sysv64" fn call_op(c: &mut Core, op: &Op) -> u64 {
    match (op.h)(c, op) {
        Ok(()) => 0,
        Err(Flow::Branch) => 1,
        Err(Flow::End) => 2,
        Err(Flow::Decode) => 3,
    }
}

// Field offsets the code uses.
const X: i32 = (offset_of!(Core, regs) + offset_of!(Regs, x)) as i32;
const PC: i32 = (offset_of!(Core, regs) + offset_of!(Regs, pc)) as i32;
const NZCV: i32 = (offset_of!(Core, regs) + offset_of!(Regs, nzcv)) as i32;
const ICOUNT: i32 = offset_of!(Core, icount) as i32;
const ATTN: i32 = offset_of!(Core, attention) as i32;
const TLBT: i32 = (offset_of!(Core, tlb) + offset_of!(Tlb, t)) as i32;
const TAG: i32 = offset_of!(TlbEntry, tag) as i32;
const HOST: i32 = offset_of!(TlbEntry, host) as i32;
const OP_H: usize = offset_of!(Op, h);
const F_N: i32 = offset_of!(Frame, n) as i32;
const F_COMMITTED: i32 = offset_of!(Frame, committed) as i32;
const F_LIMIT: i32 = offset_of!(Frame, limit) as i32;
const F_PAGE: i32 = offset_of!(Frame, page_va) as i32;
const F_SLOT: i32 = offset_of!(Frame, slot) as i32;
const _: () = assert!(std::mem::size_of::<TlbEntry>() == 32, "TLB index scaling");
const TABLE_BYTES: i32 = (TLB_SIZE * 32) as i32;

/// Displacement of guest register slot `r`.
fn xo(r: u8) -> i32 {
    X + 8 * i32::from(r & 63)
}

impl Region {
    /// A fresh region.
    pub fn new() -> std::io::Result<Self> {
        // SAFETY: memfd_create with a NUL-terminated name; the descriptor is closed below
        // once mapped (the mappings keep the memory).
        let fd = unsafe { libc::memfd_create(c"heapsoc-translations".as_ptr(), libc::MFD_CLOEXEC) };
        if fd >= 0 {
            // SAFETY: `fd` is the memory file just made.
            let sized = unsafe { libc::ftruncate(fd, REGION_BYTES as libc::off_t) } == 0;
            let both = sized
                .then(|| {
                    map(fd, libc::PROT_READ | libc::PROT_EXEC)
                        .zip(map(fd, libc::PROT_READ | libc::PROT_WRITE))
                })
                .flatten();
            // SAFETY: `fd` is ours and used no more.
            unsafe { libc::close(fd) };
            if let Some((exec, write)) = both {
                return Ok(Self {
                    exec,
                    write,
                    used: 0,
                });
            }
        }
        let exec =
            map(-1, libc::PROT_READ | libc::PROT_EXEC).ok_or_else(std::io::Error::last_os_error)?;
        Ok(Self {
            exec,
            write: std::ptr::null_mut(),
            used: 0,
        })
    }

    /// Forgets every TB's code (none may run again).
    pub fn reset(&mut self) {
        self.used = 0;
    }

    /// Generates and installs the code of `plan`, whose ops are `ops` (same order, at
    /// stable addresses), for `el`.
    /// `zva`: the bytes a DC ZVA zeroes, and whether it is generated at EL0 too (it never
    /// traps there).
    pub fn emit(
        &mut self,
        plan: &Plan,
        ops: &[Op],
        el: u8,
        zva: (u64, bool),
    ) -> Result<Emitted, Full> {
        // Entries 16-byte aligned: instruction fetch likes it, and `JitPage::tb` keeps the
        // EL in the low bits.
        self.used = self.used.next_multiple_of(16).min(REGION_BYTES);
        let start = self.exec as usize + self.used;
        let mut e = Emitter::new(start, plan, el, zva);
        e.body(plan, ops);
        let native = e.native;
        let chain_at =
            e.a.labels()
                .resolve_dynamic(e.chain_entry)
                .map_err(|_| Full)?
                .0;
        let bytes = e.a.finalize().map_err(|_| Full)?;
        if self.used + bytes.len() > REGION_BYTES {
            return Err(Full);
        }
        if !self.write.is_null() {
            // SAFETY: `[used, used + len)` lies inside the writable view (checked above),
            // which no Rust reference covers.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    bytes.as_ptr(),
                    self.write.add(self.used),
                    bytes.len(),
                );
            }
        } else {
            let from = self.used & !(HOST_PAGE - 1);
            let to = (self.used + bytes.len()).next_multiple_of(HOST_PAGE);
            // SAFETY: `[from, to)` lies inside the mapping (to <= REGION_BYTES, both page
            // multiples); no TB runs while this PE translates, so its pages may be writable
            // and not executable for the copy; the bytes go to `[used, used + len)`.
            unsafe {
                let page = self.exec.add(from);
                if libc::mprotect(page.cast(), to - from, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                    return Err(Full);
                }
                std::ptr::copy_nonoverlapping(
                    bytes.as_ptr(),
                    self.exec.add(self.used),
                    bytes.len(),
                );
                if libc::mprotect(page.cast(), to - from, libc::PROT_READ | libc::PROT_EXEC) != 0 {
                    return Err(Full);
                }
            }
        }
        let code = start as *const u8;
        let chain_entry = (start + chain_at) as *const u8;
        self.used += bytes.len();
        Ok(Emitted {
            code,
            chain_entry,
            bytes: bytes.len(),
            native,
        })
    }
}

/// Code after the TB's ops: exits, slow paths. Each is entered with NZCV where the code
/// jumping to it left it.
enum Cold {
    /// Set `pc` to the slot's address and return `code` (with the slot, for CONTINUE).
    Exit(DynamicLabel, i64, u64, Nzcv),
    /// The op at layout index `i` through its handler (slow path of generated code).
    Call(DynamicLabel, usize, Nzcv),
}

/// Where the guest's NZCV is, while code is generated.
///
/// A flag-setting op leaves it in the host flags, which its code saves at `[rsp + 16]` in
/// LAHF/SETO form (AH = SF:ZF:-:AF:-:PF:1:CF, AL = OF) and, when the next op is a fused
/// branch, tests with one host conditional jump. `Regs::nzcv` is written (settled) only where
/// something may read it: before a called handler, an exit, an op that reads the flags, or a
/// jump to an op that does not overwrite them first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Nzcv {
    /// `Regs::nzcv` holds it (or it is dead: every path overwrites it before a read).
    Settled,
    /// It is at `[rsp + 16]`; `sub`: the host CF is the borrow (not C) of a SUB.
    Saved { sub: bool },
}

struct Emitter {
    a: VecAssembler<X64Relocation>,
    el: u8,
    /// Bytes one DC ZVA zeroes, and whether it gets generated code at EL0 too.
    zva: (u64, bool),
    /// Label of each op's slot.
    labels: HashMap<usize, DynamicLabel>,
    /// Slot of the op laid out after the current one.
    next_in_layout: Option<usize>,
    cold: Vec<Cold>,
    /// Exit labels by (slot, code, NZCV), shared.
    exits: HashMap<(i64, u64, Nzcv), DynamicLabel>,
    /// Where NZCV is at the point code is being generated.
    nzcv: Nzcv,
    /// Slots whose op overwrites NZCV before anything can read it (a jump there need not
    /// settle it).
    sets_nzcv: HashSet<usize>,
    /// Where NZCV is on entry to each other op (every jump there leaves it so).
    label_nzcv: HashMap<usize, Nzcv>,
    epilogue: DynamicLabel,
    /// Where a block ending in a branch or at its budget tries to chain on.
    chain_exit: DynamicLabel,
    /// Where another TB chains in.
    chain_entry: DynamicLabel,
    /// After a call that did not fall through: branch, end or decode.
    not_ok: DynamicLabel,
    native: usize,
}

impl Emitter {
    fn new(base: usize, plan: &Plan, el: u8, zva: (u64, bool)) -> Self {
        let mut a = VecAssembler::new(base);
        let labels = plan
            .ops
            .iter()
            .map(|p| (p.slot, a.new_dynamic_label()))
            .collect();
        let epilogue = a.new_dynamic_label();
        let chain_exit = a.new_dynamic_label();
        let chain_entry = a.new_dynamic_label();
        let not_ok = a.new_dynamic_label();
        let (sets_nzcv, label_nzcv) = nzcv_at_labels(plan);
        Self {
            a,
            el,
            zva,
            labels,
            next_in_layout: None,
            cold: Vec::new(),
            exits: HashMap::new(),
            nzcv: Nzcv::Settled,
            sets_nzcv,
            label_nzcv,
            epilogue,
            chain_exit,
            chain_entry,
            not_ok,
            native: 0,
        }
    }

    fn body(&mut self, plan: &Plan, ops: &[Op]) {
        let chain_entry = self.chain_entry;
        dynasm!(self.a
            ; .arch x64
            ; push rbx
            ; push rbp
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; sub rsp, 24
            ; mov rbx, rdi
            ; mov [rsp], rsi
            ; =>chain_entry
            ; mov rsi, [rsp]
            ; mov r12, [rsi + F_N]
            ; mov r13, [rsi + F_COMMITTED]
            ; mov r14, [rsi + F_LIMIT]
            ; mov r15, [rsi + F_PAGE]
            ; mov [rsp + 8], r13
            ; xor ebp, ebp
        );
        for (i, p) in plan.ops.iter().enumerate() {
            self.next_in_layout = plan.ops.get(i + 1).map(|q| q.slot);
            let label = self.labels[&p.slot];
            dynasm!(self.a ; .arch x64 ; =>label);
            // Every jump here left NZCV so (or this op overwrites it first).
            self.nzcv = self.nzcv_at(p.slot);
            if p.blank {
                // Not decoded when translated: the interpreter ends its block here until
                // it decodes the slot, and so does the TB.
                let exit = self.exit(p.slot as i64, ret::DECODE);
                let h = (p.slot_addr + OP_H) as i64;
                let blank = BLANK.h as usize as i64;
                dynasm!(self.a
                    ; .arch x64
                    ; mov rax, QWORD h
                    ; mov rax, [rax]
                    ; mov rcx, QWORD blank
                    ; cmp rax, rcx
                    ; je =>exit
                );
            }
            let op_addr = &ops[i] as *const Op;
            if self.generated(p.kind) {
                self.native += 1;
            }
            self.op(i, p, op_addr);
        }
        // Cold code.
        let mut k = 0;
        while k < self.cold.len() {
            match self.cold[k] {
                Cold::Exit(label, slot, code, nzcv) => {
                    dynasm!(self.a ; .arch x64 ; =>label);
                    self.nzcv = nzcv;
                    self.exit_inline(slot, code);
                }
                Cold::Call(label, i, nzcv) => {
                    dynasm!(self.a ; .arch x64 ; =>label);
                    self.nzcv = nzcv;
                    self.next_in_layout = None;
                    let p = plan.ops[i];
                    // The handler of a load or store leaves NZCV alone: its saved form
                    // stays good after the call.
                    self.call(&p, &ops[i], nzcv);
                }
            }
            k += 1;
        }
        // After a call: 1 branch, 2 end, 3 decode.
        let (epi, not_ok, chain_exit) = (self.epilogue, self.not_ok, self.chain_exit);
        let chain = super::chain_helper() as i64;
        dynasm!(self.a
            ; .arch x64
            ; =>not_ok
            ; cmp eax, 1
            ; jne >not_branch
            // The branch retired; run_block's checks, then continue at the target.
            ; inc r12
            ; mov rax, [rbx + PC]
            ; mov rcx, rax
            ; and rcx, -4096
            ; cmp rcx, r15
            ; jne >branch_exit
            ; test al, 3
            ; jnz >branch_exit
            ; cmp BYTE [rbx + ATTN], 0
            ; jne >branch_exit
            ; cmp r12, r14
            ; jae >branch_exit
            ; mov r13, r12
            ; shr eax, 2
            ; and eax, (SLOTS - 1) as i32
            ; mov rcx, [rsp]
            ; mov [rcx + F_SLOT], rax
            ; mov eax, ret::CONTINUE as i32
            ; jmp =>epi
            ; branch_exit:
            ; mov eax, ret::BRANCH as i32
            ; jmp =>chain_exit
            ; not_branch:
            ; cmp eax, 2
            ; jne >decode
            ; mov eax, ret::END as i32
            ; jmp =>epi
            ; decode:
            ; mov eax, ret::DECODE as i32
            ; jmp =>epi
            // The block ended (code in eax: NONE or BRANCH): the next one may be a TB.
            ; =>chain_exit
            ; mov ecx, eax
        );
        self.flush_icount();
        dynasm!(self.a
            ; .arch x64
            ; mov eax, ecx
            ; mov rsi, [rsp]
            ; mov [rsi + F_N], r12
            ; mov [rsi + F_COMMITTED], r13
            ; mov r12d, eax
            ; mov rdi, rbx
            ; mov rax, QWORD chain
            ; call rax
            ; test rax, rax
            ; jz >plain
            ; jmp rax
            ; plain:
            ; mov eax, r12d
            ; mov rsi, [rsp]
            ; mov r12, [rsi + F_N]
            ; mov r13, [rsi + F_COMMITTED]
            ; mov [rsp + 8], r13
            ; =>epi
            ; mov ecx, eax
        );
        self.flush_icount();
        dynasm!(self.a
            ; .arch x64
            ; mov eax, ecx
            ; mov rcx, [rsp]
            ; mov [rcx + F_N], r12
            ; mov [rcx + F_COMMITTED], r13
            ; add rsp, 24
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbp
            ; pop rbx
            ; ret
        );
    }

    /// Where NZCV is on entry to the op at `slot`.
    fn nzcv_at(&self, slot: usize) -> Nzcv {
        self.label_nzcv.get(&slot).copied().unwrap_or(Nzcv::Settled)
    }

    /// Whether ops of `kind` get generated code (rather than a call of their handler).
    fn generated(&self, kind: Kind) -> bool {
        match kind {
            Kind::Call => false,
            Kind::DcZva => {
                let (n, el0) = self.zva;
                (self.el == 1 || el0) && n % 16 == 0 && (16..=2048).contains(&n)
            }
            _ => true,
        }
    }

    /// Brings `Core::icount` up to date: the ops committed since the last update (`r13`
    /// against `[rsp + 8]`) and the fused ops' extra instructions (`rbp`). Clobbers `rax`.
    fn flush_icount(&mut self) {
        dynasm!(self.a
            ; .arch x64
            ; mov rax, r13
            ; sub rax, [rsp + 8]
            ; add rax, rbp
            ; add [rbx + ICOUNT], rax
            ; mov [rsp + 8], r13
            ; xor ebp, ebp
        );
    }

    /// A label for the exit to `slot` with `code` (emitted with the cold code).
    fn exit(&mut self, slot: i64, code: u64) -> DynamicLabel {
        let key = (slot, code, self.nzcv);
        if let Some(&l) = self.exits.get(&key) {
            return l;
        }
        let l = self.a.new_dynamic_label();
        self.exits.insert(key, l);
        self.cold.push(Cold::Exit(l, slot, code, self.nzcv));
        l
    }

    /// Writes NZCV to `Regs::nzcv` if it is only in its saved form. Clobbers `rax` and
    /// the host flags.
    fn settle(&mut self) {
        let Nzcv::Saved { sub } = self.nzcv else {
            return;
        };
        // SF (bit 15), ZF (14), CF (8) and OF (0) to bits 31, 30, 29 and 28 with one
        // multiply: the products' bits are all distinct, so nothing carries into 28..31.
        dynasm!(self.a
            ; .arch x64
            ; movzx eax, WORD [rsp + 16]
            ; and eax, 0xC101
            ; imul eax, eax, 0x1021_0000
            ; and eax, 0xF000_0000_u32 as i32
        );
        if sub {
            dynasm!(self.a ; .arch x64 ; xor eax, 0x2000_0000);
        }
        dynasm!(self.a ; .arch x64 ; mov [rbx + NZCV], eax);
        self.nzcv = Nzcv::Settled;
    }

    /// Saves the host flags of the op just emitted as NZCV (`sub`: its CF is a borrow).
    /// Leaves the host flags as they were; clobbers `rax`.
    fn save_flags(&mut self, sub: bool) {
        dynasm!(self.a
            ; .arch x64
            ; lahf
            ; seto al
            ; mov [rsp + 16], ax
        );
        self.nzcv = Nzcv::Saved { sub };
    }

    /// Sets `pc` to `slot`'s address and returns `code`.
    fn exit_inline(&mut self, slot: i64, code: u64) {
        let disp = (slot * 4) as i32;
        let epi = self.epilogue;
        // Code after this is reached on other paths, with NZCV as it is now.
        let nzcv = self.nzcv;
        self.settle();
        self.nzcv = nzcv;
        dynasm!(self.a
            ; .arch x64
            ; lea rax, [r15 + disp]
            ; mov [rbx + PC], rax
        );
        if code == ret::CONTINUE {
            dynasm!(self.a ; .arch x64 ; mov rcx, [rsp] ; mov QWORD [rcx + F_SLOT], slot as i32);
        }
        if code == ret::NONE || code == ret::BRANCH {
            let chain_exit = self.chain_exit;
            dynasm!(self.a ; .arch x64 ; mov eax, code as i32 ; jmp =>chain_exit);
        } else {
            dynasm!(self.a ; .arch x64 ; mov eax, code as i32 ; jmp =>epi);
        }
    }

    /// Continues at `slot` (a jump, nothing if it is laid out next and `at_end`, or an
    /// exit to the interpreter).
    fn goto(&mut self, slot: usize, at_end: bool) {
        match self.labels.get(&slot).copied() {
            Some(l) => {
                let nzcv = self.nzcv;
                if !self.sets_nzcv.contains(&slot) {
                    match self.nzcv_at(slot) {
                        Nzcv::Settled => self.settle(),
                        saved => debug_assert_eq!(nzcv, saved, "NZCV at the jump to slot {slot}"),
                    }
                }
                if !(at_end && self.next_in_layout == Some(slot)) {
                    dynasm!(self.a ; .arch x64 ; jmp =>l);
                }
                self.nzcv = nzcv;
            }
            None => self.exit_inline(slot as i64, ret::CONTINUE),
        }
    }

    /// After an op that fell through to `next`.
    fn ok(&mut self, next: usize, at_end: bool) {
        dynasm!(self.a ; .arch x64 ; inc r12 ; cmp r12, r14);
        if next >= SLOTS {
            // The page ends here: so does the block, whatever the budget.
            self.exit_inline(next as i64, ret::NONE);
            return;
        }
        let budget = self.exit(next as i64, ret::NONE);
        dynasm!(self.a ; .arch x64 ; jae =>budget);
        self.goto(next, at_end);
    }

    /// After a called handler that fell through to `next`. Only a handler can set
    /// `attention` (generated code never does), so only here is it tested: when set, the
    /// interpreter goes on with the block (and ends it at its next branch, as always).
    fn ok_after_call(&mut self, next: usize) {
        dynasm!(self.a ; .arch x64 ; inc r12 ; cmp r12, r14);
        if next >= SLOTS {
            self.exit_inline(next as i64, ret::NONE);
            return;
        }
        let budget = self.exit(next as i64, ret::NONE);
        let attention = self.exit(next as i64, ret::CONTINUE);
        dynasm!(self.a
            ; .arch x64
            ; jae =>budget
            ; cmp BYTE [rbx + ATTN], 0
            ; jne =>attention
        );
        self.goto(next, true);
    }

    /// After an op that branched to `target` (a slot of this page's VA, possibly outside it).
    fn branched(&mut self, target: i64, at_end: bool) {
        dynasm!(self.a ; .arch x64 ; inc r12);
        if !(0..SLOTS as i64).contains(&target) {
            self.exit_inline(target, ret::BRANCH);
            return;
        }
        // No `attention` test: it is clear whenever generated code runs (see
        // `ok_after_call`).
        let out = self.exit(target, ret::BRANCH);
        dynasm!(self.a
            ; .arch x64
            ; cmp r12, r14
            ; jae =>out
            ; mov r13, r12
        );
        self.goto(target as usize, at_end);
    }

    /// Calls the op's handler and handles its flow; NZCV is settled for the handler and
    /// `after` where it falls through.
    fn call(&mut self, p: &Planned, op: *const Op, after: Nzcv) {
        let disp = (p.slot * 4) as i32;
        let (op, f) = (op as i64, call_op as *const () as usize as i64);
        let not_ok = self.not_ok;
        self.settle();
        self.flush_icount();
        dynasm!(self.a
            ; .arch x64
            ; lea rax, [r15 + disp]
            ; mov [rbx + PC], rax
            ; mov rdi, rbx
            ; mov rsi, QWORD op
            ; mov rax, QWORD f
            ; call rax
            ; test eax, eax
            ; jnz =>not_ok
        );
        self.nzcv = after;
        self.ok_after_call(p.slot + 1);
    }

    /// Jumps to `not_taken` unless `cond` holds for the NZCV in `edx` (ConditionHolds, from
    /// the interpreter's table).
    fn unless_cond(&mut self, cond: u32, not_taken: DynamicLabel) {
        let t = i32::from(COND_TABLE[(cond & 15) as usize]);
        dynasm!(self.a
            ; .arch x64
            ; shr edx, 28
            ; mov ecx, t
            ; bt ecx, edx
            ; jnc =>not_taken
        );
    }

    /// Jumps to `not_taken` unless `cond` holds for NZCV: one host conditional jump on the
    /// host flags when they are those of the op just emitted (`host`) and one jump can test
    /// `cond`; otherwise from `Regs::nzcv` (settled first).
    fn unless(&mut self, cond: u32, host: bool, not_taken: DynamicLabel) {
        let l = not_taken;
        match (host, self.nzcv, cond & 15) {
            (true, Nzcv::Saved { .. }, 0) => dynasm!(self.a ; .arch x64 ; jne =>l),
            (true, Nzcv::Saved { .. }, 1) => dynasm!(self.a ; .arch x64 ; je =>l),
            (true, Nzcv::Saved { sub: false }, 2) => dynasm!(self.a ; .arch x64 ; jnc =>l),
            (true, Nzcv::Saved { sub: true }, 2) => dynasm!(self.a ; .arch x64 ; jc =>l),
            (true, Nzcv::Saved { sub: false }, 3) => dynasm!(self.a ; .arch x64 ; jc =>l),
            (true, Nzcv::Saved { sub: true }, 3) => dynasm!(self.a ; .arch x64 ; jnc =>l),
            (true, Nzcv::Saved { .. }, 4) => dynasm!(self.a ; .arch x64 ; jns =>l),
            (true, Nzcv::Saved { .. }, 5) => dynasm!(self.a ; .arch x64 ; js =>l),
            (true, Nzcv::Saved { .. }, 6) => dynasm!(self.a ; .arch x64 ; jno =>l),
            (true, Nzcv::Saved { .. }, 7) => dynasm!(self.a ; .arch x64 ; jo =>l),
            // HI is C and not Z: with a borrow for C, "above"; LS its negation.
            (true, Nzcv::Saved { sub: true }, 8) => dynasm!(self.a ; .arch x64 ; jbe =>l),
            (true, Nzcv::Saved { sub: true }, 9) => dynasm!(self.a ; .arch x64 ; ja =>l),
            (true, Nzcv::Saved { .. }, 10) => dynasm!(self.a ; .arch x64 ; jl =>l),
            (true, Nzcv::Saved { .. }, 11) => dynasm!(self.a ; .arch x64 ; jge =>l),
            (true, Nzcv::Saved { .. }, 12) => dynasm!(self.a ; .arch x64 ; jle =>l),
            (true, Nzcv::Saved { .. }, 13) => dynasm!(self.a ; .arch x64 ; jg =>l),
            _ => {
                self.settle();
                dynasm!(self.a ; .arch x64 ; mov edx, [rbx + NZCV]);
                self.unless_cond(cond, not_taken);
            }
        }
    }

    /// ADD/SUB(S): `rax + rcx` or `rax - rcx` at 64 or 32 bits, the result to `rd`; with
    /// `flags`, NZCV saved (and still in the host flags).
    fn add_sub(&mut self, sf: bool, sub: bool, flags: bool, rd: u8) {
        match (sf, sub) {
            (true, false) => dynasm!(self.a ; .arch x64 ; add rax, rcx),
            (true, true) => dynasm!(self.a ; .arch x64 ; sub rax, rcx),
            (false, false) => dynasm!(self.a ; .arch x64 ; add eax, ecx),
            (false, true) => dynasm!(self.a ; .arch x64 ; sub eax, ecx),
        }
        self.store_result(rd);
        if flags {
            self.save_flags(sub);
        }
    }

    /// `rax` to guest register `rd` (nothing for the discarding XZR slot).
    fn store_result(&mut self, rd: u8) {
        if rd != SINK {
            let d = xo(rd);
            dynasm!(self.a ; .arch x64 ; mov [rbx + d], rax);
        }
    }

    /// The effective address of a load/store op into `rax` (OFF: Xn + imm; REG_LSL:
    /// Xn + (Xm << aux)); jumps to `slow` when SP is the base and misaligned.
    fn address(&mut self, op: &Op, reg: bool, slow: DynamicLabel) {
        let n = xo(op.rn);
        if op.rn == SP {
            dynasm!(self.a ; .arch x64 ; test BYTE [rbx + n], 15 ; jnz =>slow);
        }
        dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n]);
        if reg {
            let m = xo(op.rm);
            let sh = (op.aux & 7) as i8;
            dynasm!(self.a ; .arch x64 ; mov rcx, [rbx + m]);
            if sh != 0 {
                dynasm!(self.a ; .arch x64 ; shl rcx, sh);
            }
            dynasm!(self.a ; .arch x64 ; add rax, rcx);
        } else {
            self.add_imm_rax(op.imm);
        }
    }

    /// `rax += imm` (64-bit wrapping).
    fn add_imm_rax(&mut self, imm: u64) {
        if let Ok(i) = i32::try_from(imm as i64) {
            if i != 0 {
                dynasm!(self.a ; .arch x64 ; add rax, i);
            }
        } else {
            let i = imm as i64;
            dynasm!(self.a ; .arch x64 ; mov rcx, QWORD i ; add rax, rcx);
        }
    }

    /// The host address of the `n`-byte access at VA `rax` through the TLB table for
    /// `kind` into `rax`, or a jump to `slow` (miss, or the access leaves the page).
    /// Clobbers `rcx`, `rdx`, `rsi`.
    fn tlb(&mut self, kind: AccessKind, n: u32, slow: DynamicLabel) {
        let t = table(self.el, kind) as i32 * TABLE_BYTES;
        // The entry's byte offset, ((va >> 12) % TLB_SIZE) * 32, straight from va >> 7.
        let index = ((TLB_SIZE - 1) << 5) as i32;
        let last = n as i32 - 1;
        // One compare checks the hit and that the access stays in the page: the page of
        // its last byte must be the entry's tag. (A page crossed into has the next slot,
        // so its tag is never the entry's.)
        dynasm!(self.a
            ; .arch x64
            ; mov edx, eax
            ; shr edx, 7
            ; and edx, index
            ; mov rsi, [rbx + TLBT]
            ; lea rcx, [rax + last]
            ; and rcx, -4096
            ; cmp rcx, [rsi + rdx + t + TAG]
            ; jne =>slow
            ; and eax, 0xfff
            ; add rax, [rsi + rdx + t + HOST]
        );
    }

    /// A zero-extending load of `n` bytes at host `rax` into guest register `rd`.
    fn load(&mut self, n: u8, rd: u8) {
        let d = xo(rd);
        match n {
            1 => dynasm!(self.a ; .arch x64 ; movzx ecx, BYTE [rax]),
            2 => dynasm!(self.a ; .arch x64 ; movzx ecx, WORD [rax]),
            4 => dynasm!(self.a ; .arch x64 ; mov ecx, DWORD [rax]),
            _ => dynasm!(self.a ; .arch x64 ; mov rcx, QWORD [rax]),
        }
        dynasm!(self.a ; .arch x64 ; mov [rbx + d], rcx);
    }

    /// A slow path: the op through its handler, with the cold code.
    fn slow(&mut self, i: usize) -> DynamicLabel {
        let l = self.a.new_dynamic_label();
        self.cold.push(Cold::Call(l, i, self.nzcv));
        l
    }

    fn op(&mut self, i: usize, p: &Planned, op_addr: *const Op) {
        let op = p.op;
        let s = p.slot;
        let si = s as i64;
        match p.kind {
            Kind::Call => self.call(p, op_addr, Nzcv::Settled),
            Kind::AddImm { sf } => {
                let (n, d) = (xo(op.rn), xo(op.rd));
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n]);
                self.add_imm_rax(op.imm);
                if !sf {
                    dynasm!(self.a ; .arch x64 ; mov eax, eax);
                }
                dynasm!(self.a ; .arch x64 ; mov [rbx + d], rax);
                self.ok(s + 1, true);
            }
            Kind::AddsImm { sf, sub } => {
                // SUBS is decoded as Xn + !imm + 1: the host subtracts imm.
                let n = xo(op.rn);
                let imm = if sub { !op.imm } else { op.imm } as i64;
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n] ; mov rcx, QWORD imm);
                self.add_sub(sf, sub, true, op.rd);
                self.ok(s + 1, true);
            }
            Kind::Mem {
                n,
                mode,
                load,
                pair,
            } => {
                self.mem(i, &op, n, mode, load, pair);
                self.ok(s + 1, true);
            }
            Kind::LogicSh { sf, s: flags } => {
                self.shifted_rm(&op, sf, op.aux & 3, (op.aux >> 8) & 63);
                if op.aux & (1 << 18) != 0 {
                    dynasm!(self.a ; .arch x64 ; not rcx);
                }
                let n = xo(op.rn);
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n]);
                self.logic(sf, (op.aux >> 16) & 3, flags, op.rd);
                self.ok(s + 1, true);
            }
            Kind::AddSubSh { sf, sub, s: flags } => {
                self.shifted_rm(&op, sf, op.aux & 3, op.aux >> 8);
                let n = xo(op.rn);
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n]);
                self.add_sub(sf, sub, flags, op.rd);
                self.ok(s + 1, true);
            }
            Kind::LogicImm { sf, opc } => {
                let (n, imm) = (xo(op.rn), op.imm as i64);
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n] ; mov rcx, QWORD imm);
                // AND (immediate) keeps the register's width as the interpreter does (its
                // 32-bit immediate clears the upper half anyway).
                self.logic(sf || opc == 0, u32::from(opc), opc == 3, op.rd);
                self.ok(s + 1, true);
            }
            Kind::MovConst => {
                let (d, imm) = (xo(op.rd), op.imm as i64);
                dynasm!(self.a ; .arch x64 ; mov rax, QWORD imm ; mov [rbx + d], rax);
                self.ok(s + 1, true);
            }
            Kind::Movk { sf } => {
                let sh = op.aux & 63;
                let d = xo(op.rd);
                let keep = !(0xffffu64 << sh) as i64;
                let set = (op.imm << sh) as i64;
                dynasm!(self.a
                    ; .arch x64
                    ; mov rax, [rbx + d]
                    ; mov rcx, QWORD keep
                    ; and rax, rcx
                    ; mov rcx, QWORD set
                    ; or rax, rcx
                );
                if !sf {
                    dynasm!(self.a ; .arch x64 ; mov eax, eax);
                }
                dynasm!(self.a ; .arch x64 ; mov [rbx + d], rax);
                self.ok(s + 1, true);
            }
            Kind::Adr { page } => {
                let d = xo(op.rd);
                let base = if page { 0 } else { (s * 4) as i64 };
                let off = base.wrapping_add(op.imm as i64);
                dynasm!(self.a ; .arch x64 ; mov rax, r15 ; mov rcx, QWORD off ; add rax, rcx ; mov [rbx + d], rax);
                self.ok(s + 1, true);
            }
            Kind::Ubfm { sf } => {
                let (n, d, imm) = (xo(op.rn), xo(op.rd), op.imm as i64);
                let r = (op.aux & 63) as i8;
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n]);
                if sf {
                    dynasm!(self.a ; .arch x64 ; ror rax, r);
                } else {
                    dynasm!(self.a ; .arch x64 ; ror eax, r ; mov eax, eax);
                }
                dynasm!(self.a ; .arch x64 ; mov rcx, QWORD imm ; and rax, rcx ; mov [rbx + d], rax);
                self.ok(s + 1, true);
            }
            Kind::Csel { sf, inv, inc } => {
                let (n, m, d) = (xo(op.rn), xo(op.rm), xo(op.rd));
                let t = i32::from(COND_TABLE[(op.aux & 15) as usize]);
                self.settle();
                dynasm!(self.a
                    ; .arch x64
                    ; mov r8, [rbx + m]
                );
                if inv {
                    dynasm!(self.a ; .arch x64 ; not r8);
                }
                if inc {
                    dynasm!(self.a ; .arch x64 ; add r8, 1);
                }
                dynasm!(self.a
                    ; .arch x64
                    ; mov rax, [rbx + n]
                    ; mov edx, [rbx + NZCV]
                    ; shr edx, 28
                    ; mov ecx, t
                    ; bt ecx, edx
                    ; cmovnc rax, r8
                );
                if !sf {
                    dynasm!(self.a ; .arch x64 ; mov eax, eax);
                }
                dynasm!(self.a ; .arch x64 ; mov [rbx + d], rax);
                self.ok(s + 1, true);
            }
            Kind::DcZva if self.generated(p.kind) => {
                // As the handler with a TLB hit for writing (normal RAM, not holding
                // code): n zero bytes at Xt rounded down to n. Anything else is its path.
                let slow = self.slow(i);
                let (t, n) = (xo(op.rd), self.zva.0 as u32);
                dynasm!(self.a
                    ; .arch x64
                    ; mov rax, [rbx + t]
                    ; and rax, -(n as i32)
                );
                self.tlb(AccessKind::Write, n, slow);
                dynasm!(self.a ; .arch x64 ; pxor xmm0, xmm0);
                for k in 0..(n / 16) as i32 {
                    dynasm!(self.a ; .arch x64 ; movdqu [rax + 16 * k], xmm0);
                }
                self.ok(s + 1, true);
            }
            // The handler leaves NZCV alone.
            Kind::DcZva => self.call(p, op_addr, self.nzcv),
            Kind::Shiftv { sf } => {
                let (n, m) = (xo(op.rn), xo(op.rm));
                dynasm!(self.a ; .arch x64 ; mov rcx, [rbx + m] ; mov rax, [rbx + n]);
                match (sf, op.aux & 3) {
                    (true, 0) => dynasm!(self.a ; .arch x64 ; shl rax, cl),
                    (true, 1) => dynasm!(self.a ; .arch x64 ; shr rax, cl),
                    (true, 2) => dynasm!(self.a ; .arch x64 ; sar rax, cl),
                    (true, _) => dynasm!(self.a ; .arch x64 ; ror rax, cl),
                    (false, 0) => dynasm!(self.a ; .arch x64 ; shl eax, cl),
                    (false, 1) => dynasm!(self.a ; .arch x64 ; shr eax, cl),
                    (false, 2) => dynasm!(self.a ; .arch x64 ; sar eax, cl),
                    (false, _) => dynasm!(self.a ; .arch x64 ; ror eax, cl),
                }
                self.store_result(op.rd);
                self.ok(s + 1, true);
            }
            Kind::Nop => self.ok(s + 1, true),
            Kind::AddSubExt { sf, sub, s: flags } => {
                // Xm extended (UXTB..SXTX, as the op's option) and shifted left 0 to 4.
                let m = xo(op.rm);
                dynasm!(self.a ; .arch x64 ; mov rcx, [rbx + m]);
                match op.aux & 7 {
                    0 => dynasm!(self.a ; .arch x64 ; movzx ecx, cl),
                    1 => dynasm!(self.a ; .arch x64 ; movzx ecx, cx),
                    2 => dynasm!(self.a ; .arch x64 ; mov ecx, ecx),
                    4 => dynasm!(self.a ; .arch x64 ; movsx rcx, cl),
                    5 => dynasm!(self.a ; .arch x64 ; movsx rcx, cx),
                    6 => dynasm!(self.a ; .arch x64 ; movsxd rcx, ecx),
                    _ => {}
                }
                let sh = ((op.aux >> 8) & 7) as i8;
                if sh != 0 {
                    dynasm!(self.a ; .arch x64 ; shl rcx, sh);
                }
                let n = xo(op.rn);
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n]);
                self.add_sub(sf, sub, flags, op.rd);
                self.ok(s + 1, true);
            }
            Kind::Ccmp { sf, sub, imm } => {
                // Both ways leave NZCV in its saved form: the compare's host flags, or the
                // op's #nzcv written in that form (CF a borrow for CCMP).
                let f = u16::from(((op.aux >> 4) & 15) as u8);
                let c = ((f >> 1) & 1) ^ u16::from(sub);
                let raw = (((f >> 3) & 1) << 15) | (((f >> 2) & 1) << 14) | (c << 8) | (f & 1);
                let (fail, done) = (self.a.new_dynamic_label(), self.a.new_dynamic_label());
                self.unless(op.aux, false, fail);
                let n = xo(op.rn);
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n]);
                if imm {
                    dynasm!(self.a ; .arch x64 ; mov ecx, op.imm as i32);
                } else {
                    let m = xo(op.rm);
                    dynasm!(self.a ; .arch x64 ; mov rcx, [rbx + m]);
                }
                self.add_sub(sf, sub, true, SINK);
                dynasm!(self.a
                    ; .arch x64
                    ; jmp =>done
                    ; =>fail
                    ; mov WORD [rsp + 16], raw as i16
                    ; =>done
                );
                self.nzcv = Nzcv::Saved { sub };
                self.ok(s + 1, true);
            }
            Kind::B => self.branched(si + (op.imm as i64 >> 2), true),
            Kind::Bl => {
                let ret_addr = (s * 4 + 4) as i32;
                let lr = xo(30);
                dynasm!(self.a
                    ; .arch x64
                    ; lea rax, [r15 + ret_addr]
                    ; mov [rbx + lr], rax
                );
                self.branched(si + (op.imm as i64 >> 2), true);
            }
            Kind::BCond => {
                let nt = self.a.new_dynamic_label();
                self.unless(op.aux, false, nt);
                self.branched(si + (op.imm as i64 >> 2), false);
                dynasm!(self.a ; .arch x64 ; =>nt);
                self.ok(s + 1, true);
            }
            Kind::Cbz { sf, nz } => {
                let nt = self.a.new_dynamic_label();
                self.test_zero(op.rd, sf, nz, nt);
                self.branched(si + (op.imm as i64 >> 2), false);
                dynasm!(self.a ; .arch x64 ; =>nt);
                self.ok(s + 1, true);
            }
            Kind::Tbz { nz } => {
                let nt = self.a.new_dynamic_label();
                let (r, bit) = (xo(op.rd), (op.aux & 63) as i8);
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + r] ; bt rax, bit);
                if nz {
                    dynasm!(self.a ; .arch x64 ; jnc =>nt);
                } else {
                    dynasm!(self.a ; .arch x64 ; jc =>nt);
                }
                self.branched(si + (op.imm as i64 >> 2), false);
                dynasm!(self.a ; .arch x64 ; =>nt);
                self.ok(s + 1, true);
            }
            Kind::StepCmp { sf, sub } => {
                // The step (retired at once), then the compare and branch.
                // ADD/SUB (immediate): imm12, possibly << 12, fits an imm32.
                let (r, imm) = (xo(op.ra), op.imm as i32);
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + r]);
                if (op.aux >> 5) & 1 == 1 {
                    dynasm!(self.a ; .arch x64 ; sub rax, imm);
                } else {
                    dynasm!(self.a ; .arch x64 ; add rax, imm);
                }
                if (op.aux >> 6) & 1 == 0 {
                    dynasm!(self.a ; .arch x64 ; mov eax, eax);
                }
                dynasm!(self.a ; .arch x64 ; mov [rbx + r], rax ; inc rbp);
                // The compare reads the stepped register from `rax` where it is an operand.
                let (n, m) = (xo(op.rn), xo(op.rm));
                match (op.rn == op.ra, op.rm == op.ra) {
                    (true, true) => dynasm!(self.a ; .arch x64 ; mov rcx, rax),
                    (true, false) => dynasm!(self.a ; .arch x64 ; mov rcx, [rbx + m]),
                    (false, true) => {
                        dynasm!(self.a ; .arch x64 ; mov rcx, rax ; mov rax, [rbx + n])
                    }
                    (false, false) => {
                        dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n] ; mov rcx, [rbx + m])
                    }
                }
                self.add_sub(sf, sub, true, op.rd);
                self.fused_branch(&op, si + 2 + imm19(op.aux << 5), si + 3);
            }
            Kind::CmpImm { sf, sub } => {
                // As AddsImm.
                let n = xo(op.rn);
                let imm = if sub { !op.imm } else { op.imm } as i64;
                dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n] ; mov rcx, QWORD imm);
                self.add_sub(sf, sub, true, op.rd);
                self.fused_branch(&op, si + 1 + imm19(op.aux << 5), si + 2);
            }
            Kind::CmpReg { sf, sub } => {
                self.compare_reg(&op, sf, sub);
                self.fused_branch(&op, si + 1 + imm19(op.aux << 5), si + 2);
            }
            Kind::LdCbz { n, reg } => {
                let slow = self.slow(i);
                self.address(&op, reg, slow);
                self.tlb(AccessKind::Read, u32::from(n), slow);
                self.load(n, op.rd);
                dynasm!(self.a ; .arch x64 ; inc rbp);
                let nt = self.a.new_dynamic_label();
                let (sf, nz) = ((op.aux >> 8) & 1 == 1, (op.aux >> 9) & 1 == 1);
                if op.ra == op.rd {
                    // The register just loaded is still in `rcx`.
                    dynasm!(self.a ; .arch x64 ; mov rax, rcx);
                    self.test_zero_rax(sf, nz, nt);
                } else {
                    self.test_zero(op.ra, sf, nz, nt);
                }
                self.branched(si + 1 + imm19(op.aux << 1), false);
                dynasm!(self.a ; .arch x64 ; =>nt);
                self.branched(si + 2, true);
            }
        }
    }

    /// `rcx` = Xm shifted by `kind` (LSL, LSR, ASR, ROR) and `amount` at the op's width.
    fn shifted_rm(&mut self, op: &Op, sf: bool, kind: u32, amount: u32) {
        let m = xo(op.rm);
        dynasm!(self.a ; .arch x64 ; mov rcx, [rbx + m]);
        let a = amount as i8;
        match (sf, kind & 3) {
            (true, 0) => dynasm!(self.a ; .arch x64 ; shl rcx, a),
            (true, 1) => dynasm!(self.a ; .arch x64 ; shr rcx, a),
            (true, 2) => dynasm!(self.a ; .arch x64 ; sar rcx, a),
            (true, _) => dynasm!(self.a ; .arch x64 ; ror rcx, a),
            (false, 0) => dynasm!(self.a ; .arch x64 ; shl ecx, a),
            (false, 1) => dynasm!(self.a ; .arch x64 ; shr ecx, a),
            (false, 2) => dynasm!(self.a ; .arch x64 ; sar ecx, a),
            (false, _) => dynasm!(self.a ; .arch x64 ; ror ecx, a),
        }
        if !sf {
            dynasm!(self.a ; .arch x64 ; mov ecx, ecx);
        }
    }

    /// `rax` op= `rcx` (`opc`: 0 and 3 AND, 1 ORR, 2 EOR) at the op's width into `rd`;
    /// with `flags`, NZCV = N, Z of the result, C = V = 0 (the host's AND clears CF and OF).
    fn logic(&mut self, sf: bool, opc: u32, flags: bool, rd: u8) {
        match (sf, opc) {
            (true, 1) => dynasm!(self.a ; .arch x64 ; or rax, rcx),
            (true, 2) => dynasm!(self.a ; .arch x64 ; xor rax, rcx),
            (true, _) => dynasm!(self.a ; .arch x64 ; and rax, rcx),
            (false, 1) => dynasm!(self.a ; .arch x64 ; or eax, ecx),
            (false, 2) => dynasm!(self.a ; .arch x64 ; xor eax, ecx),
            (false, _) => dynasm!(self.a ; .arch x64 ; and eax, ecx),
        }
        self.store_result(rd);
        if flags {
            self.save_flags(false);
        }
    }

    /// A load or store (or pair) with the interpreter's order: the address; the access
    /// (values to store read before the write-back); the write-back; the loaded registers.
    /// Anything but a TLB hit inside one page, and SP misaligned as a base, takes the
    /// handler.
    fn mem(&mut self, i: usize, op: &Op, n: u8, mode: Mode, load: bool, pair: bool) {
        let slow = self.slow(i);
        let base = xo(op.rn);
        if op.rn == SP {
            dynasm!(self.a ; .arch x64 ; test BYTE [rbx + base], 15 ; jnz =>slow);
        }
        dynasm!(self.a ; .arch x64 ; mov rax, [rbx + base]);
        match mode {
            Mode::Off | Mode::Pre => self.add_imm_rax(op.imm),
            Mode::Post => {}
            Mode::RegLsl => {
                let m = xo(op.rm);
                let sh = (op.aux & 7) as i8;
                dynasm!(self.a ; .arch x64 ; mov rcx, [rbx + m]);
                if sh != 0 {
                    dynasm!(self.a ; .arch x64 ; shl rcx, sh);
                }
                dynasm!(self.a ; .arch x64 ; add rax, rcx);
            }
        }
        if matches!(mode, Mode::Pre | Mode::Post) {
            // The address to write back.
            dynasm!(self.a ; .arch x64 ; mov r8, rax);
        }
        let kind = if load {
            AccessKind::Read
        } else {
            AccessKind::Write
        };
        self.tlb(kind, u32::from(if pair { 2 * n } else { n }), slow);
        let (t1, t2) = (xo(op.rd), xo(op.ra));
        let second = i32::from(n);
        if load {
            self.load_to(n, 0, Host::Rcx);
            if pair {
                self.load_to(n, second, Host::Rdx);
            }
        } else {
            dynasm!(self.a ; .arch x64 ; mov rcx, [rbx + t1]);
            if pair {
                dynasm!(self.a ; .arch x64 ; mov rdx, [rbx + t2]);
            }
            self.store_from(n, 0, Host::Rcx);
            if pair {
                self.store_from(n, second, Host::Rdx);
            }
        }
        match mode {
            Mode::Pre => dynasm!(self.a ; .arch x64 ; mov [rbx + base], r8),
            Mode::Post => {
                self.add_imm_r8(op.imm);
                dynasm!(self.a ; .arch x64 ; mov [rbx + base], r8);
            }
            _ => {}
        }
        if load {
            dynasm!(self.a ; .arch x64 ; mov [rbx + t1], rcx);
            if pair {
                dynasm!(self.a ; .arch x64 ; mov [rbx + t2], rdx);
            }
        }
    }

    /// `r8 += imm` (64-bit wrapping); clobbers `rsi`.
    fn add_imm_r8(&mut self, imm: u64) {
        let i = imm as i64;
        dynasm!(self.a ; .arch x64 ; mov rsi, QWORD i ; add r8, rsi);
    }

    /// A zero-extending load of `n` bytes at host `rax + off` into `to`.
    fn load_to(&mut self, n: u8, off: i32, to: Host) {
        match (n, to) {
            (1, Host::Rcx) => dynasm!(self.a ; .arch x64 ; movzx ecx, BYTE [rax + off]),
            (2, Host::Rcx) => dynasm!(self.a ; .arch x64 ; movzx ecx, WORD [rax + off]),
            (4, Host::Rcx) => dynasm!(self.a ; .arch x64 ; mov ecx, DWORD [rax + off]),
            (_, Host::Rcx) => dynasm!(self.a ; .arch x64 ; mov rcx, QWORD [rax + off]),
            (1, Host::Rdx) => dynasm!(self.a ; .arch x64 ; movzx edx, BYTE [rax + off]),
            (2, Host::Rdx) => dynasm!(self.a ; .arch x64 ; movzx edx, WORD [rax + off]),
            (4, Host::Rdx) => dynasm!(self.a ; .arch x64 ; mov edx, DWORD [rax + off]),
            (_, Host::Rdx) => dynasm!(self.a ; .arch x64 ; mov rdx, QWORD [rax + off]),
        }
    }

    /// A store of the low `n` bytes of `from` at host `rax + off`.
    fn store_from(&mut self, n: u8, off: i32, from: Host) {
        match (n, from) {
            (1, Host::Rcx) => dynasm!(self.a ; .arch x64 ; mov [rax + off], cl),
            (2, Host::Rcx) => dynasm!(self.a ; .arch x64 ; mov [rax + off], cx),
            (4, Host::Rcx) => dynasm!(self.a ; .arch x64 ; mov [rax + off], ecx),
            (_, Host::Rcx) => dynasm!(self.a ; .arch x64 ; mov [rax + off], rcx),
            (1, Host::Rdx) => dynasm!(self.a ; .arch x64 ; mov [rax + off], dl),
            (2, Host::Rdx) => dynasm!(self.a ; .arch x64 ; mov [rax + off], dx),
            (4, Host::Rdx) => dynasm!(self.a ; .arch x64 ; mov [rax + off], edx),
            (_, Host::Rdx) => dynasm!(self.a ; .arch x64 ; mov [rax + off], rdx),
        }
    }

    /// Jumps to `not_taken` unless (register `r` is zero) != `nz`.
    fn test_zero(&mut self, r: u8, sf: bool, nz: bool, not_taken: DynamicLabel) {
        let r = xo(r);
        dynasm!(self.a ; .arch x64 ; mov rax, [rbx + r]);
        self.test_zero_rax(sf, nz, not_taken);
    }

    /// Jumps to `not_taken` unless (`rax` is zero) != `nz`.
    fn test_zero_rax(&mut self, sf: bool, nz: bool, not_taken: DynamicLabel) {
        if sf {
            dynasm!(self.a ; .arch x64 ; test rax, rax);
        } else {
            dynasm!(self.a ; .arch x64 ; test eax, eax);
        }
        if nz {
            dynasm!(self.a ; .arch x64 ; jz =>not_taken);
        } else {
            dynasm!(self.a ; .arch x64 ; jnz =>not_taken);
        }
    }

    /// ADDS/SUBS (register, no shift): Xn + Xm or Xn - Xm into `rd`, NZCV saved.
    fn compare_reg(&mut self, op: &Op, sf: bool, sub: bool) {
        let (n, m) = (xo(op.rn), xo(op.rm));
        dynasm!(self.a ; .arch x64 ; mov rax, [rbx + n] ; mov rcx, [rbx + m]);
        self.add_sub(sf, sub, true, op.rd);
    }

    /// The branch of a fused compare, right after the compare's code (its host flags are
    /// live): the branch retires too.
    fn fused_branch(&mut self, op: &Op, taken: i64, not_taken: i64) {
        dynasm!(self.a ; .arch x64 ; lea rbp, [rbp + 1]);
        let cond = op.aux & 15;
        if cond >= 14 {
            self.branched(taken, true);
            return;
        }
        let nt = self.a.new_dynamic_label();
        self.unless(cond, true, nt);
        self.branched(taken, false);
        dynasm!(self.a ; .arch x64 ; =>nt);
        self.branched(not_taken, true);
    }
}

/// A host register the memory helpers load into or store from.
#[derive(Clone, Copy)]
enum Host {
    Rcx,
    Rdx,
}

/// The signed 19-bit word offset in bits 31..13 of `v` (the fused ops keep it there after
/// a shift).
fn imm19(v: u32) -> i64 {
    i64::from((v as i32) >> 13)
}
