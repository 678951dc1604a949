//! Getting a DTB from what the user passed: a `.dtb` as is, a `.dts` through dtc (and
//! through cpp first when it uses `#include`, as kernel DTS files do).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{BoardError, Result};

/// When to run the C preprocessor over a `.dts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cpp {
    /// When the source has an `#include` or `#define` line.
    #[default]
    Auto,
    Always,
    Never,
}

/// How to turn a source into a blob.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Extra include directories (dtc `-i`, cpp `-I`); the file's own directory is always
    /// searched, and for a file inside a kernel tree that tree's include directories.
    pub include_dirs: Vec<PathBuf>,
    pub cpp: Cpp,
    /// The dtc to run; `None`: the kernel tree's own `scripts/dtc/dtc` when the file is in
    /// a kernel tree that has one built, else `dtc` from PATH.
    pub dtc: Option<PathBuf>,
    /// RAM the bootloader would supply (`--memory`), applied to the tree before the board
    /// model is built (see [`crate::supply`]).
    pub memory: Vec<crate::supply::MemoryArg>,
}

/// A Linux source tree a `.dts` lies in (`TREE/arch/ARCH/boot/dts/...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelTree {
    pub root: PathBuf,
    pub arch: String,
}

impl KernelTree {
    /// The kernel tree `path` lies in, if any: an ancestor `arch/ARCH/boot/dts` whose tree
    /// has `scripts/dtc` and `include`.
    pub fn of(path: &Path) -> Option<KernelTree> {
        let path = std::fs::canonicalize(path).ok()?;
        for dts in path.ancestors() {
            let boot = dts.parent()?;
            let arch_dir = boot.parent()?;
            let arch_parent = arch_dir.parent()?;
            let root = arch_parent.parent()?;
            let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
            if name(dts).as_deref() == Some("dts")
                && name(boot).as_deref() == Some("boot")
                && name(arch_parent).as_deref() == Some("arch")
                && root.join("scripts/dtc").is_dir()
                && root.join("include").is_dir()
            {
                return Some(KernelTree {
                    root: root.to_path_buf(),
                    arch: name(arch_dir)?,
                });
            }
        }
        None
    }

    /// The include directories the kernel's scripts/Makefile.dtbs gives cpp and dtc.
    pub fn include_dirs(&self) -> Vec<PathBuf> {
        vec![
            self.root.join("arch").join(&self.arch).join("boot/dts"),
            self.root.join("scripts/dtc/include-prefixes"),
            self.root.join("include"),
        ]
    }

    /// The tree's own dtc, when it has been built in the tree.
    pub fn built_dtc(&self) -> Option<PathBuf> {
        let dtc = self.root.join("scripts/dtc/dtc");
        dtc.is_file().then_some(dtc)
    }
}

/// A compiled blob and what dtc warned about.
#[derive(Debug, Clone)]
pub struct Blob {
    pub dtb: Vec<u8>,
    pub compiler_warnings: Vec<String>,
}

const MAGIC: [u8; 4] = [0xd0, 0x0d, 0xfe, 0xed];

/// Reads `path`: a blob (by its magic) is returned as is, anything else is compiled.
pub fn load(path: &Path, opts: &SourceOptions) -> Result<Blob> {
    let data = std::fs::read(path).map_err(|source| BoardError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if data.starts_with(&MAGIC) {
        return Ok(Blob {
            dtb: data,
            compiler_warnings: Vec::new(),
        });
    }
    compile(path, &data, opts)
}

fn needs_cpp(text: &[u8]) -> bool {
    String::from_utf8_lossy(text).lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("#include") || l.starts_with("#define") || l.starts_with("#if")
    })
}

fn include_dirs(path: &Path, opts: &SourceOptions, tree: Option<&KernelTree>) -> Vec<PathBuf> {
    let own = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    std::iter::once(own)
        .chain(opts.include_dirs.iter().cloned())
        .chain(tree.map(KernelTree::include_dirs).unwrap_or_default())
        .collect()
}

fn run(
    tool: &'static str,
    mut cmd: Command,
    input: &[u8],
    path: &Path,
) -> Result<(Vec<u8>, String)> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound if tool == "dtc" => BoardError::DtcMissing,
            std::io::ErrorKind::NotFound => BoardError::CppMissing {
                path: path.to_path_buf(),
            },
            _ => BoardError::Io {
                path: PathBuf::from(tool),
                source: e,
            },
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A tool that exits early closes the pipe; its exit status says why.
        let _ = stdin.write_all(input);
    }
    let out = child.wait_with_output().map_err(|source| BoardError::Io {
        path: PathBuf::from(tool),
        source,
    })?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    if !out.status.success() {
        return Err(BoardError::Compile {
            tool,
            path: path.to_path_buf(),
            stderr,
        });
    }
    Ok((out.stdout, stderr))
}

fn compile(path: &Path, text: &[u8], opts: &SourceOptions) -> Result<Blob> {
    let tree = KernelTree::of(path);
    let dirs = include_dirs(path, opts, tree.as_ref());
    let use_cpp = match opts.cpp {
        Cpp::Auto => needs_cpp(text),
        Cpp::Always => true,
        Cpp::Never => false,
    };
    let mut source = Vec::new();
    if use_cpp {
        // As the kernel's scripts/Makefile.dtbs preprocesses DTS files.
        let mut cpp = Command::new("cpp");
        cpp.args([
            "-nostdinc",
            "-undef",
            "-D__DTS__",
            "-x",
            "assembler-with-cpp",
        ]);
        for d in &dirs {
            cpp.arg("-I").arg(d);
        }
        cpp.arg("-").arg("-o").arg("-");
        // Keep file names in line markers so dtc's errors point at the user's file.
        let mut input = format!("# 1 \"{}\"\n", path.display()).into_bytes();
        input.extend_from_slice(text);
        source = run("cpp", cpp, &input, path)?.0;
    }
    let dtc_path = opts
        .dtc
        .clone()
        .or_else(|| tree.as_ref().and_then(KernelTree::built_dtc))
        .unwrap_or_else(|| PathBuf::from("dtc"));
    let mut dtc = Command::new(&dtc_path);
    dtc.args(["-I", "dts", "-O", "dtb", "-o", "-"]);
    for d in &dirs {
        dtc.arg("-i").arg(d);
    }
    // Without cpp, dtc reads the file itself so that its messages name it.
    let input: &[u8] = if use_cpp {
        dtc.arg("-");
        &source
    } else {
        dtc.arg(path);
        &[]
    };
    let (dtb, stderr) = run("dtc", dtc, input, path)?;
    let compiler_warnings = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    Ok(Blob {
        dtb,
        compiler_warnings,
    })
}
