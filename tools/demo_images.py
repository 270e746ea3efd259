"""Draw the demo content's pictures: flat illustrations made here, with the standard
library only, so the project owns them outright (CC0, see the README).

Run once, from the repository root, after changing a drawing:

    python tools/demo_images.py

It writes PNG files to app/demo_images/, which are committed with the code.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

WIDTH, HEIGHT = 800, 420
OUT = Path(__file__).resolve().parent.parent / "app" / "demo_images"

Color = tuple[int, int, int]


class Canvas:
    def __init__(self, top: Color, bottom: Color):
        self.pixels = bytearray()
        for y in range(HEIGHT):
            t = y / (HEIGHT - 1)
            row = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
            self.pixels += row * WIDTH

    def dot(self, x: int, y: int, color: Color) -> None:
        if 0 <= x < WIDTH and 0 <= y < HEIGHT:
            i = (y * WIDTH + x) * 3
            self.pixels[i : i + 3] = bytes(color)

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: Color) -> None:
        for y in range(max(0, int(y0)), min(HEIGHT, int(y1))):
            start = (y * WIDTH + max(0, int(x0))) * 3
            count = max(0, min(WIDTH, int(x1)) - max(0, int(x0)))
            self.pixels[start : start + count * 3] = bytes(color) * count

    def circle(self, cx: float, cy: float, r: float, color: Color) -> None:
        for y in range(int(cy - r), int(cy + r) + 1):
            half = math.sqrt(max(0.0, r * r - (y - cy) ** 2))
            self.rect(cx - half, y, cx + half + 1, y + 1, color)

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float, color: Color):
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for step in range(steps + 1):
            t = step / steps
            self.circle(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, width / 2, color)

    def polygon(self, points: list[tuple[float, float]], color: Color) -> None:
        """Even-odd scanline fill."""
        ys = [p[1] for p in points]
        for y in range(max(0, int(min(ys))), min(HEIGHT, int(max(ys)) + 1)):
            xs = []
            for (ax, ay), (bx, by) in zip(points, points[1:] + points[:1], strict=True):
                if (ay <= y < by) or (by <= y < ay):
                    xs.append(ax + (y - ay) * (bx - ax) / (by - ay))
            xs.sort()
            for left, right in zip(xs[::2], xs[1::2], strict=False):
                self.rect(left, y, right + 1, y + 1, color)

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * WIDTH * 3 : (y + 1) * WIDTH * 3]) for y in range(HEIGHT)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def wind_farm() -> Canvas:
    canvas = Canvas((120, 180, 235), (215, 235, 250))
    canvas.circle(660, 90, 42, (255, 214, 102))
    canvas.rect(0, 300, WIDTH, HEIGHT, (38, 92, 140))
    for x in range(0, WIDTH, 40):
        canvas.rect(
            x + 8, 330 + (x // 40 % 3) * 25, x + 30, 333 + (x // 40 % 3) * 25, (90, 140, 185)
        )
    for i, (x, height) in enumerate([(170, 190), (330, 220), (500, 170), (640, 140)]):
        top = 300 - height
        canvas.polygon([(x - 5, 300), (x + 5, 300), (x + 2, top), (x - 2, top)], (245, 247, 250))
        angle = 0.4 + i * 0.7
        for blade in range(3):
            a = angle + blade * 2 * math.pi / 3
            tip = (x + math.cos(a) * height * 0.42, top + math.sin(a) * height * 0.42)
            canvas.line(x, top, *tip, 6, (250, 251, 252))
        canvas.circle(x, top, 7, (200, 208, 218))
    return canvas


def hiring() -> Canvas:
    canvas = Canvas((29, 36, 51), (45, 55, 78))
    canvas.rect(60, 50, 740, 370, (22, 27, 38))
    canvas.rect(60, 50, 740, 80, (52, 62, 84))
    for i, color in enumerate([(235, 100, 90), (240, 190, 80), (110, 200, 120)]):
        canvas.circle(85 + i * 24, 65, 7, color)
    palette = [(120, 170, 255), (255, 196, 110), (150, 220, 160), (220, 150, 230), (200, 205, 215)]
    widths = [
        (0, 180),
        (1, 260),
        (1, 120),
        (2, 300),
        (2, 90),
        (1, 220),
        (0, 150),
        (1, 280),
        (2, 200),
    ]
    for row, (indent, width) in enumerate(widths):
        y = 110 + row * 28
        x = 100 + indent * 40
        canvas.rect(x, y, x + width * 0.45, y + 12, palette[row % 5])
        canvas.rect(x + width * 0.45 + 12, y, x + width, y + 12, palette[(row + 2) % 5])
    canvas.rect(100 + 2 * 40, 110 + 9 * 28, 100 + 2 * 40 + 10, 110 + 9 * 28 + 16, (255, 255, 255))
    return canvas


def sustainability() -> Canvas:
    canvas = Canvas((236, 246, 236), (214, 236, 214))
    canvas.rect(80, 350, 720, 354, (60, 90, 60))
    heights = [240, 215, 200, 175, 160, 140]
    for i, height in enumerate(heights):
        x = 110 + i * 80
        shade = (46 + i * 12, 125 + i * 10, 70 + i * 6)
        canvas.rect(x, 350 - height, x + 52, 350, shade)
    canvas.line(136, 350 - 240 - 20, 536, 350 - 140 - 20, 5, (200, 90, 60))
    canvas.polygon([(536, 200), (518, 184), (528, 212)], (200, 90, 60))
    cx, cy = 655, 120
    canvas.circle(cx, cy, 55, (70, 150, 80))
    canvas.polygon(
        [(cx - 45, cy + 45), (cx + 40, cy - 40), (cx + 48, cy - 48), (cx - 38, cy + 52)],
        (236, 246, 236),
    )
    return canvas


def summit() -> Canvas:
    canvas = Canvas((40, 30, 70), (20, 16, 36))
    canvas.polygon([(330, 0), (470, 0), (560, 300), (240, 300)], (70, 60, 110))
    canvas.rect(180, 250, 620, 300, (120, 90, 60))
    canvas.rect(370, 200, 430, 250, (150, 115, 80))
    canvas.circle(400, 170, 16, (240, 200, 170))
    canvas.rect(388, 186, 412, 200, (47, 91, 211))
    for row in range(3):
        for seat in range(12):
            x = 70 + seat * 60 + (row % 2) * 30
            y = 330 + row * 30
            canvas.circle(x, y, 13, (90 + row * 30, 80 + row * 25, 120 + row * 20))
    return canvas


DRAWINGS = {
    "wind-farm.png": wind_farm,
    "hiring.png": hiring,
    "sustainability.png": sustainability,
    "summit.png": summit,
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in DRAWINGS.items():
        (OUT / name).write_bytes(draw().png())
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
