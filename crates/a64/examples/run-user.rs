//! Run a static AArch64 Linux program under the user-mode runner:
//! `cargo run -p a64 --release --example run-user -- PROGRAM`.

use a64::user::{UserExit, UserProcess};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first().cloned() else {
        eprintln!("usage: run-user PROGRAM");
        std::process::exit(2);
    };
    let elf = match std::fs::read(&path) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut p = match UserProcess::load_with_args(&elf, &argv) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let t = std::time::Instant::now();
    let r = p.run(50_000_000_000);
    let secs = t.elapsed().as_secs_f64();
    print!("{}", String::from_utf8_lossy(&p.stdout));
    eprint!("{}", String::from_utf8_lossy(&p.stderr));
    let n = p.cpu.core.icount;
    eprintln!(
        "[{r:?} after {n} instructions, {:.1} MIPS; ENOSYS syscalls {:?}; undefined {:?}]",
        n as f64 / secs / 1e6,
        p.unknown_syscalls,
        p.cpu
            .undefined_words()
            .iter()
            .map(|(w, c)| format!("{w:#010x}x{c}"))
            .collect::<Vec<_>>()
    );
    std::process::exit(match r {
        UserExit::Exited(c) => c,
        _ => 128,
    });
}
