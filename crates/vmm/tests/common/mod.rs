//! Shared by the run-loop tests: the repository root, the reference boards, and
//! hand-written Images assembled with the cross binutils.

#![allow(dead_code)] // each test crate uses its own part

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A board of device-trees/, loaded.
pub fn board(name: &str) -> board::Loaded {
    board::load(
        &repo().join("device-trees").join(name),
        &board::SourceOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Assembles tests/guest/NAME.S into a flat Image with the cross binutils
/// (tests/host-deps.sh installs them).
pub fn image(name: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let guest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guest");
    let src = guest.join(format!("{name}.S"));
    let (o, elf, bin) = (
        dir.path().join("k.o"),
        dir.path().join("k"),
        dir.path().join("Image"),
    );
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap_or_else(|e| {
            panic!("{cmd:?}: {e} (the cross binutils come from tests/host-deps.sh)")
        });
        assert!(
            out.status.success(),
            "{cmd:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("aarch64-linux-gnu-as")
        .arg("-I")
        .arg(&guest)
        .arg(&src)
        .arg("-o")
        .arg(&o));
    run(Command::new("aarch64-linux-gnu-ld")
        .arg("-Ttext=0")
        .arg("-o")
        .arg(&elf)
        .arg(&o));
    run(Command::new("aarch64-linux-gnu-objcopy")
        .args(["-O", "binary"])
        .arg(&elf)
        .arg(&bin));
    std::fs::read(bin).expect("Image")
}
