//! The heapsoc board model.
//!
//! ```text
//! board.dts --dtc--> DTB --blob::check + fdt crate--> Tree --parse--> Board
//!                                                     Tree + ChosenPatch --writer--> guest DTB
//! ```
//! The device tree is the single source of truth: RAM banks (with their ECC attributes),
//! `/reserved-memory` pools and carveouts, devices, interrupts and CPUs all come from it.

pub mod blob;
pub mod cells;
pub mod error;
pub mod heaps;
pub mod irq;
pub mod model;
pub mod parse;
pub mod report;
pub mod source;
pub mod supply;
pub mod tree;
pub mod validate;
pub mod writer;

use std::path::Path;

pub use error::{BoardError, Result};
pub use model::*;
pub use source::{Cpp, KernelTree, SourceOptions};
pub use supply::MemoryArg;
pub use tree::Tree;
pub use writer::{guest_dtb, ChosenPatch};

/// A board read from a file: the tree as written and the model built from it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub tree: Tree,
    pub board: Board,
    /// What dtc printed as warnings when compiling a `.dts`.
    pub compiler_warnings: Vec<String>,
    /// What `--memory` changed in the tree.
    pub memory_notes: Vec<Warning>,
}

impl Board {
    /// Parses and validates a DTB.
    pub fn from_dtb(dtb: &[u8]) -> Result<Board> {
        parse::board(&Tree::from_dtb(dtb)?)
    }
}

/// Reads a `.dts` or `.dtb` file and builds the board.
pub fn load(path: &Path, opts: &SourceOptions) -> Result<Loaded> {
    let blob = source::load(path, opts)?;
    let mut tree = Tree::from_dtb(&blob.dtb)?;
    let memory_notes = supply::supply_memory(&mut tree, &opts.memory)?;
    let board = parse::board(&tree)?;
    Ok(Loaded {
        tree,
        board,
        compiler_warnings: blob.compiler_warnings,
        memory_notes,
    })
}
