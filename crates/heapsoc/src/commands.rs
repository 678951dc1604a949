//! The subcommands.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use board::{ChosenPatch, Loaded, Range, SourceOptions};

use crate::cli::{BoardArgs, CppMode, DtbArgs, InspectArgs, RunArgs};

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
    NotYet(String),
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
    };
    let loaded = board::load(&args.dtb, &opts).map_err(|source| CliError::Board {
        path: args.dtb.display().to_string(),
        source,
    })?;
    for w in &loaded.compiler_warnings {
        eprintln!("heapsoc: dtc: {w}");
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
    if args.json {
        println!("{}", serde_json::to_string_pretty(&loaded.board)?);
        print_warnings(&loaded);
    } else {
        print!("{}", board::report::text(&loaded.board));
    }
    Ok(ExitCode::SUCCESS)
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

/// The default guest's files: `--kernel`/`--initrd` if given, else the guest-image cache
/// as `guest-images/build.sh --print-dir` names it for the current inputs.
fn guest_files(args: &RunArgs) -> Result<(PathBuf, Option<PathBuf>)> {
    if let Some(k) = &args.kernel {
        return Ok((k.clone(), args.initrd.clone()));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-images/build.sh");
    let out = Command::new(&script).arg("--print-dir").output();
    let dir = match out {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        _ => {
            return Err(CliError::NotYet(format!(
                "the default guest is not built for the current inputs: run {} (about 5 minutes the first time), or pass --kernel/--initrd",
                script.display()
            )))
        }
    };
    let initrd = args
        .initrd
        .clone()
        .unwrap_or_else(|| dir.join("initramfs.cpio.gz"));
    Ok((dir.join("Image"), Some(initrd)))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })
}

pub fn run(args: &RunArgs) -> Result<ExitCode> {
    let loaded = load(&args.board)?;
    print_warnings(&loaded);
    let board = &loaded.board;
    let machine = vmm::machine::build(board, Box::new(std::io::stdout()), 62_500_000)?;
    for u in &machine.unmodelled {
        eprintln!(
            "heapsoc: {} ({}) is not modelled: its registers read as zero",
            u.node, u.compatible
        );
    }
    let (kernel_path, initrd_path) = guest_files(args)?;
    let kernel = read(&kernel_path)?;
    let header = vmm::loader::ImageHeader::parse(&kernel_path.display().to_string(), &kernel)?;
    let initrd = initrd_path.as_deref().map(read).transpose()?;
    // The DTB grows by the /chosen properties; plan with room for them.
    let dtb_estimate = board::guest_dtb(&loaded.tree, &board::ChosenPatch::default())
        .map_err(|source| CliError::Board {
            path: args.board.dtb.display().to_string(),
            source,
        })?
        .len() as u64
        + 4096;
    let layout = vmm::loader::plan(
        board,
        &header,
        dtb_estimate,
        initrd.as_ref().map(|i| i.len() as u64),
    )?;
    eprintln!(
        "heapsoc: kernel {} at {}, DTB at {}, initramfs at {}",
        kernel_path.display(),
        layout.kernel,
        layout.dtb,
        layout.initrd.map_or("-".to_string(), |r| r.to_string())
    );
    drop(machine);
    Err(CliError::NotYet(
        "cannot boot yet: the machine is built and the guest laid out, but the AArch64 CPU \
         backend is not wired in (issues 4-6); `heapsoc inspect` shows the machine this board describes"
            .into(),
    ))
}
