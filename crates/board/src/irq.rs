//! Interrupt specifiers resolved the way Linux resolves them (drivers/of/irq.c).
//!
//! - The parent of a node: its `interrupt-parent`, else its DT parent, repeated until a node
//!   with `#interrupt-cells` is reached (of_irq_find_parent).
//! - From there the specifier walks the interrupt tree (of_irq_parse_raw): an
//!   `interrupt-controller` ends the walk (unless it also has an `interrupt-map`); a node
//!   with an `interrupt-map` translates (unit address + specifier) & `interrupt-map-mask`
//!   into the matching entry's parent and specifier; any other node passes to its own
//!   interrupt parent.
//! - `interrupts-extended` names the parent of each entry; a phandle of 0 is an empty entry.

use std::collections::HashMap;

use crate::error::{BoardError, Result};
use crate::tree::{Node, Tree};

/// Walk steps before a specifier is given up as circular.
const MAX_HOPS: usize = 32;

/// Controllers that keep an `interrupt-map` for their own use (of_irq_imap_abusers).
const IMAP_ABUSERS: &[&str] = &[
    "CBEA,platform-spider-pic",
    "sti,platform-spider-pic",
    "realtek,rtl-intc",
    "fsl,ls1021a-extirq",
    "fsl,ls1043a-extirq",
    "fsl,ls1088a-extirq",
    "renesas,rza1-irqc",
];

/// An interrupt specifier as it reaches its controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Index of the controller node in the tree.
    pub controller: usize,
    /// The specifier in the controller's `#interrupt-cells`.
    pub cells: Vec<u32>,
}

/// The interrupt tree of a device tree.
#[derive(Debug)]
pub struct InterruptTree<'t> {
    tree: &'t Tree,
    phandles: &'t HashMap<u32, usize>,
}

impl<'t> InterruptTree<'t> {
    pub fn new(tree: &'t Tree, phandles: &'t HashMap<u32, usize>) -> Self {
        InterruptTree { tree, phandles }
    }

    fn node(&self, i: usize) -> &'t Node {
        &self.tree.nodes[i]
    }

    fn by_phandle(&self, from: &Node, property: &str, ph: u32) -> Result<usize> {
        self.phandles.get(&ph).copied().ok_or_else(|| {
            BoardError::prop(
                &from.path,
                property,
                format!("phandle {ph} points to no node"),
            )
        })
    }

    /// of_irq_find_parent: the node whose `#interrupt-cells` the specifiers of `node` use.
    pub fn find_parent(&self, node: usize) -> Result<Option<usize>> {
        let mut cur = node;
        for _ in 0..MAX_HOPS {
            let n = self.node(cur);
            let next = match n.u32("interrupt-parent")? {
                Some(ph) => Some(self.by_phandle(n, "interrupt-parent", ph)?),
                None => n.parent,
            };
            let Some(p) = next else { return Ok(None) };
            if self.node(p).has("#interrupt-cells") {
                return Ok(Some(p));
            }
            if p == cur {
                return Ok(None);
            }
            cur = p;
        }
        Err(BoardError::prop(
            &self.node(node).path,
            "interrupt-parent",
            "the interrupt parents form a loop",
        ))
    }

    fn interrupt_cells(&self, n: usize) -> Result<u32> {
        let node = self.node(n);
        node.u32("#interrupt-cells")?.ok_or_else(|| {
            BoardError::prop(
                &node.path,
                "#interrupt-cells",
                "missing on an interrupt parent",
            )
        })
    }

    /// `#address-cells` for interrupt-map matching: the node's own, else the nearest
    /// ancestor's ("the old linux trick"), else 2.
    fn map_address_cells(&self, n: usize) -> Result<u32> {
        let mut cur = Some(n);
        while let Some(i) = cur {
            if let Some(v) = self.node(i).u32("#address-cells")? {
                return Ok(v);
            }
            cur = self.node(i).parent;
        }
        Ok(2)
    }

    /// of_irq_parse_raw: follows `spec` (given to `parent`) through interrupt maps to its
    /// controller. `reg` is the device's `reg` (its unit address for map matching).
    /// `None` when a map has no matching entry (Linux: the interrupt does not exist).
    pub fn resolve(
        &self,
        device: &Node,
        parent: usize,
        spec: &[u32],
        reg: &[u32],
    ) -> Result<Option<Resolved>> {
        let mut ipar = parent;
        let mut spec = spec.to_vec();
        let mut addr: Vec<u32> = reg.to_vec();
        let mut addr_given = !reg.is_empty();
        for _ in 0..MAX_HOPS {
            let n = self.node(ipar);
            let intc = n.has("interrupt-controller");
            let imap = n.cells("interrupt-map")?;
            let abuser = n
                .strings("compatible")
                .iter()
                .any(|c| IMAP_ABUSERS.contains(&c.as_str()));
            if intc && (imap.is_none() || abuser) {
                return Ok(Some(Resolved {
                    controller: ipar,
                    cells: spec,
                }));
            }
            let Some(imap) = imap else {
                // Neither a controller nor a map: pass to this node's interrupt parent.
                match self.find_parent(ipar)? {
                    Some(p) => {
                        ipar = p;
                        addr.clear();
                        addr_given = false;
                        continue;
                    }
                    None => return Ok(None),
                }
            };
            let addrsize = self.map_address_cells(ipar)? as usize;
            let intsize = self.interrupt_cells(ipar)? as usize;
            if spec.len() < intsize {
                return Err(BoardError::prop(
                    &device.path,
                    "interrupts",
                    format!(
                        "{} cells for {}, whose #interrupt-cells is {intsize}",
                        spec.len(),
                        n.path
                    ),
                ));
            }
            if addrsize > 0 && !addr_given && addr.len() < addrsize {
                // of_irq_parse_raw: "no reg passed in when needed"
                return Ok(None);
            }
            let mut key: Vec<u32> = (0..addrsize)
                .map(|i| addr.get(i).copied().unwrap_or(0))
                .collect();
            key.extend_from_slice(&spec[..intsize]);
            let mask = match n.cells("interrupt-map-mask")? {
                Some(m) => m,
                None => vec![u32::MAX; addrsize + intsize],
            };
            let mut rest = imap.as_slice();
            let mut found = None;
            while rest.len() > addrsize + intsize {
                let (child, tail) = rest.split_at(addrsize + intsize);
                let ph = tail[0];
                let newpar = self.by_phandle(n, "interrupt-map", ph)?;
                let np = self.node(newpar);
                let newaddr = np.u32("#address-cells")?.unwrap_or(0) as usize;
                let newint = self.interrupt_cells(newpar)? as usize;
                let need = 1 + newaddr + newint;
                if tail.len() < need {
                    return Err(BoardError::prop(
                        &n.path,
                        "interrupt-map",
                        "an entry is cut short",
                    ));
                }
                let matches = child
                    .iter()
                    .zip(&key)
                    .enumerate()
                    .all(|(i, (c, k))| (c ^ k) & mask.get(i).copied().unwrap_or(u32::MAX) == 0);
                if matches {
                    found = Some((
                        newpar,
                        tail[1..1 + newaddr].to_vec(),
                        tail[1 + newaddr..need].to_vec(),
                    ));
                    break;
                }
                rest = &tail[need..];
            }
            let Some((newpar, newaddr, newspec)) = found else {
                return Ok(None);
            };
            ipar = newpar;
            addr_given = !newaddr.is_empty();
            addr = newaddr;
            spec = newspec;
        }
        Err(BoardError::prop(
            &device.path,
            "interrupts",
            "the interrupt maps form a loop",
        ))
    }

    /// Every interrupt of node `index` (of_irq_parse_one for each index), resolved to its
    /// controller; `None` for an empty `interrupts-extended` entry or an interrupt a map
    /// does not route anywhere.
    pub fn interrupts_of(&self, index: usize) -> Result<Vec<Option<Resolved>>> {
        let node = self.node(index);
        let reg = node.cells("reg").ok().flatten().unwrap_or_default();
        let mut out = Vec::new();
        if let Some(raw) = node.cells("interrupts-extended")? {
            let mut rest = raw.as_slice();
            while let Some((&ph, tail)) = rest.split_first() {
                if ph == 0 {
                    // An empty entry: this index has no interrupt.
                    out.push(None);
                    rest = tail;
                    continue;
                }
                let ctrl = self.by_phandle(node, "interrupts-extended", ph)?;
                let n = self.interrupt_cells(ctrl)? as usize;
                if tail.len() < n {
                    return Err(BoardError::prop(
                        &node.path,
                        "interrupts-extended",
                        format!("truncated specifier for {}", self.node(ctrl).path),
                    ));
                }
                out.push(self.resolve(node, ctrl, &tail[..n], &reg)?);
                rest = &tail[n..];
            }
            return Ok(out);
        }
        let Some(raw) = node.cells("interrupts")? else {
            return Ok(out);
        };
        let Some(parent) = self.find_parent(index)? else {
            return Err(BoardError::prop(
                &node.path,
                "interrupts",
                "no interrupt parent: no interrupt-parent here or on an ancestor, and no ancestor with #interrupt-cells",
            ));
        };
        let n = self.interrupt_cells(parent)? as usize;
        if n == 0 || raw.len() % n != 0 {
            return Err(BoardError::prop(
                &node.path,
                "interrupts",
                format!(
                    "{} cells is not a multiple of #interrupt-cells ({n}) of {}",
                    raw.len(),
                    self.node(parent).path
                ),
            ));
        }
        for spec in raw.chunks_exact(n) {
            out.push(self.resolve(node, parent, spec, &reg)?);
        }
        Ok(out)
    }
}
