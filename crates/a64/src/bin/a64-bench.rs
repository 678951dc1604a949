//! Interpreter benchmark: runs fixed integer workloads as static AArch64
//! programs under our user-mode runner (interpreter alone, and with the translator where the
//! host has one) and under qemu-aarch64, and prints guest MIPS and the wall-time ratios.
//!
//! `cargo run -p a64 --release --bin a64-bench` (needs binutils-aarch64-linux-gnu;
//! qemu-user for the reference column).

use std::process::Command;
use std::time::Instant;

use a64::user::{UserExit, UserProcess};

/// Runs per measurement (the best is reported).
const RUNS: usize = 3;

const HEADER: &str = "    .text\n    .global _start\n_start:\n";
const FOOTER: &str = "    mov x0, #0\n    mov x8, #93\n    svc #0\nfail:\n    mov x0, #1\n    mov x8, #93\n    svc #0\n";

/// Byte compare over a 1 MiB buffer, 96 passes: the heap selftest's hot loop.
const BYTE_COMPARE: &str = "    mov x9, #96
outer:
    adrp x0, buf
    add x0, x0, :lo12:buf
    mov x1, #0
    mov w3, #0
    mov x4, #0x100000
loop:
    ldrb w2, [x0, x1]
    cmp w2, w3
    b.ne fail
    add x1, x1, #1
    cmp x1, x4
    b.ne loop
    subs x9, x9, #1
    b.ne outer
";

/// 16-byte copy loop between two 1 MiB buffers, 256 passes.
const MEMCPY: &str = "    mov x9, #256
outer:
    adrp x0, buf
    add x0, x0, :lo12:buf
    add x1, x0, #0x100000
    mov x2, #0x100000
loop:
    ldp x4, x5, [x1], #16
    stp x4, x5, [x0], #16
    subs x2, x2, #16
    b.ne loop
    subs x9, x9, #1
    b.ne outer
";

/// Data-dependent branches on a xorshift sequence.
const BRANCHY: &str = "    ldr x0, =40000000
    mov x1, #12345
    mov x2, #0
loop:
    eor x1, x1, x1, lsl #13
    eor x1, x1, x1, lsr #7
    eor x1, x1, x1, lsl #17
    tbz x1, #3, 1f
    add x2, x2, #1
1:  and x3, x1, #7
    cmp x3, #5
    b.hi 2f
    sub x2, x2, x3
2:  cbz x3, 3f
    add x2, x2, #2
3:  subs x0, x0, #1
    b.ne loop
";

fn build(name: &str, body: &str) -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("a64-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let s = dir.join(format!("{name}.s"));
    let o = dir.join(format!("{name}.o"));
    let exe = dir.join(name);
    let asm = format!(
        "{HEADER}{body}{FOOTER}    .ltorg\n    .bss\n    .balign 4096\nbuf:\n    .skip 0x200000\n"
    );
    std::fs::write(&s, asm).map_err(|e| e.to_string())?;
    let ok = |c: &mut Command| c.status().map(|s| s.success()).unwrap_or(false);
    if !ok(Command::new("aarch64-linux-gnu-as")
        .arg(&s)
        .arg("-o")
        .arg(&o))
    {
        return Err("aarch64-linux-gnu-as failed (install binutils-aarch64-linux-gnu)".into());
    }
    if !ok(Command::new("aarch64-linux-gnu-ld")
        .arg("-static")
        .arg("-o")
        .arg(&exe)
        .arg(&o))
    {
        return Err("aarch64-linux-gnu-ld failed".into());
    }
    Ok(exe)
}

fn main() {
    println!(
        "{:<14} {:>12} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8} {:>8}",
        "workload",
        "guest insns",
        "interp s",
        "MIPS",
        "transl s",
        "MIPS",
        "qemu s",
        "i/qemu",
        "t/qemu"
    );
    for (name, body) in [
        ("byte-compare", BYTE_COMPARE),
        ("memcpy", MEMCPY),
        ("branchy", BRANCHY),
    ] {
        let exe = match build(name, body) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("{name}: {e}");
                std::process::exit(2);
            }
        };
        let elf = std::fs::read(&exe).unwrap_or_default();
        // Best of three runs each: the machine may be busy with other builds.
        let ours_with = |threshold: Option<u16>| {
            let mut best = f64::MAX;
            let mut n = 0;
            for _ in 0..RUNS {
                let mut p = match UserProcess::load(&elf) {
                    Ok(p) => p,
                    Err(e) => {
                        eprintln!("{name}: {e}");
                        std::process::exit(2);
                    }
                };
                if !p.cpu.set_translation(threshold) {
                    return None;
                }
                let t = Instant::now();
                let r = p.run(u64::MAX);
                best = best.min(t.elapsed().as_secs_f64());
                if r != UserExit::Exited(0) {
                    eprintln!("{name}: unexpected end {r:?}");
                    std::process::exit(1);
                }
                n = p.cpu.core.icount;
            }
            Some((best, n))
        };
        let Some((ours, n)) = ours_with(None) else {
            std::process::exit(2);
        };
        let translated = ours_with(Some(a64::jit::TRANSLATE_AFTER));
        if let Some((_, tn)) = translated {
            if tn != n {
                eprintln!("{name}: the translator retired {tn} instructions, the interpreter {n}");
                std::process::exit(1);
            }
        }
        let mut qemu = f64::MAX;
        let mut qemu_ok = true;
        for _ in 0..RUNS {
            let t = Instant::now();
            let q = Command::new("qemu-aarch64")
                .args(["-cpu", "cortex-a53"])
                .arg(&exe)
                .status();
            qemu = qemu.min(t.elapsed().as_secs_f64());
            qemu_ok &= q.is_ok_and(|s| s.success());
        }
        let (t_s, t_mips) = match translated {
            Some((t, _)) => (format!("{t:>9.3}"), format!("{:>9.1}", n as f64 / t / 1e6)),
            None => (format!("{:>9}", "n/a"), format!("{:>9}", "-")),
        };
        let qemu_col = if qemu_ok {
            let t_ratio = translated.map_or("-".to_string(), |(t, _)| format!("{:.2}", t / qemu));
            format!("{qemu:>10.3} {:>8.2} {t_ratio:>8}", ours / qemu)
        } else {
            format!("{:>10} {:>8} {:>8}", "n/a", "-", "-")
        };
        println!(
            "{name:<14} {n:>12} {ours:>9.3} {:>9.1} {t_s} {t_mips} {qemu_col}",
            n as f64 / ours / 1e6
        );
    }
}
