//! A minimal Linux-user runner: loads a static AArch64 ELF executable into a
//! flat address space (VA = PA), runs it at EL0 and answers the few system
//! calls simple programs make. Used by the differential tests and the bench.

use thiserror::Error;

use crate::cpu::{Cpu, Exit};
use crate::exception::{ec, SyncException};
use crate::mem::{MemError, NoMmio, PAGE_SIZE};
use crate::sysreg::CpuProfile;

/// Errors loading a user program.
#[derive(Debug, Error)]
pub enum UserError {
    /// Not a 64-bit little-endian AArch64 static executable.
    #[error("not a static AArch64 ELF64 executable: {0}")]
    BadElf(&'static str),
    /// A segment lies outside the file or the address space.
    #[error("ELF segment {index} is malformed")]
    BadSegment {
        /// Program header index.
        index: usize,
    },
    /// Guest memory could not be set up.
    #[error("guest memory setup failed")]
    Memory(#[from] MemError),
    /// Host allocation failed.
    #[error("cannot allocate {0:#x} bytes of guest memory")]
    Alloc(u64),
}

/// Local result type.
pub type Result<T> = std::result::Result<T, UserError>;

/// Page-aligned, zeroed host memory backing one guest region.
#[derive(Debug)]
struct GuestBuf {
    ptr: *mut u8,
    layout: std::alloc::Layout,
}

impl GuestBuf {
    fn new(len: u64) -> Result<Self> {
        let layout = std::alloc::Layout::from_size_align(len as usize, PAGE_SIZE as usize)
            .map_err(|_| UserError::Alloc(len))?;
        if layout.size() == 0 {
            return Err(UserError::Alloc(len));
        }
        // SAFETY: the layout has a non-zero size (checked above).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(UserError::Alloc(len));
        }
        Ok(Self { ptr, layout })
    }
}

impl Drop for GuestBuf {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `alloc_zeroed` with this exact layout.
        unsafe { std::alloc::dealloc(self.ptr, self.layout) };
    }
}

/// How a user program run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserExit {
    /// exit/exit_group with this status.
    Exited(i32),
    /// The instruction budget ran out.
    Budget,
    /// An UNDEFINED instruction (the word) at `pc`.
    Undefined {
        /// Address of the instruction.
        pc: u64,
        /// The instruction word.
        word: u32,
    },
    /// Any other synchronous exception (abort, BRK, alignment...).
    Fault(SyncException),
}

/// Base of the stack region (grows down from `STACK_TOP`).
pub const STACK_TOP: u64 = 0x0000_7fff_f000_0000;
const STACK_SIZE: u64 = 8 << 20;
const BRK_SIZE: u64 = 64 << 20;
const MMAP_BASE: u64 = 0x0000_7f00_0000_0000;
const MMAP_SIZE: u64 = 256 << 20;

/// A loaded user program.
#[derive(Debug)]
pub struct UserProcess {
    /// The CPU (in user mode).
    pub cpu: Cpu,
    /// Bytes written to fd 1.
    pub stdout: Vec<u8>,
    /// Bytes written to fd 2.
    pub stderr: Vec<u8>,
    /// System call numbers answered with ENOSYS.
    pub unknown_syscalls: Vec<u64>,
    brk_start: u64,
    brk: u64,
    mmap_next: u64,
    // Declared last: dropped after the CPU that points into them.
    bufs: Vec<GuestBuf>,
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(o..o.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(o..o.checked_add(8)?)?.try_into().ok()?,
    ))
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

const ENOSYS: i64 = 38;
const EBADF: i64 = 9;
const EFAULT: i64 = 14;
const ENOMEM: i64 = 12;

impl UserProcess {
    /// Load a static ELF executable with the default CPU profile.
    ///
    /// # Errors
    /// [`UserError`] if the file is not a loadable static AArch64 executable.
    pub fn load(elf: &[u8]) -> Result<Self> {
        Self::load_with_args(elf, &["prog"])
    }

    /// Load a static ELF executable; `args` become argv (`argv[0]` first).
    ///
    /// # Errors
    /// [`UserError`] if the file is not a loadable static AArch64 executable.
    pub fn load_with_args(elf: &[u8], args: &[&str]) -> Result<Self> {
        if args.len() > 64 {
            return Err(UserError::BadElf("too many arguments"));
        }
        if elf.get(..4) != Some(b"\x7fELF".as_slice()) {
            return Err(UserError::BadElf("bad magic"));
        }
        if elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
            return Err(UserError::BadElf("not ELF64 little-endian"));
        }
        if u16_at(elf, 16) != Some(2) || u16_at(elf, 18) != Some(183) {
            return Err(UserError::BadElf("not an AArch64 ET_EXEC"));
        }
        let bad = UserError::BadElf("truncated header");
        let entry = u64_at(elf, 24).ok_or(bad)?;
        let phoff = u64_at(elf, 32).ok_or(UserError::BadElf("truncated header"))?;
        let phentsize = u16_at(elf, 54).ok_or(UserError::BadElf("truncated header"))?;
        let phnum = u16_at(elf, 56).ok_or(UserError::BadElf("truncated header"))?;
        let mut segs = Vec::new();
        for i in 0..usize::from(phnum) {
            let o = (phoff as usize)
                .checked_add(i * usize::from(phentsize))
                .ok_or(UserError::BadSegment { index: i })?;
            let ty = u32_at(elf, o).ok_or(UserError::BadSegment { index: i })?;
            if ty != 1 {
                continue;
            }
            let get = |off: usize| {
                o.checked_add(off)
                    .and_then(|a| u64_at(elf, a))
                    .ok_or(UserError::BadSegment { index: i })
            };
            let s = Segment {
                offset: get(8)?,
                vaddr: get(16)?,
                filesz: get(32)?,
                memsz: get(40)?,
            };
            let file_end = s.offset.checked_add(s.filesz);
            if (s.filesz > 0 && file_end.is_none_or(|e| e > elf.len() as u64))
                || s.filesz > s.memsz
                || s.vaddr.checked_add(s.memsz).is_none_or(|e| e >= MMAP_BASE)
            {
                return Err(UserError::BadSegment { index: i });
            }
            segs.push(s);
        }
        if segs.is_empty() {
            return Err(UserError::BadElf("no loadable segments"));
        }
        let lo = segs.iter().map(|s| s.vaddr).min().unwrap_or(0) & !(PAGE_SIZE - 1);
        let hi = segs
            .iter()
            .map(|s| s.vaddr + s.memsz)
            .max()
            .unwrap_or(0)
            .next_multiple_of(PAGE_SIZE);
        let mut cpu = Cpu::new(CpuProfile::default(), Box::new(NoMmio::default()));
        let mut bufs = Vec::new();
        let regions = [
            (lo, hi - lo + BRK_SIZE),
            (STACK_TOP - STACK_SIZE, STACK_SIZE),
            (MMAP_BASE, MMAP_SIZE),
        ];
        for (base, len) in regions {
            let b = GuestBuf::new(len)?;
            // SAFETY: the buffer is owned by the process, outlives the CPU
            // (field order), and is only accessed through raw pointers.
            unsafe { cpu.core.mem.add_ram(b.ptr, base, len)? };
            bufs.push(b);
        }
        let mut p = Self {
            cpu,
            stdout: Vec::new(),
            stderr: Vec::new(),
            unknown_syscalls: Vec::new(),
            brk_start: hi,
            brk: hi,
            mmap_next: MMAP_BASE,
            bufs,
        };
        for s in &segs {
            if s.filesz == 0 {
                continue;
            }
            let data = &elf[s.offset as usize..(s.offset + s.filesz) as usize];
            p.write_bytes(s.vaddr, data)
                .map_err(|_| UserError::BadElf("segment copy"))?;
        }
        let phdr = segs
            .iter()
            .find(|s| s.offset <= phoff && phoff < s.offset + s.filesz)
            .map_or(0, |s| s.vaddr + (phoff - s.offset));
        p.cpu.set_user_mode();
        p.setup_stack(args, entry, phdr, u64::from(phnum))?;
        p.cpu.set_pc(entry);
        Ok(p)
    }

    fn setup_stack(&mut self, args: &[&str], entry: u64, phdr: u64, phnum: u64) -> Result<()> {
        let e = |_| UserError::BadElf("stack");
        // Strings and AT_RANDOM bytes at the top, then the argv/envp/auxv block.
        let mut top = STACK_TOP - 16;
        let random = top;
        self.write_bytes(random, &[0x5a; 16]).map_err(e)?;
        let mut argv = Vec::with_capacity(args.len());
        for a in args {
            let len = a.len().min(4096) as u64 + 1;
            top -= len;
            let mut bytes = a.as_bytes()[..(len - 1) as usize].to_vec();
            bytes.push(0);
            self.write_bytes(top, &bytes).map_err(e)?;
            argv.push(top);
        }
        let mut words: Vec<u64> = vec![argv.len() as u64];
        words.extend(&argv);
        words.extend([0, 0]); // argv NULL, envp NULL
        words.extend([
            3, phdr, 4, 56, 5, phnum, 6, PAGE_SIZE, 9, entry, 25, random, 0, 0,
        ]);
        let sp = (top - 8 * words.len() as u64 - 64) & !15;
        for (i, w) in words.iter().enumerate() {
            self.write_bytes(sp + 8 * i as u64, &w.to_le_bytes())
                .map_err(e)?;
        }
        self.cpu.core.regs.x[usize::from(crate::state::SP)] = sp;
        Ok(())
    }

    /// Copy bytes into guest memory.
    ///
    /// # Errors
    /// `Err(())` if some byte is not RAM.
    #[allow(clippy::result_unit_err)]
    pub fn write_bytes(&mut self, va: u64, data: &[u8]) -> std::result::Result<(), ()> {
        for (i, b) in data.iter().enumerate() {
            self.cpu
                .core
                .mem
                .write(va + i as u64, 1, u64::from(*b))
                .map_err(|_| ())?;
        }
        Ok(())
    }

    /// Copy bytes out of guest memory.
    ///
    /// # Errors
    /// `Err(())` if some byte is not RAM.
    #[allow(clippy::result_unit_err)]
    pub fn read_bytes(&mut self, va: u64, len: u64) -> std::result::Result<Vec<u8>, ()> {
        let mut out = Vec::with_capacity(len.min(1 << 24) as usize);
        for i in 0..len {
            let pa = va.wrapping_add(i);
            if !self.cpu.core.mem.is_ram(pa) {
                return Err(());
            }
            out.push(self.cpu.core.mem.read(pa, 1).map_err(|_| ())? as u8);
        }
        Ok(out)
    }

    /// Run for at most `budget` instructions.
    pub fn run(&mut self, budget: u64) -> UserExit {
        let end = self.cpu.core.icount.saturating_add(budget);
        loop {
            let left = end.saturating_sub(self.cpu.core.icount);
            if left == 0 {
                return UserExit::Budget;
            }
            match self.cpu.run(left) {
                Exit::Svc(_) => {
                    if let Some(code) = self.syscall() {
                        return UserExit::Exited(code);
                    }
                }
                Exit::Budget => {}
                // User mode takes no exception to EL1, so it never loops in one.
                Exit::Idle { .. }
                | Exit::Hvc(_)
                | Exit::Smc(_)
                | Exit::ExceptionLoop
                | Exit::Halted
                | Exit::Sev
                | Exit::Yield => {}
                Exit::Exception(e) if e.ec == ec::UNKNOWN => {
                    let word = self
                        .read_bytes(e.ret, 4)
                        .ok()
                        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                    return UserExit::Undefined { pc: e.ret, word };
                }
                Exit::Exception(e) => return UserExit::Fault(e),
            }
        }
    }

    /// Answer the system call in X8 with arguments X0..X5. Returns the exit
    /// status if the program exited.
    fn syscall(&mut self) -> Option<i32> {
        let r = &self.cpu.core.regs;
        let nr = r.x[8];
        let a = [r.x[0], r.x[1], r.x[2]];
        let ret: i64 = match nr {
            64 => self.sys_write(a[0], a[1], a[2]),
            93 | 94 => return Some(a[0] as i32),
            214 => {
                if a[0] >= self.brk_start && a[0] <= self.brk_start + BRK_SIZE {
                    self.brk = a[0];
                }
                self.brk as i64
            }
            222 => self.sys_mmap(a[1]),
            96 => 1,                    // set_tid_address: tid 1
            172 | 174..=177 => 0,       // getpid.. getegid: 0/1 are fine
            29 => -25,                  // ioctl: ENOTTY
            215 | 226 | 135 | 134 => 0, // munmap, mprotect, rt_sigprocmask, rt_sigaction
            _ => {
                if self.unknown_syscalls.len() < 64 {
                    self.unknown_syscalls.push(nr);
                }
                -ENOSYS
            }
        };
        self.cpu.core.regs.x[0] = ret as u64;
        None
    }

    fn sys_write(&mut self, fd: u64, buf: u64, len: u64) -> i64 {
        if fd != 1 && fd != 2 {
            return -EBADF;
        }
        let Ok(data) = self.read_bytes(buf, len.min(1 << 20)) else {
            return -EFAULT;
        };
        let n = data.len() as i64;
        if fd == 1 {
            self.stdout.extend_from_slice(&data);
        } else {
            self.stderr.extend_from_slice(&data);
        }
        n
    }

    fn sys_mmap(&mut self, len: u64) -> i64 {
        let Some(len) = len.checked_next_multiple_of(PAGE_SIZE) else {
            return -ENOMEM;
        };
        if len > MMAP_BASE + MMAP_SIZE - self.mmap_next {
            return -ENOMEM;
        }
        let a = self.mmap_next;
        self.mmap_next += len;
        a as i64
    }

    /// Number of guest memory regions (for diagnostics).
    #[must_use]
    pub fn regions(&self) -> usize {
        self.bufs.len()
    }
}
