//! Declarative A64 decoder.
//!
//! Every instruction pattern is one line of [`crate::table::INSNS`]: a name, a
//! 32-bit pattern string of fixed bits (`0`, `1`, `x` for don't-care) and
//! named fields (`rn:5`), written most significant bit first, and a build
//! function that turns the fields into a pre-decoded [`Op`].
//!
//! Overlaps are never resolved by table order: a word matching two patterns
//! takes the one whose fixed bits are a strict superset of the other's, or the
//! winner of a relation declared in [`crate::table::OVERRIDES`]. The unit test
//! `every_overlap_is_resolved` checks that every overlapping pair is covered.
//!
//! Words no pattern matches (or whose build function rejects the field
//! values as unallocated) decode to the UNDEFINED operation, which raises the
//! architectural exception and is counted per top-level encoding group.

use std::sync::OnceLock;

use crate::cpu::Core;
use crate::table::{INSNS, OVERRIDES};

/// Control-flow outcome of one instruction other than "fall through".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// The instruction wrote `pc`; execution continues there.
    Branch,
    /// Stop the current block (exception taken, exit requested, context
    /// changed). `pc` is already set to where execution resumes.
    End,
    /// The slot has not been decoded yet; nothing was executed.
    Decode,
}

/// Result of executing one instruction: `Ok(())` falls through to `pc + 4`.
pub type Step = Result<(), Flow>;

/// Pre-decoded instruction handler.
pub type Handler = fn(&mut Core, &Op) -> Step;

/// A pre-decoded instruction: handler plus operands extracted at decode time.
/// Register fields are slot indices into [`crate::state::Regs::x`] (already
/// mapped for XZR/SP, see [`crate::state`]).
#[derive(Debug, Clone, Copy)]
pub struct Op {
    /// Semantics.
    pub h: Handler,
    /// Main immediate (meaning depends on the handler).
    pub imm: u64,
    /// Destination / transfer register slot.
    pub rd: u8,
    /// First source / base register slot.
    pub rn: u8,
    /// Second source register slot.
    pub rm: u8,
    /// Third register slot (accumulator, second transfer register, status).
    pub ra: u8,
    /// Small extra operand (shift amount, condition, sysreg key...).
    pub aux: u32,
}

impl Op {
    /// An operation with the given handler and all operands zero.
    #[must_use]
    pub const fn new(h: Handler) -> Self {
        Self {
            h,
            imm: 0,
            rd: 0,
            rn: 0,
            rm: 0,
            ra: 0,
            aux: 0,
        }
    }
}

/// Top-level A64 encoding groups (op0, bits 28:25), used to count UNDEFINED words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Reserved / SME / unallocated top-level space.
    Reserved = 0,
    /// SVE.
    Sve = 1,
    /// Data processing, immediate.
    DpImm = 2,
    /// Branches, exception generation, system instructions.
    BranchSys = 3,
    /// Loads and stores.
    LdSt = 4,
    /// Data processing, register.
    DpReg = 5,
    /// Data processing, SIMD and floating point.
    SimdFp = 6,
}

/// Number of [`Group`] values.
pub const GROUPS: usize = 7;

/// Names of the groups, indexed by `Group as usize`.
pub const GROUP_NAMES: [&str; GROUPS] = [
    "reserved",
    "sve",
    "dp-imm",
    "branch-sys",
    "ldst",
    "dp-reg",
    "simd-fp",
];

impl Group {
    /// The top-level group of an instruction word.
    #[must_use]
    pub fn of(word: u32) -> Self {
        let op0 = (word >> 25) & 0xf;
        match op0 {
            0b0010 => Self::Sve,
            0b1000 | 0b1001 => Self::DpImm,
            0b1010 | 0b1011 => Self::BranchSys,
            0b0100 | 0b0110 | 0b1100 | 0b1110 => Self::LdSt,
            0b0101 | 0b1101 => Self::DpReg,
            0b0111 | 0b1111 => Self::SimdFp,
            _ => Self::Reserved,
        }
    }
}

/// One named field of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// Field name as written in the pattern.
    pub name: &'static str,
    /// Least significant bit position.
    pub lsb: u8,
    /// Width in bits.
    pub width: u8,
}

/// Maximum number of named fields in one pattern.
pub const MAX_FIELDS: usize = 10;

/// A parsed pattern: `word & mask == value` matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    /// Fixed bits.
    pub mask: u32,
    /// Values of the fixed bits.
    pub value: u32,
    /// Named fields (first `nfields` entries are valid).
    pub fields: [FieldDef; MAX_FIELDS],
    /// Number of named fields.
    pub nfields: usize,
}

impl Pattern {
    /// Parse a pattern string; see the module documentation for the syntax.
    ///
    /// # Errors
    /// Returns a sentence naming the problem if the pattern is malformed.
    pub fn parse(s: &'static str) -> Result<Self, String> {
        let empty = FieldDef {
            name: "",
            lsb: 0,
            width: 0,
        };
        let mut p = Self {
            mask: 0,
            value: 0,
            fields: [empty; MAX_FIELDS],
            nfields: 0,
        };
        let mut pos: i32 = 32;
        for tok in s.split_whitespace() {
            if let Some((name, width)) = tok.split_once(':') {
                let width: i32 = width
                    .parse()
                    .map_err(|_| format!("field width in `{tok}` is not a number"))?;
                if !(1..=32).contains(&width) || name.is_empty() {
                    return Err(format!("field `{tok}` is malformed"));
                }
                pos -= width;
                if pos < 0 {
                    return Err(format!("pattern `{s}` is longer than 32 bits"));
                }
                if p.nfields == MAX_FIELDS {
                    return Err(format!("pattern `{s}` has too many fields"));
                }
                if p.fields[..p.nfields].iter().any(|f| f.name == name) {
                    return Err(format!("field `{name}` appears twice in `{s}`"));
                }
                p.fields[p.nfields] = FieldDef {
                    name,
                    lsb: pos as u8,
                    width: width as u8,
                };
                p.nfields += 1;
            } else {
                for ch in tok.chars() {
                    pos -= 1;
                    if pos < 0 {
                        return Err(format!("pattern `{s}` is longer than 32 bits"));
                    }
                    match ch {
                        '0' => p.mask |= 1 << pos,
                        '1' => {
                            p.mask |= 1 << pos;
                            p.value |= 1 << pos;
                        }
                        'x' => {}
                        _ => return Err(format!("unexpected `{ch}` in pattern `{s}`")),
                    }
                }
            }
        }
        if pos != 0 {
            return Err(format!("pattern `{s}` has {} bits, not 32", 32 - pos));
        }
        Ok(p)
    }

    /// Whether `word` matches the fixed bits.
    #[inline]
    #[must_use]
    pub fn matches(&self, word: u32) -> bool {
        word & self.mask == self.value
    }

    /// Whether some word matches both patterns.
    #[must_use]
    pub fn overlaps(&self, o: &Self) -> bool {
        (self.value ^ o.value) & self.mask & o.mask == 0
    }

    /// Whether every fixed bit of `o` is fixed here too, and there are more.
    #[must_use]
    pub fn strictly_more_specific(&self, o: &Self) -> bool {
        self.mask & o.mask == o.mask && self.mask != o.mask
    }
}

/// Field values of one matched word, looked up by name.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    /// The instruction word.
    pub word: u32,
    pat: &'a Pattern,
}

impl<'a> Fields<'a> {
    /// Fields of `word` as described by `pat`.
    #[must_use]
    pub fn new(word: u32, pat: &'a Pattern) -> Self {
        Self { word, pat }
    }

    /// Unsigned value of field `name` (0 and a debug assertion if absent).
    #[must_use]
    pub fn get(&self, name: &str) -> u32 {
        for f in &self.pat.fields[..self.pat.nfields] {
            if f.name == name {
                let v = self.word >> f.lsb;
                return if f.width >= 32 {
                    v
                } else {
                    v & ((1u32 << f.width) - 1)
                };
            }
        }
        debug_assert!(false, "field {name} not in pattern");
        0
    }

    /// Sign-extended value of field `name`.
    #[must_use]
    pub fn sext(&self, name: &str) -> i64 {
        for f in &self.pat.fields[..self.pat.nfields] {
            if f.name == name {
                let sh = 64 - u32::from(f.lsb) - u32::from(f.width);
                return (i64::from(self.word) << sh) >> (64 - u32::from(f.width));
            }
        }
        debug_assert!(false, "field {name} not in pattern");
        0
    }
}

/// Build function of a table line: `None` means the field values are
/// unallocated (UNDEFINED).
pub type Build = fn(&Fields) -> Option<Op>;

/// One table line.
#[derive(Debug, Clone, Copy)]
pub struct Insn {
    /// Mnemonic-like name, unique in the table.
    pub name: &'static str,
    /// Pattern string.
    pub pattern: &'static str,
    /// Operand extraction.
    pub build: Build,
}

/// Number of dispatch buckets: indexed by instruction bits 31:21.
const BUCKET_BITS: u32 = 11;

/// The decoder: parsed table plus dispatch buckets.
#[derive(Debug)]
pub struct Decoder {
    pats: Vec<(Pattern, &'static Insn)>,
    buckets: Vec<Vec<u16>>,
}

/// Whether table entry `a` wins over `b` when both match.
fn beats(a: &(Pattern, &Insn), b: &(Pattern, &Insn)) -> bool {
    a.0.strictly_more_specific(&b.0)
        || OVERRIDES
            .iter()
            .any(|&(w, l)| w == a.1.name && l == b.1.name)
}

impl Decoder {
    fn build() -> Self {
        let pats: Vec<(Pattern, &'static Insn)> = INSNS
            .iter()
            .filter_map(|i| Pattern::parse(i.pattern).ok().map(|p| (p, i)))
            .collect();
        let shift = 32 - BUCKET_BITS;
        let mut buckets = Vec::with_capacity(1 << BUCKET_BITS);
        for b in 0u32..(1 << BUCKET_BITS) {
            let hi = b << shift;
            let hi_mask = !0u32 << shift;
            let mut cands: Vec<u16> = (0..pats.len())
                .filter(|&i| (pats[i].0.value ^ hi) & pats[i].0.mask & hi_mask == 0)
                .map(|i| i as u16)
                .collect();
            // Order so that every winner precedes the patterns it beats: repeatedly
            // take a candidate that no remaining overlapping candidate beats.
            let mut ordered = Vec::with_capacity(cands.len());
            while !cands.is_empty() {
                let pick = (0..cands.len())
                    .find(|&i| {
                        let a = &pats[usize::from(cands[i])];
                        !cands.iter().any(|&j| {
                            let b = &pats[usize::from(j)];
                            b.0.overlaps(&a.0) && beats(b, a)
                        })
                    })
                    .unwrap_or(0);
                ordered.push(cands.remove(pick));
            }
            buckets.push(ordered);
        }
        Self { pats, buckets }
    }

    /// The table entry a word decodes to, if any.
    #[must_use]
    pub fn lookup(&self, word: u32) -> Option<(&Pattern, &'static Insn)> {
        let b = &self.buckets[(word >> (32 - BUCKET_BITS)) as usize];
        b.iter()
            .map(|&i| &self.pats[usize::from(i)])
            .find(|(p, _)| p.matches(word))
            .map(|(p, i)| (p, *i))
    }

    /// Decode a word into a pre-decoded operation (UNDEFINED if unallocated).
    #[must_use]
    pub fn decode(&self, word: u32) -> Op {
        self.lookup(word)
            .and_then(|(p, insn)| (insn.build)(&Fields::new(word, p)))
            .unwrap_or_else(|| undefined_op(word))
    }

    /// Name of the table entry a word matches (for diagnostics).
    #[must_use]
    pub fn name_of(&self, word: u32) -> Option<&'static str> {
        self.lookup(word).map(|(_, i)| i.name)
    }
}

/// The UNDEFINED operation for `word`.
#[must_use]
pub fn undefined_op(word: u32) -> Op {
    Op {
        imm: u64::from(word),
        aux: Group::of(word) as u32,
        ..Op::new(crate::exec::undefined)
    }
}

/// The process-wide decoder, built on first use.
pub fn decoder() -> &'static Decoder {
    static D: OnceLock<Decoder> = OnceLock::new();
    D.get_or_init(Decoder::build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fixed_bits_and_fields() {
        let p = Pattern::parse("sf:1 0 0 100010 sh:1 imm12:12 rn:5 rd:5").expect("valid");
        assert_eq!(p.mask, 0x7f80_0000);
        assert_eq!(p.value, 0x1100_0000);
        assert_eq!(p.nfields, 5);
        let f = Fields::new(0x9100_0420, &p); // add x0, x1, #1
        assert_eq!(f.get("sf"), 1);
        assert_eq!(f.get("imm12"), 1);
        assert_eq!(f.get("rn"), 1);
        assert_eq!(f.get("rd"), 0);
    }

    #[test]
    fn rejects_malformed_patterns() {
        assert!(Pattern::parse("0101").is_err());
        assert!(Pattern::parse("rd:5 rd:27").is_err());
        assert!(Pattern::parse("a:33").is_err());
        assert!(Pattern::parse("2 x:31").is_err());
    }

    #[test]
    fn sext_extends_sign() {
        let p = Pattern::parse("imm26:26 000000").expect("valid");
        let f = Fields::new(0xffff_ffc0, &p);
        assert_eq!(f.sext("imm26"), -1);
    }

    #[test]
    fn every_table_pattern_parses_and_names_are_unique() {
        for (i, insn) in INSNS.iter().enumerate() {
            if let Err(e) = Pattern::parse(insn.pattern) {
                panic!("{}: {e}", insn.name);
            }
            assert!(
                !INSNS[..i].iter().any(|o| o.name == insn.name),
                "duplicate name {}",
                insn.name
            );
        }
        for (w, l) in OVERRIDES {
            assert!(INSNS.iter().any(|i| i.name == *w), "override names {w}");
            assert!(INSNS.iter().any(|i| i.name == *l), "override names {l}");
        }
    }

    #[test]
    fn every_overlap_is_resolved() {
        let d = decoder();
        let mut bad = Vec::new();
        for (i, a) in d.pats.iter().enumerate() {
            for b in &d.pats[i + 1..] {
                if a.0.overlaps(&b.0) && beats(a, b) == beats(b, a) {
                    bad.push(format!("{} / {}", a.1.name, b.1.name));
                }
            }
        }
        assert!(bad.is_empty(), "unresolved overlaps: {bad:?}");
    }

    #[test]
    fn each_pattern_decodes_its_own_value_to_itself_or_a_declared_winner() {
        let d = decoder();
        for (p, insn) in &d.pats {
            let got = d.name_of(p.value).expect("matches something");
            if got != insn.name {
                let (wp, winner) = d.lookup(p.value).expect("matched");
                assert!(
                    beats(&(*wp, winner), &(*p, insn)),
                    "{} decoded as {got}",
                    insn.name
                );
            }
        }
    }
}
