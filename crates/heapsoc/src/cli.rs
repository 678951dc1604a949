//! Command-line interface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Boot the real Linux dma-buf heap drivers on an emulated Arm64 SoC described by a
/// device tree, and report where every buffer lands (bank, pool, ECC or not, contiguous).
#[derive(Debug, Parser)]
#[command(name = "heapsoc", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a subcommand: `run`.
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the machine the device tree describes and boot the guest (the default).
    Run(RunArgs),
    /// Boot the guest's test plan; report TAP/JUnit and the DMA placement verdict.
    Test(Box<TestArgs>),
    /// Print the memory map: banks and ECC, pools and carveouts, heaps, devices.
    Inspect(InspectArgs),
    /// Write the DTB the guest boots with (the user's tree with /chosen patched).
    Dtb(DtbArgs),
}

/// Where the board comes from.
#[derive(Debug, Args, Clone)]
pub struct BoardArgs {
    /// The board: a .dts (compiled with dtc) or a .dtb.
    #[arg(long, value_name = "FILE", default_value = "device-trees/heap-soc.dts")]
    pub dtb: PathBuf,
    /// Extra include directory for dtc and cpp (repeatable).
    #[arg(short = 'i', long = "include", value_name = "DIR")]
    pub include: Vec<PathBuf>,
    /// Run the C preprocessor over the .dts (auto: when it has #include/#define).
    #[arg(long, value_enum, default_value_t = CppMode::Auto)]
    pub cpp: CppMode,
    /// RAM the bootloader would supply: SIZE fills every /memory placeholder of size 0
    /// (or, with no /memory node, one bank at a free base); BASE:SIZE[:ecc] adds a bank
    /// (repeatable).
    #[arg(short = 'm', long, value_name = "SIZE|BASE:SIZE[:ecc]")]
    pub memory: Vec<board::MemoryArg>,
    /// The dtc to compile with (default: the kernel tree's own when the .dts is in one,
    /// else dtc from PATH).
    #[arg(long, value_name = "PATH")]
    pub dtc: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CppMode {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub board: BoardArgs,
    /// The guest: a directory guest-images/build.sh printed (Image, initramfs.cpio.gz), e.g.
    /// a patched build; instead of HEAPSOC_GUEST.
    #[arg(long, value_name = "DIR")]
    pub guest: Option<PathBuf>,
    /// arm64 kernel Image (default: the guest-image cache).
    #[arg(long, value_name = "FILE")]
    pub kernel: Option<PathBuf>,
    /// initramfs (default: the guest-image cache).
    #[arg(long, value_name = "FILE")]
    pub initrd: Option<PathBuf>,
    /// Kernel command line (replaces /chosen/bootargs).
    #[arg(long)]
    pub bootargs: Option<String>,
    /// The guest test plan (`heapsoc.test=PLAN` on the kernel command line): all, selftest,
    /// placement, display, bad-scanout, shell or none. `test` defaults to all; `run` boots
    /// the DT's own command line unless given one.
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<String>,
    /// Stop after this many guest instructions (default: `test` 20 G, `run` no limit).
    #[arg(long, value_name = "N")]
    pub max_insns: Option<u64>,
    /// Tie guest time to the host clock while the guest idles: an idle guest sleeps on the
    /// host and costs no CPU, and runs are no longer deterministic. The default of `run`.
    #[arg(long, conflicts_with = "skip_idle")]
    pub realtime: bool,
    /// An idle guest's time jumps to its next timer: deterministic, as fast as the host
    /// goes, but an idle prompt then keeps a host core busy. The default of `test`.
    #[arg(long)]
    pub skip_idle: bool,
    /// Inject a memory error: KIND@TARGET[@when:EVENT] (repeatable). KIND ce, ue or flip;
    /// TARGET a guest-physical address, buffer:NODE[#N][+OFF] (the N-th buffer, default the
    /// latest, the device NODE read by DMA) or heap:NAME[+OFF] (the latest buffer a device
    /// got from that heap); EVENT init (the default for an address), first-scanout, import,
    /// exit or an instruction count (a buffer goes in as soon as it exists).
    #[arg(long, value_name = "KIND@TARGET", value_parser = crate::inject::parse)]
    pub inject: Vec<crate::inject::Spec>,
    /// The CPU backend: kvm (the host's CPUs, on an aarch64 Linux host with /dev/kvm; not
    /// deterministic), interp (heapsoc's interpreter: deterministic, instructions counted),
    /// translate (the interpreter with its translator for hot code, x86-64 hosts: the same
    /// run, faster), or auto: KVM where it can run the board, else translate where the host
    /// has a translator, else interp.
    #[arg(long, value_name = "auto|kvm|interp|translate", default_value = "auto")]
    pub accel: vmm::kvm::Accel,
    /// Start at most N of the CPUs the DT declares (default: all).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub smp: Option<u16>,
    /// The heaps device NODE may take buffers from, in priority order: NODE=HEAP[,HEAP...]
    /// (repeatable; `dumb` allows the DRM driver's own buffers). Every buffer the device
    /// imported or scanned out is judged; the report says which heap it got.
    #[arg(long, value_name = "NODE=HEAPS")]
    pub heap_policy: Vec<crate::heap_policy::Spec>,
    /// Write the placement report as JSON (when the run ends).
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// The display mode virtio-gpu reports to the guest, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1024x768", value_parser = parse_mode)]
    pub gpu_mode: (u32, u32),
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("{s}: expected a positive number of seconds")),
    }
}

fn parse_mode(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s}: expected WIDTHxHEIGHT, e.g. 1024x768"))?;
    let n = |v: &str| -> Result<u32, String> {
        match v.parse::<u32>() {
            Ok(n) if (1..=16384).contains(&n) => Ok(n),
            _ => Err(format!("{s}: {v} is not a size from 1 to 16384")),
        }
    };
    Ok((n(w)?, n(h)?))
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Write the results as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the memory map with the devices' buffers as SVG.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Write the last distinct frame the PL111 display scanned out as PNG.
    #[arg(long, value_name = "FILE")]
    pub screenshot: Option<PathBuf>,
    /// Stop the run after this much host time, in seconds (default: none on the
    /// interpreter, whose instruction budget bounds a run; 600 under KVM, which counts no
    /// instructions, so that a guest that hangs cannot hold a CI job forever).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<f64>,
    /// Extra placement rule NODE=ecc|non-ecc|contiguous (repeatable).
    #[arg(long, value_name = "NODE=WHAT")]
    pub expect: Vec<ledger::Rule>,
    /// Write the results as KernelCI KCIDB I/O JSON (schema v5.3): a test per guest test
    /// case with a path that is the same on every board, the placement verdict as its own
    /// test.
    #[arg(long, value_name = "FILE")]
    pub kcidb: Option<PathBuf>,
    /// KCIDB origin: the CI system submitting ([a-z0-9_]+).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "heapsoc",
        requires = "kcidb"
    )]
    pub kcidb_origin: String,
    /// KCIDB build id of the tested kernel (default: ORIGIN:kernel-<fingerprint of the
    /// Image>); ORIGIN: is added when missing.
    #[arg(long, value_name = "ID", requires = "kcidb")]
    pub kcidb_build_id: Option<String>,
    /// Makes the run's KCIDB test ids unique, e.g. the CI job's id (default: a fingerprint
    /// of kernel, initramfs, board and command line: the same inputs, the same ids).
    #[arg(long, value_name = "ID", requires = "kcidb")]
    pub kcidb_run_id: Option<String>,
    /// Do not echo the guest console.
    #[arg(long, short)]
    pub quiet: bool,
    /// Count DMA accesses without recording them (to measure what the ledger costs; the
    /// placement verdict then has nothing to judge).
    #[arg(long)]
    pub no_dma_ledger: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub board: BoardArgs,
    /// Print the board model as JSON.
    #[arg(long)]
    pub json: bool,
    /// Check the board against the DT bindings with dt-schema's dt-validate: the kernel
    /// tree's (the one the .dts is in, else the guest build's) plus --schema directories.
    /// Violations are warnings unless --strict.
    #[arg(long)]
    pub validate: bool,
    /// A directory of binding schemas (YAML) to validate with, besides the kernel's
    /// (repeatable; implies --validate).
    #[arg(long, value_name = "DIR")]
    pub schema: Vec<PathBuf>,
    /// Binding violations are errors (exit status 1).
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct DtbArgs {
    #[command(flatten)]
    pub board: BoardArgs,
    /// Output file.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// /chosen/bootargs.
    #[arg(long)]
    pub bootargs: Option<String>,
    /// /chosen/stdout-path.
    #[arg(long)]
    pub stdout_path: Option<String>,
    /// initramfs start address (guest physical), with --initrd-size.
    #[arg(long, value_parser = parse_u64, requires = "initrd_size")]
    pub initrd_start: Option<u64>,
    /// initramfs size in bytes.
    #[arg(long, value_parser = parse_u64, requires = "initrd_start")]
    pub initrd_size: Option<u64>,
}

/// Decimal or 0x-prefixed hexadecimal, `_` allowed between digits.
pub(crate) fn parse_u64(s: &str) -> Result<u64, String> {
    let t = s.replace('_', "");
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse(),
    };
    r.map_err(|e| format!("{s}: {e}"))
}
