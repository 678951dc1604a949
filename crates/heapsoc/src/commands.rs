//! The subcommands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use board::{ChosenPatch, Loaded, Range, SourceOptions};

use crate::cli::{BoardArgs, CppMode, DtbArgs, InspectArgs, RunArgs, TestArgs};

/// Any failure a command reports; printed as one line by `main`.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{path}: {source}")]
    Board {
        path: String,
        #[source]
        source: board::BoardError,
    },
    #[error(transparent)]
    Machine(#[from] vmm::machine::MachineError),
    #[error(transparent)]
    Load(#[from] vmm::loader::LoadError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Guest(String),
    #[error("{0}")]
    Usage(String),
    #[error("PNG: {0}")]
    Png(#[from] png::EncodingError),
    #[error(transparent)]
    Vm(#[from] vmm::vm::VmError),
}

type Result<T> = std::result::Result<T, CliError>;

fn load(args: &BoardArgs) -> Result<Loaded> {
    let opts = SourceOptions {
        include_dirs: args.include.clone(),
        cpp: match args.cpp {
            CppMode::Auto => board::Cpp::Auto,
            CppMode::Always => board::Cpp::Always,
            CppMode::Never => board::Cpp::Never,
        },
        dtc: args.dtc.clone().or_else(|| {
            board::KernelTree::of(&args.dtb)
                .and_then(|t| crate::guest::Lookup::from_env().kernel_tree_dtc(&t))
        }),
        memory: args.memory.clone(),
    };
    let loaded = board::load(&args.dtb, &opts).map_err(|source| CliError::Board {
        path: args.dtb.display().to_string(),
        source,
    })?;
    for w in &loaded.compiler_warnings {
        eprintln!("heapsoc: dtc: {w}");
    }
    for n in &loaded.memory_notes {
        eprintln!("heapsoc: {n}");
    }
    Ok(loaded)
}

fn print_warnings(loaded: &Loaded) {
    for w in &loaded.board.warnings {
        eprintln!("heapsoc: warning: {w}");
    }
}

pub fn inspect(args: &InspectArgs) -> Result<ExitCode> {
    let loaded = load(&args.board)?;
    board::guest_dtb(&loaded.tree, &board::ChosenPatch::default()).map_err(|source| {
        CliError::Board {
            path: args.board.dtb.display().to_string(),
            source,
        }
    })?;
    // What a boot would build. A board heapsoc cannot build a machine for (an interrupt
    // controller it does not model, say) is still a valid board to inspect.
    let machine = vmm::machine::build(
        &loaded.board,
        Box::new(std::io::sink()),
        a64::CpuProfile::default().cntfrq,
    );
    if let Err(e) = &machine {
        eprintln!("heapsoc: warning: cannot boot this board: {e}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&loaded.board)?);
        print_warnings(&loaded);
    } else {
        print!("{}", board::report::text(&loaded.board));
        match &machine {
            Ok(m) => print!("{}", machine_text(m)),
            Err(e) => print!("\nMachine\n  cannot boot: {e}\n"),
        }
    }
    if args.validate || args.strict || !args.schema.is_empty() {
        let violations = validate_board(args, &loaded)?;
        let level = if args.strict { "error" } else { "warning" };
        for v in &violations {
            eprintln!("heapsoc: {level}: binding: {v}");
        }
        eprintln!(
            "heapsoc: dt-validate: {} binding violation(s)",
            violations.len()
        );
        if args.strict && !violations.is_empty() {
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `inspect --validate`: the board's DTB through dt-validate.
fn validate_board(args: &InspectArgs, loaded: &Loaded) -> Result<Vec<crate::validate::Violation>> {
    let lookup = crate::guest::Lookup::from_env();
    let kernel = crate::validate::bindings_of(&args.board.dtb)
        .or_else(|| lookup.kernel_bindings())
        .ok_or_else(|| {
            CliError::Usage(
                "--validate: no kernel bindings: the board is not in a kernel tree and no guest build unpacked one (guest-images/build.sh)".into(),
            )
        })?;
    let mut dirs = vec![kernel];
    for d in &args.schema {
        if !d.is_dir() {
            return Err(CliError::Usage(format!(
                "--schema {}: not a directory",
                d.display()
            )));
        }
        dirs.push(d.clone());
    }
    let dtb = board::guest_dtb(&loaded.tree, &board::ChosenPatch::default()).map_err(|source| {
        CliError::Board {
            path: args.board.dtb.display().to_string(),
            source,
        }
    })?;
    let work = tempfile_dir()?;
    let cache = lookup
        .cache
        .map(|c| c.join("dtschema"))
        .filter(|c| std::fs::create_dir_all(c).is_ok())
        .unwrap_or_else(|| work.clone());
    let result = crate::validate::validate(&dtb, &dirs, &cache, &work).map_err(CliError::Usage);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// A fresh private directory under the system's temporary directory.
fn tempfile_dir() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    for n in 0..1000u32 {
        let d = base.join(format!("heapsoc-{}-{n}", std::process::id()));
        match std::fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(CliError::Io {
                    path: d.display().to_string(),
                    source,
                })
            }
        }
    }
    Err(CliError::Usage(format!(
        "no free temporary directory under {}",
        base.display()
    )))
}

/// The machine a boot builds, as `inspect` shows it.
fn machine_text(m: &vmm::machine::Machine) -> String {
    use std::fmt::Write;
    let mut o = String::from("\nMachine\n");
    let _ = writeln!(
        o,
        "  modelled: {}",
        m.modelled
            .iter()
            .map(|(node, model)| format!("{node} ({model})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        o,
        "  {} device(s) not modelled (registers read as zero), {} without registers",
        m.unmodelled.len(),
        m.without_registers.len()
    );
    for n in &m.notes {
        let _ = writeln!(o, "  {n}");
    }
    let overlaps = m.bus.overlaps();
    if !overlaps.is_empty() {
        let _ = writeln!(
            o,
            "  {} overlap(s) of unmodelled devices, e.g. {} inside {}",
            overlaps.len(),
            overlaps[0].0,
            overlaps[0].1
        );
    }
    o
}

pub fn dtb(args: &DtbArgs) -> Result<ExitCode> {
    let loaded = load(&args.board)?;
    print_warnings(&loaded);
    let patch = ChosenPatch {
        bootargs: args.bootargs.clone(),
        stdout_path: args.stdout_path.clone(),
        initrd: args
            .initrd_start
            .zip(args.initrd_size)
            .map(|(base, size)| Range { base, size }),
    };
    let blob = board::guest_dtb(&loaded.tree, &patch).map_err(|source| CliError::Board {
        path: args.board.dtb.display().to_string(),
        source,
    })?;
    std::fs::write(&args.output, blob).map_err(|source| CliError::Io {
        path: args.output.display().to_string(),
        source,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The guest's files (see [`crate::guest`]), with a note on stderr when the choice is
/// not the obvious one.
fn guest_files(args: &RunArgs) -> Result<(PathBuf, Option<PathBuf>)> {
    let mut lookup = crate::guest::Lookup::from_env();
    if let Some(dir) = &args.guest {
        lookup.guest_dir = Some(dir.clone());
    }
    let g = lookup
        .locate(args.kernel.as_deref(), args.initrd.as_deref())
        .map_err(|e| CliError::Guest(e.to_string()))?;
    if let Some(note) = &g.note {
        eprintln!("heapsoc: {note}");
    }
    Ok((g.kernel, g.initrd))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// The instruction budget of `test` when the user sets none.
const TEST_MAX_INSNS: u64 = 20_000_000_000;

/// `test`'s host-time limit under KVM (which counts no instructions) unless `--timeout`.
const KVM_TEST_TIMEOUT_SECS: f64 = 600.0;

/// The kernel command line for `args`: `--bootargs` (else the DT's, or for a plan
/// `panic=-1`), with `heapsoc.test=PLAN` when a plan is given or `default_plan` applies.
fn bootargs(args: &RunArgs, default_plan: Option<&str>) -> Option<String> {
    let plan = args.plan.as_deref();
    match (&args.bootargs, plan.or(default_plan)) {
        (Some(b), _) if plan.is_none() => Some(b.clone()),
        (Some(b), Some(p)) => Some(format!("{b} heapsoc.test={p}")),
        // The console's arguments are added by the VM (it knows which device it is).
        (None, Some(p)) => Some(format!("panic=-1 heapsoc.test={p}")),
        (b, None) => b.clone(),
    }
}

pub fn run(args: &RunArgs) -> Result<ExitCode> {
    let console = devices::console::Capture::new(true);
    let Booted {
        loaded,
        mut vm,
        mut injector,
        policies,
        ..
    } = boot(args, bootargs(args, None), &console)?;
    // An interactive guest (or one LAVA drives) waits for input on the host clock.
    vm.set_realtime(!args.skip_idle);
    let raw = RawTerminal::enter();
    let input = stdin_reader();
    let mut pending: Vec<u8> = Vec::new();
    let started = std::time::Instant::now();
    let mut seen = 0usize;
    let summary = vm.run_watched(
        args.max_insns.unwrap_or(u64::MAX),
        INTERACTIVE_CHUNK.min(watch_chunk(injector.waiting())),
        |vm| {
            // Output without a newline (a shell prompt) reaches the terminal or pipe now.
            console.flush_echo();
            if injector.waiting() {
                injector.poll(vm, &loaded.board, &console.text());
            }
            if let Some(stop) = watch(vm, &new_console(&console, &mut seen)) {
                return Some(stop);
            }
            for msg in input.try_iter() {
                match msg {
                    HostInput::Bytes(b) => pending.extend(b),
                    HostInput::Quit => {
                        return Some(vmm::vm::Stop::Aborted(
                            "ended by the user (Ctrl-A x)".to_string(),
                        ))
                    }
                }
            }
            if let Some(uart) = &vm.machine().console {
                let mut uart = uart.borrow_mut();
                if uart.accepting_input() {
                    let taken = uart.receive(&pending);
                    pending.drain(..taken);
                }
            }
            None
        },
    );
    drop(raw);
    print_summary(&summary, started.elapsed(), &vm.backend());
    if let Some(line) = translation_report(&vm) {
        eprintln!("heapsoc: {line}");
    }
    report_touched(&vm);
    let text = console.text();
    let (map, verdict) = placement(&loaded.board, &text, &vm, &[], &policies);
    eprint!("{}", ledger::report::text(&verdict));
    let (lines, inject_failures) = injector.consequences(&vm, &loaded.board, &map, &text);
    for l in lines {
        eprintln!("heapsoc: {l}");
    }
    for (_, f) in &inject_failures {
        eprintln!("heapsoc: {f}");
    }
    if let Some(path) = &args.report_json {
        write_file(path, serde_json::to_string_pretty(&verdict)?.as_bytes())?;
    }
    let clean = clean_end(&summary.stop, &loaded.board);
    // For a CI that reads the console (LAVA's monitor action): whatever ended the run, a
    // block of `heapsoc-verdict: CASE pass|fail` lines between begin and end.
    let word = |ok: bool| if ok { "pass" } else { "fail" };
    eprintln!("heapsoc-verdict: begin");
    eprintln!("heapsoc-verdict: power_off {}", word(clean));
    eprintln!("heapsoc-verdict: placement {}", word(verdict.passed));
    if !args.inject.is_empty() {
        eprintln!(
            "heapsoc-verdict: inject {}",
            word(inject_failures.is_empty())
        );
    }
    eprintln!("heapsoc-verdict: end");
    Ok(if clean && verdict.passed && inject_failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The `--heap-policy` arguments with their heaps as the board names them.
fn heap_policies(args: &RunArgs, board: &board::Board) -> Result<Vec<crate::heap_policy::Policy>> {
    args.heap_policy
        .iter()
        .map(|p| p.resolve(board).map_err(CliError::Usage))
        .collect()
}

/// The KCIDB ids of a `test` run: the flags', else fingerprints of what went in.
fn kcidb_ids(args: &TestArgs, guest: &GuestFiles, bootargs: &str) -> Result<crate::kcidb::Ids> {
    let origin = args.kcidb_origin.clone();
    let kernel = read(&guest.kernel)?;
    let initrd = guest.initrd.as_deref().map(read).transpose()?;
    let board = read(&args.run.board.dtb)?;
    let build_id = match &args.kcidb_build_id {
        Some(id) if id.starts_with(&format!("{origin}:")) => id.clone(),
        Some(id) => format!("{origin}:{id}"),
        None => format!(
            "{origin}:kernel-{}",
            crate::kcidb::fingerprint([&kernel[..]])
        ),
    };
    let memory = format!("{:?}", args.run.board.memory);
    let run_id = args.kcidb_run_id.clone().unwrap_or_else(|| {
        crate::kcidb::fingerprint([
            &kernel[..],
            initrd.as_deref().unwrap_or_default(),
            &board[..],
            memory.as_bytes(),
            bootargs.as_bytes(),
        ])
    });
    Ok(crate::kcidb::Ids {
        origin,
        build_id,
        run_id,
    })
}

/// The guest a run booted.
struct GuestFiles {
    kernel: PathBuf,
    initrd: Option<PathBuf>,
}

/// Reads the board and the guest, builds the machine and loads the guest; lists what the
/// machine does not model.
fn boot(
    args: &RunArgs,
    bootargs: Option<String>,
    console: &devices::console::Capture,
) -> Result<Booted> {
    let loaded = load(&args.board)?;
    print_warnings(&loaded);
    // What the board alone can refute, before the guest is read and the machine built.
    let injector =
        crate::inject::Injector::new(&args.inject, &loaded.board).map_err(CliError::Usage)?;
    let policies = heap_policies(args, &loaded.board)?;
    let (kernel_path, initrd_path) = guest_files(args)?;
    let kernel = read(&kernel_path)?;
    let initrd = initrd_path.as_deref().map(read).transpose()?;
    let vm = vmm::vm::Vm::boot(
        &loaded.board,
        &loaded.tree,
        (&kernel_path.display().to_string(), &kernel),
        initrd.as_deref(),
        Box::new(console.clone()),
        vmm::vm::VmConfig {
            bootargs,
            profile: a64::CpuProfile::default(),
            gpu_mode: args.gpu_mode,
            smp: args.smp.map(usize::from),
            accel: args.accel,
        },
    )?;
    for n in vm.accel_notes() {
        eprintln!("heapsoc: note: {n}");
    }
    if let vmm::vm::Backend::Kvm { .. } = vm.backend() {
        if let Some(spec) = injector.by_count() {
            return Err(CliError::Usage(format!(
                "--inject {spec}: KVM counts no instructions, so an injection cannot wait for a count; give an event, or run on the interpreter (--accel interp)"
            )));
        }
        if args.max_insns.is_some() {
            return Err(CliError::Usage(
                "--max-insns: KVM counts no instructions; run on the interpreter (--accel interp) for an instruction budget".to_string(),
            ));
        }
    }
    eprintln!("heapsoc: CPU backend: {}", vm.backend());
    report_unmodelled(&vm);
    let c = vm.console();
    if c.node.is_empty() {
        eprintln!("heapsoc: warning: the guest has no console: {}", c.why);
    } else {
        eprintln!("heapsoc: console: {}", c.why);
    }
    Ok(Booted {
        loaded,
        vm,
        guest: GuestFiles {
            kernel: kernel_path,
            initrd: initrd_path,
        },
        injector,
        policies,
    })
}

/// A machine ready to run, with what the run needs besides it.
struct Booted {
    loaded: Loaded,
    vm: vmm::vm::Vm,
    guest: GuestFiles,
    injector: crate::inject::Injector,
    policies: Vec<crate::heap_policy::Policy>,
}

fn report_unmodelled(vm: &vmm::vm::Vm) {
    for n in &vm.machine().notes {
        eprintln!("heapsoc: {n}");
    }
    let unmodelled = &vm.machine().unmodelled;
    if unmodelled.len() <= 8 {
        for u in unmodelled {
            eprintln!(
                "heapsoc: {} ({}) is not modelled: its registers read as zero",
                u.node, u.compatible
            );
        }
    } else {
        eprintln!(
            "heapsoc: {} devices of the DT are not modelled: their registers read as zero (heapsoc inspect lists them; the run says which the guest touched)",
            unmodelled.len()
        );
    }
}

/// The unmodelled devices the guest touched, most accesses first.
fn report_touched(vm: &vmm::vm::Vm) {
    let mut touched: Vec<(&str, u64, u64)> = vm
        .machine()
        .unmodelled
        .iter()
        .map(|u| {
            (
                u.node.as_str(),
                u.accesses.reads.get(),
                u.accesses.writes.get(),
            )
        })
        .filter(|(_, r, w)| r + w > 0)
        .collect();
    if touched.is_empty() {
        return;
    }
    touched.sort_by_key(|&(n, r, w)| (std::cmp::Reverse(r + w), n));
    let shown: Vec<String> = touched
        .iter()
        .take(8)
        .map(|(n, r, w)| format!("{n} ({r} reads, {w} writes)"))
        .collect();
    eprintln!(
        "heapsoc: the guest touched {} unmodelled device(s): {}{}",
        touched.len(),
        shown.join(", "),
        if touched.len() > 8 { ", ..." } else { "" }
    );
}

/// What the translator did, in a line (when it ran).
fn translation_report(vm: &vmm::vm::Vm) -> Option<String> {
    let t = vm.translation_stats()?;
    Some(format!(
        "translator: {} blocks of {} ops ({:.0}% with generated code), {} KiB of host code ({} KiB in use), {:.1} ms translating, {} block runs, {} dropped for changed code, {} flushes",
        t.translations,
        t.ops,
        t.native_ops as f64 * 100.0 / t.ops.max(1) as f64,
        t.code_bytes / 1024,
        t.code_in_use / 1024,
        t.translate_ns as f64 / 1e6,
        t.entries,
        t.invalidated,
        t.flushes
    ))
}

/// How much ran, in a phrase: instructions under the interpreter; KVM counts none.
fn work_done(summary: &vmm::vm::RunSummary, secs: f64, backend: &vmm::vm::Backend) -> String {
    match backend {
        vmm::vm::Backend::Interpreter { .. } => format!(
            "{} guest instructions in {secs:.2} s ({:.0} MIPS)",
            summary.insns,
            summary.insns as f64 / secs / 1e6
        ),
        vmm::vm::Backend::Kvm { vcpus } => format!("{secs:.2} s under KVM ({vcpus} vCPUs)"),
    }
}

fn print_summary(
    summary: &vmm::vm::RunSummary,
    wall: std::time::Duration,
    backend: &vmm::vm::Backend,
) {
    let secs = wall.as_secs_f64().max(1e-9);
    eprintln!(
        "heapsoc: {} after {}; guest counter {}; spurious IRQs {}",
        stop_word(&summary.stop),
        work_done(summary, secs, backend),
        summary.counter,
        summary.spurious_acks
    );
    if summary.stop != vmm::vm::Stop::PowerOff {
        eprintln!("heapsoc: {}", summary.stop);
    }
    for (group, n) in summary.undefined.iter().filter(|(_, n)| *n > 0) {
        eprintln!("heapsoc: {n} UNDEFINED instruction(s) in group {group}");
    }
    print_unsupported_calls(summary);
    for u in summary.unmapped.iter().take(10) {
        eprintln!(
            "heapsoc: unmapped MMIO {} of {} bytes at 0x{:x} (external abort)",
            if u.write { "write" } else { "read" },
            u.size,
            u.addr
        );
    }
}

pub fn test(args: &TestArgs) -> Result<ExitCode> {
    let plan = args.run.plan.as_deref().unwrap_or("all");
    if args.kcidb.is_some() && !crate::kcidb::valid_origin(&args.kcidb_origin) {
        return Err(CliError::Usage(format!(
            "--kcidb-origin {:?}: KCIDB origins are lowercase letters, digits and _",
            args.kcidb_origin
        )));
    }
    let console = devices::console::Capture::new(!args.quiet);
    let boot_args = bootargs(&args.run, Some(plan));
    let Booted {
        loaded,
        mut vm,
        guest,
        mut injector,
        policies,
    } = boot(&args.run, boot_args.clone(), &console)?;
    vm.set_realtime(args.run.realtime);
    let board = &loaded.board;
    vm.keep_frames(args.screenshot.is_some());
    if args.no_dma_ledger {
        *vm.machine().dma.ledger.borrow_mut() = ledger::Ledger::disabled();
    }
    let started = std::time::Instant::now();
    let started_at = std::time::SystemTime::now();
    let mut seen = 0usize;
    let max_insns = args.run.max_insns.unwrap_or(TEST_MAX_INSNS);
    let timeout = args.timeout.or(match vm.backend() {
        vmm::vm::Backend::Kvm { .. } => Some(KVM_TEST_TIMEOUT_SECS),
        vmm::vm::Backend::Interpreter { .. } => None,
    });
    let summary = vm.run_watched(max_insns, watch_chunk(injector.waiting()), |vm| {
        console.flush_echo();
        if injector.waiting() {
            injector.poll(vm, board, &console.text());
        }
        if let Some(t) = timeout.filter(|&t| started.elapsed().as_secs_f64() >= t) {
            return Some(vmm::vm::Stop::Aborted(format!(
                "timed out after {t} s of host time (--timeout)"
            )));
        }
        watch(vm, &new_console(&console, &mut seen))
    });
    let wall = started.elapsed();
    let text = console.text();
    for line in text
        .lines()
        .filter(|l| l.starts_with("EDAC MC") && (l.contains(" CE ") || l.contains(" UE ")))
    {
        eprintln!("heapsoc: the guest's EDAC driver reported: {}", line.trim());
    }
    let report = tap::parse(&text);
    let (map, placement) = placement(board, &text, &vm, &args.expect, &policies);
    eprintln!(
        "heapsoc: {} after {}, guest counter {}, spurious IRQs {}",
        stop_word(&summary.stop),
        match vm.backend() {
            vmm::vm::Backend::Interpreter { .. } => format!(
                "{} instructions ({:.2} s wall, {:.1} MIPS)",
                summary.insns,
                wall.as_secs_f64(),
                summary.insns as f64 / wall.as_secs_f64().max(1e-9) / 1e6
            ),
            vmm::vm::Backend::Kvm { vcpus } =>
                format!("{:.2} s wall under KVM ({vcpus} vCPUs)", wall.as_secs_f64()),
        },
        summary.counter,
        summary.spurious_acks
    );
    if let Some(line) = translation_report(&vm) {
        eprintln!("heapsoc: {line}");
    }
    print_unsupported_calls(&summary);
    report_touched(&vm);
    if summary.stop != vmm::vm::Stop::PowerOff {
        eprintln!("heapsoc: {}", summary.stop);
    }
    eprint!("{}", ledger::report::text(&placement));
    if args.no_dma_ledger {
        eprintln!(
            "heapsoc: DMA recording was off: {} device accesses not recorded",
            vm.machine().dma.ledger.borrow().unrecorded()
        );
    }
    let mut run_failures = failures_of(&summary, &text, board, &vm.where_cpus_are());
    if let Some(problem) = compare_heaps(board, &vm, &text) {
        run_failures.push(("heaps".to_string(), problem));
    }
    if let Some(problem) = compare_cpus(&vm, &text) {
        run_failures.push(("cpus".to_string(), problem));
    }
    let (lines, inject_failures) = injector.consequences(&vm, board, &map, &text);
    for l in lines {
        eprintln!("heapsoc: {l}");
    }
    run_failures.extend(inject_failures);
    for (name, message) in &run_failures {
        eprintln!("heapsoc: {name}: {message}");
    }
    if let Some(path) = &args.screenshot {
        match vm.last_frame() {
            Some((mode, rgb)) => write_file(path, &png_rgb(mode.width, mode.height, rgb)?)?,
            None => run_failures.push((
                "screenshot".to_string(),
                "the display never showed a frame".to_string(),
            )),
        }
    }
    if let Some(path) = &args.junit {
        write_file(path, tap::junit::to_xml(&report, &run_failures).as_bytes())?;
    }
    if let Some(path) = &args.svg {
        let svg = ledger::svg::render(&map, &vm.machine().dma.ledger.borrow());
        write_file(path, svg.as_bytes())?;
    }
    if let Some(path) = &args.run.report_json {
        write_file(path, serde_json::to_string_pretty(&placement)?.as_bytes())?;
    }
    if let Some(path) = &args.kcidb {
        let ids = kcidb_ids(args, &guest, boot_args.as_deref().unwrap_or(""))?;
        let doc = crate::kcidb::document(
            &crate::kcidb::Run {
                board,
                plan,
                report: &report,
                placement: &placement,
                run_failures: &run_failures,
                started: started_at,
                duration: wall,
                backend: &vm.backend(),
            },
            &ids,
        );
        write_file(path, serde_json::to_string_pretty(&doc)?.as_bytes())?;
    }
    for failed in report.failures() {
        eprintln!("heapsoc: not ok: {failed}");
    }
    let t = report.suite.totals();
    eprintln!(
        "heapsoc: TAP {} passed, {} failed, {} skipped; guest exit {:?}",
        t.pass, t.fail, t.skip, report.exit_status
    );
    // Plan `none` runs no test: a clean exit is the whole result.
    let tests_ok = report.success()
        || (plan == "none" && report.exit_status == Some(0) && report.suite.passed());
    Ok(if tests_ok && placement.passed && run_failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    std::fs::write(path, data).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// 8-bit RGB rows as a PNG file.
fn png_rgb(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header()?;
    w.write_image_data(rgb)?;
    w.finish()?;
    Ok(out)
}

/// The memory map as this boot laid it out (dynamic pools placed from the kernel's log) and
/// the verdict on the DMA ledger.
fn placement(
    board: &board::Board,
    console: &str,
    vm: &vmm::vm::Vm,
    rules: &[ledger::Rule],
    policies: &[crate::heap_policy::Policy],
) -> (ledger::MemoryMap, ledger::Placement) {
    let mut map = ledger::MemoryMap::new(board);
    for line in console.lines() {
        map.learn_from_console(line);
    }
    let ledger = vm.machine().dma.ledger.borrow();
    let mut verdict = ledger::report::build(board, &map, &ledger, rules);
    // The guest's heap-display test says which heap each buffer it imported into
    // virtio-gpu came from; the GPU met the imports as guest blobs in the same order.
    let imports = crate::buffers::guest_lines(console, "heapsoc-display: ", "virtio_gpu", true);
    if let Some(gpu) = board.devices.iter().find(|d| {
        d.status == board::Status::Okay && d.compatible.iter().any(|c| c == "virtio,mmio")
    }) {
        verdict.heaps =
            ledger::report::attribute_to_heaps(&map, &ledger, &gpu.node, "blob resource", &imports);
    }
    if !policies.is_empty() {
        let known = crate::buffers::buffers(board, &ledger, console);
        let (findings, results) = crate::heap_policy::check(policies, &known);
        verdict.passed &= findings.is_empty();
        verdict.findings.extend(findings);
        verdict.policies = results;
    }
    drop(ledger);
    (map, verdict)
}

/// Guest instructions between looks at host console input in `heapsoc run`.
const INTERACTIVE_CHUNK: u64 = 2_000_000;

/// What the host's console gives the guest.
enum HostInput {
    Bytes(Vec<u8>),
    /// The user pressed the escape sequence (Ctrl-A x).
    Quit,
}

const CTRL_A: u8 = 0x01;

/// Host stdin, read on a thread of its own, for the guest's console. Ctrl-A x ends the run
/// (the terminal is raw, so Ctrl-C goes to the guest); Ctrl-A Ctrl-A sends one Ctrl-A.
fn stdin_reader() -> std::sync::mpsc::Receiver<HostInput> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 256];
        let mut stdin = std::io::stdin();
        let mut escape = false;
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut out = Vec::with_capacity(n);
            for &b in &buf[..n] {
                match (escape, b) {
                    (false, CTRL_A) => escape = true,
                    (false, b) => out.push(b),
                    (true, b'x' | b'X') => {
                        let _ = tx.send(HostInput::Bytes(out));
                        let _ = tx.send(HostInput::Quit);
                        return;
                    }
                    (true, b) => {
                        escape = false;
                        out.push(b);
                    }
                }
            }
            if tx.send(HostInput::Bytes(out)).is_err() {
                break;
            }
        }
    });
    rx
}

/// The host terminal (fd 0) for raw mode.
struct HostTty;

// SAFETY: fd 0 is the process's stdin; `RawTerminal::enter` uses it only after checking it is
// a terminal, and it stays open for the life of the process.
unsafe impl vmm_sys_util::terminal::Terminal for HostTty {
    fn tty_fd(&self) -> std::os::fd::RawFd {
        0
    }
}

/// Raw mode on the host terminal while the guest owns the console, restored on drop.
struct RawTerminal;

impl RawTerminal {
    fn enter() -> Option<RawTerminal> {
        use std::io::IsTerminal;
        use vmm_sys_util::terminal::Terminal;
        if !std::io::stdin().is_terminal() {
            return None;
        }
        HostTty.set_raw_mode().ok()?;
        eprintln!("heapsoc: the terminal is the guest's console; Ctrl-A x ends the run");
        Some(RawTerminal)
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        use vmm_sys_util::terminal::Terminal;
        let _ = HostTty.set_canon_mode();
    }
}

/// Guest instructions between checks of the console and the UNDEFINED counters.
const WATCH_CHUNK: u64 = 20_000_000;
/// The same while memory errors wait to be injected: they go in within this many
/// instructions of "Run /init", long before a short plan powers off (a guest running /init
/// `plan none` lives a few million more).
const INJECT_CHUNK: u64 = 200_000;

/// How often the runner looks at the guest.
fn watch_chunk(injecting: bool) -> u64 {
    if !injecting {
        WATCH_CHUNK
    } else {
        INJECT_CHUNK
    }
}
/// More UNDEFINED instructions than this is a storm: something the guest needs is missing.
const UNDEFINED_STORM: u64 = 100_000;

/// The console output since the last look, with the tail of what was already seen (a
/// line may straddle two looks).
fn new_console(console: &devices::console::Capture, seen: &mut usize) -> String {
    let bytes = console.bytes();
    let new =
        String::from_utf8_lossy(&bytes[seen.saturating_sub(128).min(bytes.len())..]).into_owned();
    *seen = bytes.len();
    new
}

/// Ends a run that is over: the kernel powered down without firmware to do it (boards
/// without PSCI print "reboot: Power down" and halt), or cannot succeed any more: a kernel
/// panic on the console, an UNDEFINED-instruction storm.
fn watch(vm: &vmm::vm::Vm, new_console: &str) -> Option<vmm::vm::Stop> {
    use vmm::vm::Stop;
    let power_down = new_console.find("reboot: Power down");
    let panic = new_console.find("Kernel panic - not syncing");
    match (power_down, panic) {
        (Some(p), q) if q.is_none_or(|q| p < q) => return Some(Stop::PowerOff),
        (_, Some(q)) => {
            let line = new_console[q..].lines().next().unwrap_or_default();
            return Some(Stop::Aborted(format!("kernel panic: {}", line.trim())));
        }
        _ => {}
    }
    let undefined = vm.undefined_total();
    (undefined > UNDEFINED_STORM).then(|| {
        Stop::Aborted(format!(
            "UNDEFINED instruction storm: {undefined} unimplemented instructions executed"
        ))
    })
}

/// Whether the run ended as a guest that is done ends: PSCI SYSTEM_OFF, or on a board
/// without PSCI, the kernel's power-down message or its final halt.
fn clean_end(stop: &vmm::vm::Stop, board: &board::Board) -> bool {
    match stop {
        vmm::vm::Stop::PowerOff => true,
        vmm::vm::Stop::Halted { .. } => board.psci.is_none(),
        _ => false,
    }
}

fn print_unsupported_calls(summary: &vmm::vm::RunSummary) {
    if !summary.unsupported_calls.is_empty() {
        let calls: Vec<String> = summary
            .unsupported_calls
            .iter()
            .map(|(f, n)| format!("0x{f:x} x{n}"))
            .collect();
        eprintln!(
            "heapsoc: firmware calls answered NOT_SUPPORTED: {}",
            calls.join(", ")
        );
    }
}

/// The heaps the guest's kernel made (its `heapsoc-heaps:` line) against those predicted
/// from the DT for the command line and layout it booted with; the difference, if any.
fn compare_heaps(board: &board::Board, vm: &vmm::vm::Vm, console: &str) -> Option<String> {
    let line = console
        .lines()
        .find_map(|l| l.split("heapsoc-heaps:").nth(1))?;
    let mut actual: Vec<&str> = line.split_whitespace().collect();
    actual.sort_unstable();
    let predicted_heaps = board::heaps::predict(
        &board.banks,
        &board.reserved,
        Some(vm.bootargs()),
        &vm.occupied(),
    );
    let mut predicted: Vec<&str> = predicted_heaps.iter().map(|h| h.name.as_str()).collect();
    predicted.sort_unstable();
    // A no-map carveout the guest's kernel exports as a heap of its name: no Linux 7.3
    // binding does that, a patched kernel's prototype does (its buffers count as DMA into
    // that region, see ledger::map).
    let exported: Vec<&str> = actual
        .iter()
        .copied()
        .filter(|h| {
            !predicted.contains(h)
                && board
                    .reserved
                    .iter()
                    .any(|r| r.name == *h && r.kind == board::ReservedKind::Carveout)
        })
        .collect();
    if !exported.is_empty() {
        eprintln!(
            "heapsoc: heaps: the guest's kernel also exports the no-map region(s) {} as heap(s): not a Linux 7.3 binding, its patches' (DMA there counts as that heap's)",
            exported.join(", ")
        );
        actual.retain(|h| !exported.contains(h));
    }
    if actual == predicted {
        eprintln!(
            "heapsoc: heaps: the guest has the {} heaps predicted from the DT ({})",
            actual.len(),
            actual.join(", ")
        );
        return None;
    }
    let only = |a: &[&str], b: &[&str]| -> String {
        let v: Vec<&str> = a.iter().filter(|x| !b.contains(x)).copied().collect();
        if v.is_empty() {
            "none".into()
        } else {
            v.join(", ")
        }
    };
    Some(format!(
        "the kernel's heaps differ from the DT's prediction: only in the guest: {}; only predicted: {}",
        only(&actual, &predicted),
        only(&predicted, &actual)
    ))
}

/// The number of CPUs in a Linux CPU list (`0-3,5`).
fn cpu_list_len(list: &str) -> Option<usize> {
    let mut n = 0;
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => b.parse::<usize>().ok()?.checked_sub(a.parse().ok()?)? + 1,
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
    }
    Some(n)
}

/// The CPUs the guest's kernel brought up (its `heapsoc-cpus:` line) against the PEs the
/// machine could start (the DT's CPUs, at most `--smp`); the shortfall, if any.
fn compare_cpus(vm: &vmm::vm::Vm, console: &str) -> Option<String> {
    let list = console
        .lines()
        .find_map(|l| l.split("heapsoc-cpus:").nth(1))?
        .trim()
        .to_string();
    let online = cpu_list_len(&list)?;
    let states = vm.pe_states();
    let startable = states
        .iter()
        .filter(|(_, s)| *s != vmm::vm::PeState::Excluded)
        .count();
    eprintln!(
        "heapsoc: CPUs: {online} online ({list}) of {startable} started{}",
        if startable < states.len() {
            format!(" (--smp; the DT declares {})", states.len())
        } else {
            String::new()
        }
    );
    (online < startable).then(|| {
        format!(
            "the kernel brought up {online} CPU(s) ({list}) of the {startable} the machine starts"
        )
    })
}

/// How the summary line starts: the way the guest stopped, in a word.
fn stop_word(stop: &vmm::vm::Stop) -> &'static str {
    match stop {
        vmm::vm::Stop::PowerOff => "PowerOff",
        vmm::vm::Stop::Reset => "Reset",
        _ => "stopped",
    }
}

/// Problems of the run itself (not of a test point): how it stopped, with the last console
/// lines when it did not power off.
fn failures_of(
    summary: &vmm::vm::RunSummary,
    console: &str,
    board: &board::Board,
    cpus: &[String],
) -> Vec<(String, String)> {
    if clean_end(&summary.stop, board) {
        return Vec::new();
    }
    let lines: Vec<&str> = console.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    vec![(
        "run".to_string(),
        format!(
            "the guest did not power off: {}; the CPUs: {}; last console lines:\n{tail}",
            summary.stop,
            cpus.join("; ")
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn run_args(argv: &[&str]) -> RunArgs {
        let cli = crate::cli::Cli::try_parse_from(argv).expect("parses");
        match cli.command {
            Some(crate::cli::Command::Run(a)) => a,
            Some(crate::cli::Command::Test(t)) => t.run,
            _ => cli.run,
        }
    }

    #[test]
    fn the_plan_goes_on_the_kernel_command_line() {
        // run: the DT's own command line unless a plan or --bootargs is given
        assert_eq!(bootargs(&run_args(&["heapsoc", "run"]), None), None);
        assert_eq!(
            bootargs(&run_args(&["heapsoc", "run", "--plan", "shell"]), None).as_deref(),
            Some("panic=-1 heapsoc.test=shell")
        );
        assert_eq!(
            bootargs(&run_args(&["heapsoc", "--bootargs", "quiet"]), None).as_deref(),
            Some("quiet")
        );
        assert_eq!(
            bootargs(
                &run_args(&["heapsoc", "run", "--bootargs", "quiet", "--plan", "none"]),
                None
            )
            .as_deref(),
            Some("quiet heapsoc.test=none")
        );
        // test: plan all unless told
        let t = run_args(&["heapsoc", "test"]);
        assert_eq!(
            bootargs(&t, Some("all")).as_deref(),
            Some("panic=-1 heapsoc.test=all")
        );
        // --bootargs without --plan is taken as it is (the user's whole command line)
        let t = run_args(&["heapsoc", "test", "--bootargs", "x heapsoc.test=display"]);
        assert_eq!(
            bootargs(&t, Some("all")).as_deref(),
            Some("x heapsoc.test=display")
        );
    }

    #[test]
    fn realtime_and_skip_idle_exclude_each_other() {
        assert!(
            crate::cli::Cli::try_parse_from(["heapsoc", "run", "--realtime", "--skip-idle"])
                .is_err()
        );
        let a = run_args(&["heapsoc", "run"]);
        assert_eq!((a.realtime, a.skip_idle, a.max_insns), (false, false, None));
    }
}
