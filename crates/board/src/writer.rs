//! The DTB the guest boots with: the user's tree, every node and property kept, with
//! `/chosen` patched for this boot (bootargs, initrd, stdout-path).

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

/// Serialises `tree` with `patch` applied to `/chosen` (created if absent).
pub fn guest_dtb(tree: &Tree, patch: &ChosenPatch) -> Result<Vec<u8>> {
    let mut w = Fdt::default();
    let extra = patch.properties();
    write_node(&mut w, tree, tree.root(), &extra)?;
    w.finish(tree)
}

// The flattened device tree format (Devicetree Specification v0.4, chapter 5), written
// here rather than with vm-fdt: vm-fdt refuses node and property names longer than 31
// characters, which dtc and Linux accept and 121 of Linux 7.3's arm64 board files use
// (`arm,coresight-loses-context-with-cpu`, `snps,dis-del-phy-power-chg-quirk`, ...).
const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_END: u32 = 9;
const HEADER_LEN: usize = 40;

/// The structure and strings blocks being written.
#[derive(Debug, Default)]
struct Fdt {
    structure: Vec<u8>,
    strings: Vec<u8>,
    /// Offsets of the names already in `strings`.
    offsets: std::collections::HashMap<String, u32>,
}

impl Fdt {
    fn word(&mut self, v: u32) {
        self.structure.extend_from_slice(&v.to_be_bytes());
    }

    fn pad(&mut self) {
        while self.structure.len() % 4 != 0 {
            self.structure.push(0);
        }
    }

    fn begin_node(&mut self, node: &str, name: &str) -> Result<()> {
        if name.contains(['\0', '/']) {
            return Err(BoardError::Write {
                node: node.to_string(),
                message: format!("node name {name:?} contains NUL or '/'"),
            });
        }
        self.word(FDT_BEGIN_NODE);
        self.structure.extend_from_slice(name.as_bytes());
        self.structure.push(0);
        self.pad();
        Ok(())
    }

    fn property(&mut self, node: &str, name: &str, value: &[u8]) -> Result<()> {
        let too_long = |what: &str| BoardError::Write {
            node: node.to_string(),
            message: format!("property {name}: {what} does not fit the format's 32 bits"),
        };
        if name.is_empty() || name.contains('\0') {
            return Err(BoardError::Write {
                node: node.to_string(),
                message: format!("property name {name:?} is empty or contains NUL"),
            });
        }
        let len = u32::try_from(value.len()).map_err(|_| too_long("its value"))?;
        let offset = match self.offsets.get(name) {
            Some(&o) => o,
            None => {
                let o = u32::try_from(self.strings.len()).map_err(|_| too_long("the strings"))?;
                self.strings.extend_from_slice(name.as_bytes());
                self.strings.push(0);
                self.offsets.insert(name.to_string(), o);
                o
            }
        };
        self.word(FDT_PROP);
        self.word(len);
        self.word(offset);
        self.structure.extend_from_slice(value);
        self.pad();
        Ok(())
    }

    fn end_node(&mut self) {
        self.word(FDT_END_NODE);
    }

    /// Header, memory reservation block, structure block, strings block.
    fn finish(mut self, tree: &Tree) -> Result<Vec<u8>> {
        self.word(FDT_END);
        let rsv_off = HEADER_LEN.next_multiple_of(8);
        let rsv_len = 16 * (tree.mem_reserve.len() + 1);
        let struct_off = rsv_off + rsv_len;
        let strings_off = struct_off + self.structure.len();
        let total = strings_off + self.strings.len();
        let word = |v: usize| -> Result<[u8; 4]> {
            u32::try_from(v)
                .map(u32::to_be_bytes)
                .map_err(|_| BoardError::Write {
                    node: "/".into(),
                    message: format!(
                        "the blob would be {total} bytes, more than the format's 4 GiB"
                    ),
                })
        };
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&FDT_MAGIC.to_be_bytes());
        out.extend_from_slice(&word(total)?);
        out.extend_from_slice(&word(struct_off)?);
        out.extend_from_slice(&word(strings_off)?);
        out.extend_from_slice(&word(rsv_off)?);
        out.extend_from_slice(&17u32.to_be_bytes()); // version
        out.extend_from_slice(&16u32.to_be_bytes()); // last compatible version
        out.extend_from_slice(&tree.boot_cpuid_phys.to_be_bytes());
        out.extend_from_slice(&word(self.strings.len())?);
        out.extend_from_slice(&word(self.structure.len())?);
        out.resize(rsv_off, 0);
        for r in &tree.mem_reserve {
            out.extend_from_slice(&r.address.to_be_bytes());
            out.extend_from_slice(&r.size.to_be_bytes());
        }
        out.extend_from_slice(&[0u8; 16]);
        out.extend_from_slice(&self.structure);
        out.extend_from_slice(&self.strings);
        Ok(out)
    }
}

fn write_node(
    w: &mut Fdt,
    tree: &Tree,
    node: &Node,
    chosen: &[(&'static str, Vec<u8>)],
) -> Result<()> {
    w.begin_node(&node.path, &node.name)?;
    let is_chosen = node.path == "/chosen";
    for p in &node.properties {
        let replaced = is_chosen && chosen.iter().any(|(name, _)| *name == p.name);
        if !replaced {
            w.property(&node.path, &p.name, &p.value)?;
        }
    }
    if is_chosen {
        for (name, value) in chosen {
            w.property(&node.path, name, value)?;
        }
    }
    for child in tree.children(node) {
        write_node(w, tree, child, chosen)?;
    }
    if node.parent.is_none() && tree.find("/chosen").is_none() && !chosen.is_empty() {
        w.begin_node("/chosen", "chosen")?;
        for (name, value) in chosen {
            w.property("/chosen", name, value)?;
        }
        w.end_node();
    }
    w.end_node();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_survive_the_round_trip() {
        let mut tree =
            Tree::from_dtb(&guest_dtb(&minimal(), &ChosenPatch::default()).expect("dtb"))
                .expect("reads back");
        let long = "arm,coresight-loses-context-with-cpu";
        tree.nodes[0].properties.push(crate::tree::Property {
            name: long.into(),
            value: Vec::new(),
        });
        tree.nodes[0].name.clear();
        let again = Tree::from_dtb(&guest_dtb(&tree, &ChosenPatch::default()).expect("dtb"))
            .expect("reads back");
        assert!(again.root().has(long));
    }

    fn minimal() -> Tree {
        Tree {
            nodes: vec![Node {
                name: String::new(),
                path: "/".into(),
                properties: vec![crate::tree::Property {
                    name: "#address-cells".into(),
                    value: 2u32.to_be_bytes().to_vec(),
                }],
                children: Vec::new(),
                parent: None,
            }],
            mem_reserve: vec![crate::tree::MemReserve {
                address: 0x1000,
                size: 0x2000,
            }],
            boot_cpuid_phys: 0,
        }
    }
}
