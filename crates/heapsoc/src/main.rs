//! `heapsoc`: the command-line front end; the work is in the library crates.

mod buffers;
mod cli;
mod commands;
mod guest;
mod heap_policy;
mod inject;
mod kcidb;
mod validate;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        Some(cli::Command::Run(args)) => commands::run(&args),
        None => commands::run(&cli.run),
        Some(cli::Command::Test(args)) => commands::test(&args),
        Some(cli::Command::Inspect(args)) => commands::inspect(&args),
        Some(cli::Command::Dtb(args)) => commands::dtb(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("heapsoc: error: {e}");
            ExitCode::FAILURE
        }
    }
}
