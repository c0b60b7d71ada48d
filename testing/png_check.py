#!/usr/bin/env python3
"""Looks at a PNG as a test must: its width, a least height, not blank, and colours present.

usage: png_check.py PNG WIDTH MIN_HEIGHT [#rrggbb ...]

Each colour must cover at least 30 pixels (within 40 per channel: anti-aliasing). Exit 1 with
what is wrong. Reads the PNG itself (8-bit RGB or RGBA, as rsvg-convert and Chromium write),
so that the tests need nothing beyond python3.
"""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, width, height, channels = 8, b"", 0, 0, 3
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                sys.exit(f"{path}: unexpected PNG format (depth {depth}, colour type {ctype})")
            channels = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride = zlib.decompress(idat), width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
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
        rows.append(line)
        prev = line
    return width, height, [tuple(r[i:i + 3]) for r in rows for i in range(0, stride, channels)]


def main(path, width, min_height, colours):
    w, h, px = pixels(path)
    if w != width or h < min_height:
        sys.exit(f"{path}: size {w}x{h}, not {width} wide and at least {min_height} high")
    ink = sum(1 for p in px if p != (255, 255, 255))
    if ink <= len(px) // 100:
        sys.exit(f"{path}: blank ({ink} of {len(px)} pixels drawn)")
    for c in colours:
        want = tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
        near = sum(1 for p in px if all(abs(p[k] - want[k]) <= 40 for k in range(3)))
        if near < 30:
            sys.exit(f"{path}: colour {c} on {near} pixels, not 30 or more")
    print(f"{path}: {w}x{h}, {ink} pixels drawn, colours {' '.join(colours)} present")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
