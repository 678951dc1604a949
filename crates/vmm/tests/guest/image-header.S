// The arm64 Image header (Documentation/arch/arm64/booting.rst) of the run-loop test
// Images: `image_header` at `_start` branches to `entry`; the Image ends at `image_end`.
// `irq_vectors` is a VBAR_EL1 table that sends the IRQ of the current EL with SPx to `irq`
// and every other exception to `unexpected`.
// Included by tests/guest/*.S (the assembler runs with -I tests/guest).

    .macro image_header
    b       entry                   // code0
    .long   0                       // code1
    .quad   0                       // text_offset
    .quad   image_end - _start      // image_size
    .quad   0xa                     // flags: little-endian, 4 KiB pages, anywhere in RAM
    .quad   0, 0, 0                 // res2-res4
    .long   0x644d5241              // magic "ARM\x64"
    .long   0                       // res5
    .endm

    .macro irq_vectors
    .balign 2048
vectors:
    .rept 5
    b       unexpected
    .balign 128
    .endr
    b       irq                     // current EL with SPx, IRQ (VBAR + 0x280)
    .balign 128
    .rept 10
    b       unexpected
    .balign 128
    .endr
    .endm
