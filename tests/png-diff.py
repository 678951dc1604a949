#!/usr/bin/env python3
"""Print the pixels where two 8-bit RGB PNG screenshots of heapsoc differ, one `x y` per line
(at most 100), after a first line `size WxH differing N`. Standard library only."""
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


def main():
    (w, h, a), (w2, h2, b) = rows(sys.argv[1]), rows(sys.argv[2])
    if (w, h) != (w2, h2):
        sys.exit(f"png-diff: sizes differ: {w}x{h} vs {w2}x{h2}")
    diff = [(x, y) for y in range(h) if a[y] != b[y] for x in range(w)
            if a[y][3 * x:3 * x + 3] != b[y][3 * x:3 * x + 3]]
    print(f"size {w}x{h} differing {len(diff)}")
    for x, y in diff[:100]:
        print(x, y)


if __name__ == "__main__":
    main()
