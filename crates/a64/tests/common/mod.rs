//! Shared test harness: builds static AArch64 test programs from generated
//! assembly with the cross binutils, runs them under `qemu-aarch64` (the
//! oracle, as a Cortex-A53) and under our user-mode runner, and compares.

#![allow(dead_code)]

pub mod gen_fp;
pub mod gen_int;
pub mod gen_mem;
pub mod gen_simd;
pub mod gen_vec;
pub mod prog;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use a64::user::{UserExit, UserProcess};

/// Debian packages providing the tools.
pub const PACKAGES: &str = "qemu-user, binutils-aarch64-linux-gnu";

/// Panic (failing the test) unless the cross tools and qemu are present.
pub fn require_tools() {
    for tool in [
        "aarch64-linux-gnu-as",
        "aarch64-linux-gnu-ld",
        "qemu-aarch64",
    ] {
        let ok = Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "`{tool}` is missing: the differential tests need the Debian packages {PACKAGES} \
             (apt-get install qemu-user binutils-aarch64-linux-gnu)"
        );
    }
}

/// A fresh temporary directory for one program.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "a64-test-{}-{}-{}",
        std::process::id(),
        tag,
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// Assemble and link `asm` into a static executable; returns its path.
pub fn build(asm: &str, tag: &str) -> PathBuf {
    require_tools();
    let dir = temp_dir(tag);
    let s = dir.join("t.s");
    let o = dir.join("t.o");
    let exe = dir.join("t");
    std::fs::write(&s, asm).expect("write asm");
    run_tool(
        "aarch64-linux-gnu-as",
        &[s.as_os_str(), "-o".as_ref(), o.as_os_str()],
    );
    run_tool(
        "aarch64-linux-gnu-ld",
        &[
            "-static".as_ref(),
            "-o".as_ref(),
            exe.as_os_str(),
            o.as_os_str(),
        ],
    );
    exe
}

fn run_tool(tool: &str, args: &[&std::ffi::OsStr]) {
    let out = Command::new(tool).args(args).output().expect("run tool");
    assert!(
        out.status.success(),
        "{tool} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Output of one run.
#[derive(Debug)]
pub struct RunResult {
    /// Bytes written to stdout.
    pub stdout: Vec<u8>,
    /// Exit status (or a description of how it stopped).
    pub status: String,
}

/// Run under qemu-aarch64 (Cortex-A53 profile, like ours).
pub fn run_qemu(exe: &Path) -> RunResult {
    run_qemu_args(exe, &[])
}

/// Run under qemu-aarch64 with extra arguments after the program.
pub fn run_qemu_args(exe: &Path, extra: &[&str]) -> RunResult {
    let out = Command::new("qemu-aarch64")
        .args(["-cpu", "cortex-a53"])
        .arg(exe)
        .args(extra)
        .output()
        .expect("run qemu-aarch64");
    let status = match out.status.code() {
        Some(c) => format!("exit {c}"),
        None => format!(
            "signal {:?}",
            std::os::unix::process::ExitStatusExt::signal(&out.status)
        ),
    };
    RunResult {
        stdout: out.stdout,
        status,
    }
}

/// Run under our user-mode runner.
pub fn run_ours(exe: &Path, budget: u64) -> RunResult {
    run_ours_args(exe, &["prog"], budget)
}

/// Run under our user-mode runner with this argv.
pub fn run_ours_args(exe: &Path, argv: &[&str], budget: u64) -> RunResult {
    run_ours_with(exe, argv, budget, None).0
}

/// Run under our user-mode runner with this argv, the translator on at `threshold` (0:
/// every block translated before it first runs) or off; also gives the instructions retired.
pub fn run_ours_with(
    exe: &Path,
    argv: &[&str],
    budget: u64,
    threshold: Option<u16>,
) -> (RunResult, u64) {
    let elf = std::fs::read(exe).expect("read exe");
    let mut p = UserProcess::load_with_args(&elf, argv).expect("load ELF");
    assert!(
        p.cpu.set_translation(threshold) || threshold.is_none(),
        "this host has no translator"
    );
    let r = p.run(budget);
    let status = match r {
        UserExit::Exited(c) => format!("exit {c}"),
        UserExit::Undefined { pc, word } => format!("UNDEFINED {word:#010x} at {pc:#x}"),
        other => format!("{other:?}"),
    };
    let icount = p.cpu.core.icount;
    (
        RunResult {
            stdout: p.stdout,
            status,
        },
        icount,
    )
}

/// Whether this host translates (the forced-translation runs are skipped elsewhere).
pub fn translates() -> bool {
    a64::jit::supported()
}

/// Deterministic PRNG (SplitMix64) so every run generates the same programs.
#[derive(Debug, Clone)]
pub struct Rng(pub std::cell::Cell<u64>);

impl Rng {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        Self(std::cell::Cell::new(seed))
    }

    /// Next 64 random bits.
    pub fn next(&self) -> u64 {
        self.0.set(self.0.get().wrapping_add(0x9E37_79B9_7F4A_7C15));
        let mut z = self.0.get();
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Pick one element.
    pub fn pick<'a, T>(&self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// An operand value, biased to edge cases.
    pub fn value(&self) -> u64 {
        const EDGE: [u64; 12] = [
            0,
            1,
            u64::MAX,
            0x8000_0000_0000_0000,
            0x7fff_ffff_ffff_ffff,
            0x8000_0000,
            0x7fff_ffff,
            0xffff_ffff,
            0xffff_ffff_8000_0000,
            2,
            63,
            64,
        ];
        match self.below(10) {
            0..=2 => *self.pick(&EDGE),
            3 => self.below(256),
            4 => self.next() & 0xffff_ffff,
            _ => self.next(),
        }
    }
}
