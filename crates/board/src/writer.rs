//! The DTB the guest boots with: the user's tree, every node and property kept, with
//! `/chosen` patched for this boot (bootargs, initrd, stdout-path).

use vm_fdt::{FdtReserveEntry, FdtWriter};

use crate::error::{BoardError, Result};
use crate::model::Range;
use crate::tree::{Node, Tree};

/// What the loader puts into `/chosen`; `None` keeps what the user wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChosenPatch {
    pub bootargs: Option<String>,
    pub stdout_path: Option<String>,
    /// Guest-physical range of the initramfs (`linux,initrd-start`/`-end`).
    pub initrd: Option<Range>,
}

impl ChosenPatch {
    fn properties(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut props = Vec::new();
        let string = |s: &str| {
            let mut v = s.as_bytes().to_vec();
            v.push(0);
            v
        };
        if let Some(b) = &self.bootargs {
            props.push(("bootargs", string(b)));
        }
        if let Some(s) = &self.stdout_path {
            props.push(("stdout-path", string(s)));
        }
        if let Some(r) = &self.initrd {
            props.push(("linux,initrd-start", r.base.to_be_bytes().to_vec()));
            props.push(("linux,initrd-end", r.end().to_be_bytes().to_vec()));
        }
        props
    }
}

fn write_err(node: &str) -> impl Fn(vm_fdt::Error) -> BoardError + '_ {
    move |e| BoardError::Write {
        node: node.to_string(),
        message: e.to_string(),
    }
}

/// Serialises `tree` with `patch` applied to `/chosen` (created if absent).
pub fn guest_dtb(tree: &Tree, patch: &ChosenPatch) -> Result<Vec<u8>> {
    let reserve: Vec<FdtReserveEntry> = tree
        .mem_reserve
        .iter()
        .map(|r| FdtReserveEntry::new(r.address, r.size))
        .collect::<std::result::Result<_, _>>()
        .map_err(write_err("/memreserve/"))?;
    let mut w = FdtWriter::new_with_mem_reserv(&reserve).map_err(write_err("/memreserve/"))?;
    w.set_boot_cpuid_phys(tree.boot_cpuid_phys);
    let extra = patch.properties();
    write_node(&mut w, tree, tree.root(), &extra)?;
    w.finish().map_err(write_err("/"))
}

fn write_node(
    w: &mut FdtWriter,
    tree: &Tree,
    node: &Node,
    chosen: &[(&'static str, Vec<u8>)],
) -> Result<()> {
    let err = write_err(&node.path);
    let handle = w.begin_node(&node.name).map_err(&err)?;
    let is_chosen = node.path == "/chosen";
    for p in &node.properties {
        let replaced = is_chosen && chosen.iter().any(|(name, _)| *name == p.name);
        if !replaced {
            w.property(&p.name, &p.value).map_err(&err)?;
        }
    }
    if is_chosen {
        for (name, value) in chosen {
            w.property(name, value).map_err(&err)?;
        }
    }
    for child in tree.children(node) {
        write_node(w, tree, child, chosen)?;
    }
    if node.parent.is_none() && tree.find("/chosen").is_none() && !chosen.is_empty() {
        let handle = w.begin_node("chosen").map_err(write_err("/chosen"))?;
        for (name, value) in chosen {
            w.property(name, value).map_err(write_err("/chosen"))?;
        }
        w.end_node(handle).map_err(write_err("/chosen"))?;
    }
    w.end_node(handle).map_err(&err)
}
