// The arm64 Image header (Documentation/arch/arm64/booting.rst) of the run-loop test
// Images: `image_header` at `_start` branches to `entry`; the Image ends at `image_end`.
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
