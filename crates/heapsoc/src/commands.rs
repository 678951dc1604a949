//! The subcommands.

use std::process::ExitCode;

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
    Memory(#[from] vmm::MemoryError),
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

pub fn run(args: &RunArgs) -> Result<ExitCode> {
    let loaded = load(&args.board)?;
    print_warnings(&loaded);
    let memory = vmm::guest_memory(&loaded.board)?;
    let ram: u64 = loaded.board.banks.iter().map(|b| b.range.size).sum();
    eprintln!(
        "heapsoc: {}: {} RAM bank(s), {} in all; {} reserved region(s); {} device node(s); guest RAM mapped ({} region(s))",
        args.board.dtb.display(),
        loaded.board.banks.len(),
        board::report::size(ram),
        loaded.board.reserved.len(),
        loaded.board.devices.len(),
        vm_memory_regions(&memory),
    );
    Err(CliError::NotYet(
        "cannot boot yet: the AArch64 CPU backend is still being built (issues 4-6); \
         `heapsoc inspect` shows the machine this board describes"
            .into(),
    ))
}

fn vm_memory_regions(memory: &vmm::GuestMemory) -> usize {
    vmm::region_count(memory)
}
