//! End to end in user mode: C programs built with the cross gcc against
//! static glibc (whose string routines use AdvSIMD) must print the same and
//! exit the same under our runner as under qemu-aarch64.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{run_ours_args, run_qemu_args, temp_dir};

fn compile(src: &str) -> PathBuf {
    common::require_tools();
    let ok = Command::new("aarch64-linux-gnu-gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "aarch64-linux-gnu-gcc is missing: install the Debian packages gcc-aarch64-linux-gnu and libc6-dev-arm64-cross"
    );
    let dir = temp_dir("glibc");
    let exe = dir.join("prog");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/guest")
        .join(src);
    let out = Command::new("aarch64-linux-gnu-gcc")
        .args(["-O2", "-static", "-o"])
        .arg(&exe)
        .arg(&src)
        .arg("-lm")
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "gcc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

#[test]
fn static_glibc_string_routines_match_qemu() {
    let exe = compile("strings.c");
    let q = run_qemu_args(&exe, &["x"]);
    let o = run_ours_args(
        &exe,
        &[exe.to_str().expect("utf-8 path"), "x"],
        2_000_000_000,
    );
    assert_eq!(
        q.status,
        "exit 7",
        "qemu: {}",
        String::from_utf8_lossy(&q.stdout)
    );
    assert_eq!(o.status, q.status);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&q.stdout)
    );
}

#[test]
fn static_glibc_printf_strtod_and_libm_match_qemu() {
    let exe = compile("fpmath.c");
    let q = run_qemu_args(&exe, &[]);
    let o = run_ours_args(&exe, &[exe.to_str().expect("utf-8 path")], 4_000_000_000);
    assert_eq!(
        q.status,
        "exit 0",
        "qemu: {}",
        String::from_utf8_lossy(&q.stdout)
    );
    assert_eq!(o.status, q.status);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&q.stdout)
    );
    assert!(o.stdout == q.stdout, "outputs differ byte-wise");
}
