//! The A64 decode table: one line per instruction pattern (see
//! [`crate::decode`] for the pattern syntax and overlap rules).

use crate::decode::Insn;
use crate::exec::{branch, dp_imm, dp_reg, fp, ldst, simd, system, vint};

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
        "LDST_multi",
        "0 q:1 0011000 l:1 000000 opcode:4 size:2 rn:5 rt:5",
        simd::build_ldst_multi
    ),
    insn!(
        "LDST_multi_post",
        "0 q:1 0011001 l:1 0 rm:5 opcode:4 size:2 rn:5 rt:5",
        simd::build_ldst_multi
    ),
    insn!(
        "LDST_single",
        "0 q:1 0011010 l:1 r:1 00000 opcode:3 s:1 size:2 rn:5 rt:5",
        simd::build_ldst_single
    ),
    insn!(
        "LDST_single_post",
        "0 q:1 0011011 l:1 r:1 rm:5 opcode:3 s:1 size:2 rn:5 rt:5",
        simd::build_ldst_single
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
    // Data processing, AdvSIMD (vector and scalar). The integer build
    // functions hand the FP opcodes of a shared group to `vfp`.
    insn!(
        "SIMD_copy",
        "0 q:1 op:1 01110000 imm5:5 0 imm4:4 1 rn:5 rd:5",
        simd::build_copy
    ),
    insn!(
        "SIMD_three_same",
        "0 q:1 u:1 01110 size:2 1 rm:5 opcode:5 1 rn:5 rd:5",
        vint::build_three_same
    ),
    insn!(
        "SIMD_two_misc",
        "0 q:1 u:1 01110 size:2 10000 opcode:5 10 rn:5 rd:5",
        vint::build_two_misc
    ),
    insn!(
        "SIMD_across",
        "0 q:1 u:1 01110 size:2 11000 opcode:5 10 rn:5 rd:5",
        vint::build_across
    ),
    insn!(
        "SIMD_mod_imm",
        "0 q:1 op:1 0111100000 abc:3 cmode:4 0 1 defgh:5 rd:5",
        simd::build_mod_imm
    ),
    insn!(
        "SIMD_shift_imm",
        "0 q:1 u:1 011110 immh:4 immb:3 opcode:5 1 rn:5 rd:5",
        vint::build_shift_imm
    ),
    insn!(
        "SIMD_ext",
        "0 q:1 101110 00 0 rm:5 0 imm4:4 0 rn:5 rd:5",
        simd::build_ext
    ),
    insn!(
        "SIMD_three_diff",
        "0 q:1 u:1 01110 size:2 1 rm:5 opcode:4 00 rn:5 rd:5",
        vint::build_three_diff
    ),
    insn!(
        "SIMD_by_elem",
        "0 q:1 u:1 01111 size:2 l:1 m:1 rm:4 opcode:4 h:1 0 rn:5 rd:5",
        vint::build_by_elem
    ),
    insn!(
        "SIMD_permute",
        "0 q:1 001110 size:2 0 rm:5 0 opcode:3 10 rn:5 rd:5",
        vint::build_permute
    ),
    insn!(
        "SIMD_tbl",
        "0 q:1 001110 00 0 rm:5 0 len:2 op:1 00 rn:5 rd:5",
        vint::build_tbl
    ),
    insn!(
        "SIMD_s_three_same",
        "01 u:1 11110 size:2 1 rm:5 opcode:5 1 rn:5 rd:5",
        vint::build_scalar_three_same
    ),
    insn!(
        "SIMD_s_two_misc",
        "01 u:1 11110 size:2 10000 opcode:5 10 rn:5 rd:5",
        vint::build_scalar_two_misc
    ),
    insn!(
        "SIMD_s_pairwise",
        "01 u:1 11110 size:2 11000 opcode:5 10 rn:5 rd:5",
        vint::build_scalar_pairwise
    ),
    insn!(
        "SIMD_s_copy",
        "01 0 11110000 imm5:5 0 0000 1 rn:5 rd:5",
        vint::build_scalar_dup
    ),
    insn!(
        "SIMD_s_shift_imm",
        "01 u:1 111110 immh:4 immb:3 opcode:5 1 rn:5 rd:5",
        vint::build_scalar_shift_imm
    ),
    insn!(
        "SIMD_s_by_elem",
        "01 u:1 11111 size:2 l:1 m:1 rm:4 opcode:4 h:1 0 rn:5 rd:5",
        vint::build_scalar_by_elem
    ),
    insn!(
        "SIMD_s_three_diff",
        "01 u:1 11110 size:2 1 rm:5 opcode:4 00 rn:5 rd:5",
        vint::build_scalar_three_diff
    ),
    // Scalar floating point.
    insn!(
        "FP_fixed",
        "sf:1 0 0 11110 type:2 0 rmode:2 opcode:3 scale:6 rn:5 rd:5",
        fp::build_fixed
    ),
    insn!(
        "FP_int",
        "sf:1 0 0 11110 type:2 1 rmode:2 opcode:3 000000 rn:5 rd:5",
        fp::build_int
    ),
    insn!(
        "FP_dp1",
        "m:1 0 s:1 11110 type:2 1 opcode:6 10000 rn:5 rd:5",
        fp::build_dp1
    ),
    insn!(
        "FP_cmp",
        "0 0 0 11110 type:2 1 rm:5 op:2 1000 rn:5 opcode2:5",
        fp::build_fcmp
    ),
    insn!(
        "FP_imm",
        "0 0 0 11110 type:2 1 imm8:8 100 imm5:5 rd:5",
        fp::build_fmov_imm
    ),
    insn!(
        "FP_ccmp",
        "0 0 0 11110 type:2 1 rm:5 cond:4 01 rn:5 op:1 nzcv:4",
        fp::build_fccmp
    ),
    insn!(
        "FP_dp2",
        "0 0 0 11110 type:2 1 rm:5 opcode:4 10 rn:5 rd:5",
        fp::build_dp2
    ),
    insn!(
        "FP_csel",
        "0 0 0 11110 type:2 1 rm:5 cond:4 11 rn:5 rd:5",
        fp::build_fcsel
    ),
    insn!(
        "FP_dp3",
        "0 0 0 11111 type:2 o1:1 rm:5 o0:1 ra:5 rn:5 rd:5",
        fp::build_dp3
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
