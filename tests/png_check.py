#!/usr/bin/env python3
"""heapsoc's screenshots (8-bit RGB PNG), checked with the standard library only.

usage: png_check.py diff A.png B.png   the pixels where the two differ: a line `size WxH
                                       differing N`, then `x y` per pixel (at most 100)
       png_check.py bars FILE.png      the guest display test's colour bars are on it
                                       (guest-images/tests/heap-display.c's pattern)
"""
import struct
import sys
import zlib


def rows(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2), f"{path}: expected 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, out, prev = zlib.decompress(idat), 3 * w, [], bytearray(3 * w)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # PNG filters: none, sub, up, average, Paeth
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], (prev[i - 3] if i >= 3 else 0)
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(bytes(line))
        prev = line
    return w, h, out


def diff(path_a, path_b):
    (w, h, a), (w2, h2, b) = rows(path_a), rows(path_b)
    if (w, h) != (w2, h2):
        sys.exit(f"png_check: sizes differ: {w}x{h} vs {w2}x{h2}")
    diff = [(x, y) for y in range(h) if a[y] != b[y] for x in range(w)
            if a[y][3 * x:3 * x + 3] != b[y][3 * x:3 * x + 3]]
    print(f"size {w}x{h} differing {len(diff)}")
    for x, y in diff[:100]:
        print(x, y)


def bars(path):
    w, h, rows_ = rows(path)
    # heap-display's bars, left to right, in the top half: white, yellow, cyan, green,
    # magenta, red, blue
    want = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255),
            (255, 0, 0), (0, 0, 255)]
    row = rows_[h // 4]
    got = [tuple(row[3 * x:3 * x + 3]) for x in (w * (2 * k + 1) // 16 for k in range(7))]
    if got != want:
        sys.exit(f"png_check: {path}: bars {got}")
    print(f"screenshot {w}x{h} shows the guest's colour bars")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "diff":
        diff(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "bars":
        bars(sys.argv[2])
    else:
        sys.exit(__doc__)
