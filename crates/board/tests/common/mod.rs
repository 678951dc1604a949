//! Helpers shared by the board tests: compile DTS text with the real dtc.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use board::{Board, BoardError, Loaded, SourceOptions};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Loads a board file relative to the repository root.
pub fn load_file(rel: &str) -> Result<Loaded, BoardError> {
    board::load(&repo().join(rel), &SourceOptions::default())
}

/// Compiles `dts` (written to a temp file) and builds the board.
pub fn load_dts(dts: &str) -> Result<Loaded, BoardError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("board.dts");
    std::fs::write(&path, dts).expect("write dts");
    board::load(&path, &SourceOptions::default())
}

/// A minimal valid board: one CPU, a GICv3, and what `body` adds.
pub fn board_dts(body: &str) -> String {
    format!(
        r#"/dts-v1/;
/ {{
	#address-cells = <2>;
	#size-cells = <2>;
	interrupt-parent = <&gic>;
	cpus {{ #address-cells = <1>; #size-cells = <0>;
		cpu@0 {{ device_type = "cpu"; compatible = "arm,cortex-a53"; reg = <0>; }}; }};
	gic: interrupt-controller@8000000 {{ compatible = "arm,gic-v3"; interrupt-controller;
		#interrupt-cells = <3>; reg = <0 0x8000000 0 0x10000>, <0 0x80a0000 0 0xf60000>; }};
{body}
}};
"#
    )
}

pub fn board(body: &str) -> Board {
    match load_dts(&board_dts(body)) {
        Ok(l) => l.board,
        Err(e) => panic!("board did not load: {e}"),
    }
}

pub fn error(body: &str) -> String {
    match load_dts(&board_dts(body)) {
        Ok(_) => panic!("board loaded but an error was expected"),
        Err(e) => e.to_string(),
    }
}
