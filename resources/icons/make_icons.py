#!/usr/bin/env python3
# Renders gesso.svg's shapes (rounded canvas, gradient Bezier stroke, dot) to gesso-SIZE.png without any library:
# 4x4 supersampling, written with zlib. Run from resources/icons after changing the drawing.
import math, struct, zlib

def bezier(t):
    p0, p1, p2, p3 = (58, 186), (96, 120), (140, 170), (196, 78)
    u = 1 - t
    return tuple(u**3*a + 3*u*u*t*b + 3*u*t*t*c + t**3*d for a, b, c, d in zip(p0, p1, p2, p3))

CURVE = [bezier(i / 400) for i in range(401)]

def mix(a, b, t):
    return tuple(x + (y - x) * t for x, y in zip(a, b))

def sample(x, y):
    """Colour (r, g, b, a) at a point of the 256x256 drawing."""
    colour = (0, 0, 0, 0)
    # Rounded rectangle 16..240 with radius 44, 10 px border.
    def rounded_distance(x, y, lo, hi, r):
        cx = min(max(x, lo + r), hi - r)
        cy = min(max(y, lo + r), hi - r)
        return math.hypot(x - cx, y - cy) - r
    d = rounded_distance(x, y, 16, 240, 44)
    if d <= 5:
        colour = (0x3a, 0x3a, 0x46, 255) if d > -5 else (0xf4, 0xef, 0xe4, 255)
    # Stroke: distance to the curve, width 30, round caps; gradient along the diagonal.
    best = min(((x - px) ** 2 + (y - py) ** 2) for px, py in CURVE)
    if best <= 15 ** 2:
        t = max(0.0, min(1.0, ((x - 16) + (240 - y)) / 448))
        colour = mix((0x2f, 0x6f, 0xd6), (0xf0, 0xa0, 0x30), t) + (255,)
    if (x - 186) ** 2 + (y - 178) ** 2 <= 18 ** 2:
        colour = (0xd6, 0x45, 0x2f, 255)
    return colour

def render(size, ss=4):
    rows = []
    scale = 256 / size
    for j in range(size):
        row = bytearray([0])
        for i in range(size):
            acc = [0, 0, 0, 0]
            for sj in range(ss):
                for si in range(ss):
                    r, g, b, a = sample((i + (si + 0.5) / ss) * scale, (j + (sj + 0.5) / ss) * scale)
                    acc[0] += r * a; acc[1] += g * a; acc[2] += b * a; acc[3] += a
            n = ss * ss
            alpha = acc[3] / n
            if acc[3] > 0:
                row += bytes([int(acc[0] / acc[3] + 0.5), int(acc[1] / acc[3] + 0.5), int(acc[2] / acc[3] + 0.5), int(alpha + 0.5)])
            else:
                row += bytes([0, 0, 0, 0])
        rows.append(bytes(row))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
    with open(f"gesso-{size}.png", "wb") as f:
        f.write(png)

for size in (32, 64, 128, 256):
    render(size, 4 if size <= 128 else 2)
