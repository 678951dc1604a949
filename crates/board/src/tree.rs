//! An owned copy of the device tree: every node with its path and raw properties.
//!
//! The `fdt` crate reads the blob; this tree keeps what it read in order, so that the
//! board model can look nodes up by path or phandle and the guest DTB writer can emit
//! every node and property the user wrote, unchanged.

use std::collections::HashMap;

use crate::blob;
use crate::error::{BoardError, Result};

/// One property: its name and raw big-endian value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: String,
    pub value: Vec<u8>,
}

/// One node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Full name including the unit address (`memory@40000000`); empty for the root.
    pub name: String,
    /// Full path (`/reserved-memory/linux,cma`); `/` for the root.
    pub path: String,
    pub properties: Vec<Property>,
    /// Indices of the children in [`Tree::nodes`], in blob order.
    pub children: Vec<usize>,
    /// Index of the parent, `None` for the root.
    pub parent: Option<usize>,
}

/// A memory reservation block entry (`/memreserve/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemReserve {
    pub address: u64,
    pub size: u64,
}

/// The whole tree; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    pub nodes: Vec<Node>,
    pub mem_reserve: Vec<MemReserve>,
    pub boot_cpuid_phys: u32,
}

impl Node {
    /// The raw value of a property.
    pub fn prop(&self, name: &str) -> Option<&[u8]> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_slice())
    }

    /// Whether a property exists (boolean properties are empty).
    pub fn has(&self, name: &str) -> bool {
        self.prop(name).is_some()
    }

    /// A property as a list of NUL-separated strings (`compatible`, `status`).
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.prop(name).map(split_strings).unwrap_or_default()
    }

    /// The first string of a string property.
    pub fn string(&self, name: &str) -> Option<String> {
        self.strings(name).into_iter().next()
    }

    /// A property as big-endian u32 cells; an error names the node if its length
    /// is not a multiple of four.
    pub fn cells(&self, name: &str) -> Result<Option<Vec<u32>>> {
        let Some(value) = self.prop(name) else {
            return Ok(None);
        };
        if value.len() % 4 != 0 {
            return Err(BoardError::prop(
                &self.path,
                name,
                format!(
                    "{} bytes is not a whole number of 32-bit cells",
                    value.len()
                ),
            ));
        }
        Ok(Some(
            value
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ))
    }

    /// A single-cell u32 property.
    pub fn u32(&self, name: &str) -> Result<Option<u32>> {
        match self.cells(name)? {
            None => Ok(None),
            Some(cells) if cells.len() == 1 => Ok(Some(cells[0])),
            Some(cells) => Err(BoardError::prop(
                &self.path,
                name,
                format!("expected one cell, found {}", cells.len()),
            )),
        }
    }

    /// Sets a property, replacing one of the same name.
    pub fn set(&mut self, name: &str, value: Vec<u8>) {
        match self.properties.iter_mut().find(|p| p.name == name) {
            Some(p) => p.value = value,
            None => self.properties.push(Property {
                name: name.to_string(),
                value,
            }),
        }
    }

    /// The node name without its unit address.
    pub fn base_name(&self) -> &str {
        self.name.split('@').next().unwrap_or(&self.name)
    }
}

/// Splits a NUL-separated string list; invalid UTF-8 is replaced, not fatal.
pub fn split_strings(value: &[u8]) -> Vec<String> {
    value
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

impl Tree {
    /// Reads a DTB. The blob is checked structurally first, then walked with the `fdt`
    /// crate; any malformation is an error, never a panic.
    pub fn from_dtb(data: &[u8]) -> Result<Tree> {
        blob::check(data)?;
        let fdt = fdt::Fdt::new(data).map_err(|e| BoardError::MalformedDtb(format!("{e:?}")))?;
        let root = fdt
            .find_node("/")
            .ok_or_else(|| BoardError::MalformedDtb("no root node".into()))?;
        let mut tree = Tree {
            nodes: Vec::new(),
            mem_reserve: fdt
                .memory_reservations()
                .map(|r| MemReserve {
                    address: r.address() as usize as u64,
                    size: r.size() as u64,
                })
                .collect(),
            boot_cpuid_phys: boot_cpuid_phys(data),
        };
        tree.add(root, None, 0);
        Ok(tree)
    }

    fn add(
        &mut self,
        node: fdt::node::FdtNode<'_, '_>,
        parent: Option<usize>,
        depth: usize,
    ) -> usize {
        let index = self.nodes.len();
        let name = if parent.is_none() {
            String::new()
        } else {
            node.name.to_string()
        };
        let path = match parent {
            None => "/".to_string(),
            Some(0) => format!("/{name}"),
            Some(p) => format!("{}/{name}", self.nodes[p].path),
        };
        self.nodes.push(Node {
            name,
            path,
            properties: node
                .properties()
                .map(|p| Property {
                    name: p.name.to_string(),
                    value: p.value.to_vec(),
                })
                .collect(),
            children: Vec::new(),
            parent,
        });
        // blob::check bounds the depth; this guard keeps the recursion bounded even so.
        if depth < blob::MAX_DEPTH {
            for child in node.children() {
                let c = self.add(child, Some(index), depth + 1);
                self.nodes[index].children.push(c);
            }
        }
        index
    }

    /// The root node.
    pub fn root(&self) -> &Node {
        &self.nodes[0]
    }

    /// A node by full path.
    pub fn find(&self, path: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.path == path)
    }

    /// Index of a node by full path.
    pub fn index_of(&self, path: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.path == path)
    }

    /// The children of a node.
    pub fn children<'t>(&'t self, node: &'t Node) -> impl Iterator<Item = &'t Node> + 't {
        node.children.iter().map(move |&i| &self.nodes[i])
    }

    /// The parent of a node.
    pub fn parent(&self, node: &Node) -> Option<&Node> {
        node.parent.map(|p| &self.nodes[p])
    }

    /// Adds a node named `name` under node `parent` with `properties`; returns its index.
    pub fn add_node(&mut self, parent: usize, name: &str, properties: Vec<Property>) -> usize {
        let index = self.nodes.len();
        let path = if parent == 0 {
            format!("/{name}")
        } else {
            format!("{}/{name}", self.nodes[parent].path)
        };
        self.nodes.push(Node {
            name: name.to_string(),
            path,
            properties,
            children: Vec::new(),
            parent: Some(parent),
        });
        self.nodes[parent].children.push(index);
        index
    }

    /// The phandle of node `index`, giving it one (one past the largest in the tree) if it
    /// has none.
    pub fn phandle_of(&mut self, index: usize) -> u32 {
        if let Ok(Some(ph)) = self.nodes[index].u32("phandle") {
            return ph;
        }
        let next = self
            .phandles()
            .keys()
            .max()
            .map_or(1, |m| m.saturating_add(1));
        self.nodes[index].set("phandle", next.to_be_bytes().to_vec());
        next
    }

    /// Map from phandle value to node index.
    pub fn phandles(&self) -> HashMap<u32, usize> {
        let mut map = HashMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            for name in ["phandle", "linux,phandle"] {
                if let Ok(Some(ph)) = n.u32(name) {
                    map.entry(ph).or_insert(i);
                }
            }
        }
        map
    }
}

/// `boot_cpuid_phys` from the header (offset 28), 0 if absent.
fn boot_cpuid_phys(data: &[u8]) -> u32 {
    data.get(28..32)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0)
}
