//! The A64 decode table: one line per instruction pattern (see
//! [`crate::decode`] for the pattern syntax and overlap rules).

use crate::decode::Insn;
use crate::exec::{branch, dp_imm, dp_reg, ldst, simd, system};

macro_rules! insn {
    ($name:literal, $pat:literal, $build:path) => {
        Insn {
            name: $name,
            pattern: $pat,
            build: $build,
        }
    };
}

/// Every implemented encoding. Anything else is UNDEFINED.
pub static INSNS: &[Insn] = &[
    // Data processing, immediate.
    insn!("ADR", "op:1 immlo:2 10000 immhi:19 rd:5", dp_imm::build_adr),
    insn!(
        "ADDSUB_imm",
        "sf:1 op:1 s:1 100010 sh:1 imm12:12 rn:5 rd:5",
        dp_imm::build_add_imm
    ),
    insn!(
        "LOGIC_imm",
        "sf:1 opc:2 100100 n:1 immr:6 imms:6 rn:5 rd:5",
        dp_imm::build_logic_imm
    ),
    insn!(
        "MOVW",
        "sf:1 opc:2 100101 hw:2 imm16:16 rd:5",
        dp_imm::build_movw
    ),
    insn!(
        "BITFIELD",
        "sf:1 opc:2 100110 n:1 immr:6 imms:6 rn:5 rd:5",
        dp_imm::build_bitfield
    ),
    insn!(
        "EXTR",
        "sf:1 00 100111 n:1 0 rm:5 imms:6 rn:5 rd:5",
        dp_imm::build_extr
    ),
    // Branches, exception generation, system.
    insn!("B", "op:1 00101 imm26:26", branch::build_b),
    insn!("CBZ", "sf:1 011010 op:1 imm19:19 rt:5", branch::build_cbz),
    insn!(
        "TBZ",
        "b5:1 011011 op:1 b40:5 imm14:14 rt:5",
        branch::build_tbz
    ),
    insn!("B_cond", "01010100 imm19:19 0 cond:4", branch::build_b_cond),
    insn!(
        "BR",
        "1101011 00 opc:2 11111 000000 rn:5 00000",
        branch::build_br
    ),
    insn!(
        "ERET",
        "1101011 0100 11111 000000 11111 00000",
        branch::build_eret
    ),
    insn!("EXC", "11010100 opc:3 imm16:16 000 ll:2", branch::build_exc),
    insn!(
        "HINT",
        "1101010100 0 00 011 0010 crm:4 op2:3 11111",
        system::build_hint
    ),
    insn!(
        "BARRIER",
        "1101010100 0 00 011 0011 crm:4 op2:3 11111",
        system::build_barrier
    ),
    insn!(
        "MSR_imm",
        "1101010100 0 00 op1:3 0100 crm:4 op2:3 11111",
        system::build_msr_imm
    ),
    insn!(
        "SYS",
        "1101010100 0 01 op1:3 crn:4 crm:4 op2:3 rt:5",
        system::build_sys
    ),
    insn!(
        "MRS_MSR",
        "1101010100 l:1 1 o0:1 op1:3 crn:4 crm:4 op2:3 rt:5",
        system::build_mrs_msr
    ),
    // Loads and stores.
    insn!(
        "LDST_excl",
        "size:2 001000 o2:1 l:1 o1:1 rs:5 o0:1 rt2:5 rn:5 rt:5",
        ldst::build_exclusive
    ),
    insn!(
        "LDR_lit",
        "opc:2 011 v:1 00 imm19:19 rt:5",
        ldst::build_literal
    ),
    insn!(
        "LDST_pair",
        "opc:2 101 v:1 0 idx:2 l:1 imm7:7 rt2:5 rn:5 rt:5",
        ldst::build_pair
    ),
    insn!(
        "LDST_unscaled",
        "size:2 111 v:1 00 opc:2 0 imm9:9 00 rn:5 rt:5",
        ldst::build_unscaled
    ),
    insn!(
        "LDST_post",
        "size:2 111 v:1 00 opc:2 0 imm9:9 01 rn:5 rt:5",
        ldst::build_post
    ),
    insn!(
        "LDST_unpriv",
        "size:2 111 v:1 00 opc:2 0 imm9:9 10 rn:5 rt:5",
        ldst::build_unpriv
    ),
    insn!(
        "LDST_pre",
        "size:2 111 v:1 00 opc:2 0 imm9:9 11 rn:5 rt:5",
        ldst::build_pre
    ),
    insn!(
        "LDST_regoff",
        "size:2 111 v:1 00 opc:2 1 rm:5 option:3 s:1 10 rn:5 rt:5",
        ldst::build_regoff
    ),
    insn!(
        "LDST_uimm",
        "size:2 111 v:1 01 opc:2 imm12:12 rn:5 rt:5",
        ldst::build_uimm
    ),
    insn!(
        "LD1ST1_multi",
        "0 q:1 0011000 l:1 000000 opcode:4 size:2 rn:5 rt:5",
        simd::build_ld1st1
    ),
    insn!(
        "LD1ST1_multi_post",
        "0 q:1 0011001 l:1 0 rm:5 opcode:4 size:2 rn:5 rt:5",
        simd::build_ld1st1
    ),
    // Data processing, register.
    insn!(
        "LOGIC_sh",
        "sf:1 opc:2 01010 shift:2 n:1 rm:5 imm6:6 rn:5 rd:5",
        dp_reg::build_logic_sh
    ),
    insn!(
        "ADDSUB_sh",
        "sf:1 op:1 s:1 01011 shift:2 0 rm:5 imm6:6 rn:5 rd:5",
        dp_reg::build_addsub_sh
    ),
    insn!(
        "ADDSUB_ext",
        "sf:1 op:1 s:1 01011 00 1 rm:5 option:3 imm3:3 rn:5 rd:5",
        dp_reg::build_addsub_ext
    ),
    insn!(
        "ADC",
        "sf:1 op:1 s:1 11010000 rm:5 000000 rn:5 rd:5",
        dp_reg::build_adc
    ),
    insn!(
        "CCMP_reg",
        "sf:1 op:1 1 11010010 b:5 cond:4 0 0 rn:5 0 nzcv:4",
        dp_reg::build_ccmp
    ),
    insn!(
        "CCMP_imm",
        "sf:1 op:1 1 11010010 b:5 cond:4 1 0 rn:5 0 nzcv:4",
        dp_reg::build_ccmp
    ),
    insn!(
        "CSEL",
        "sf:1 op:1 0 11010100 rm:5 cond:4 op2:2 rn:5 rd:5",
        dp_reg::build_csel
    ),
    insn!(
        "DP2",
        "sf:1 0 0 11010110 rm:5 opcode:6 rn:5 rd:5",
        dp_reg::build_dp2
    ),
    insn!(
        "DP1",
        "sf:1 1 0 11010110 00000 opcode:6 rn:5 rd:5",
        dp_reg::build_dp1
    ),
    insn!(
        "DP3",
        "sf:1 00 11011 op31:3 rm:5 o0:1 ra:5 rn:5 rd:5",
        dp_reg::build_dp3
    ),
    // Data processing, SIMD and floating point (integer subset and moves).
    insn!(
        "SIMD_copy",
        "0 q:1 op:1 01110000 imm5:5 0 imm4:4 1 rn:5 rd:5",
        simd::build_copy
    ),
    insn!(
        "SIMD_three_same",
        "0 q:1 u:1 01110 size:2 1 rm:5 opcode:5 1 rn:5 rd:5",
        simd::build_three_same
    ),
    insn!(
        "SIMD_two_misc",
        "0 q:1 u:1 01110 size:2 10000 opcode:5 10 rn:5 rd:5",
        simd::build_two_misc
    ),
    insn!(
        "SIMD_across",
        "0 q:1 u:1 01110 size:2 11000 opcode:5 10 rn:5 rd:5",
        simd::build_across
    ),
    insn!(
        "SIMD_mod_imm",
        "0 q:1 op:1 0111100000 abc:3 cmode:4 0 1 defgh:5 rd:5",
        simd::build_mod_imm
    ),
    insn!(
        "SIMD_shift_imm",
        "0 q:1 u:1 011110 immh:4 immb:3 opcode:5 1 rn:5 rd:5",
        simd::build_shift_imm
    ),
    insn!(
        "SIMD_ext",
        "0 q:1 101110 00 0 rm:5 0 imm4:4 0 rn:5 rd:5",
        simd::build_ext
    ),
    insn!(
        "FMOV_gen",
        "sf:1 0 0 11110 type:2 1 rmode:2 opcode:3 000000 rn:5 rd:5",
        simd::build_fmov_gen
    ),
    insn!(
        "FMOV_reg",
        "00011110 type:2 1 0000 00 10000 rn:5 rd:5",
        simd::build_fmov_reg
    ),
];

/// Declared precedence between overlapping patterns that are not strictly
/// nested: (winner, loser).
pub static OVERRIDES: &[(&str, &str)] = &[];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Fields, Pattern};

    #[test]
    fn build_functions_only_read_fields_their_pattern_has() {
        // Debug builds assert on unknown field names: feed each pattern its
        // all-zero and all-one field values.
        for insn in INSNS {
            let p = Pattern::parse(insn.pattern).expect("valid");
            for w in [
                p.value,
                p.value | !p.mask,
                p.value | (0x5555_5555 & !p.mask),
            ] {
                let _ = (insn.build)(&Fields::new(w, &p));
            }
        }
    }
}
