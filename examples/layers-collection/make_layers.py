#!/usr/bin/env python3
"""Deterministic generator for a HashLips-style ``layers/`` folder.

Writes OUT_DIR/<Layer>/<Trait>#<weight>.png for 7 layers (Background, Body,
Eyes, Mouth, Headwear, Accessory, Frame), 5-8 traits each.  Every file is an
RGBA PNG of SIZE x SIZE (default 1000) with real content: gradients,
anti-aliased circles/ellipses/rings, polygons, stripes and partially
transparent glows, so that compositing and PNG encoding do real work.

The output is a pure function of the fixed seed and --size (numpy + Pillow
only, no other dependencies).  Usage:

    python3 make_layers.py OUT_DIR [--size 1000] [--with-extras]

--with-extras also writes what the example collection shows beyond the plain
HashLips set: a "Glow" layer meant for the screen blend mode, and an animated
trait, Accessory/"Sparkle Loop#6/", a folder of 8 frames.  Without it the set
is exactly the 7-layer benchmark set.
"""

import argparse
import colorsys
import math
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

SEED = 20240607
SS = 4  # supersampling factor for PIL-rasterised polygons and strokes

LAYER_ORDER = ["Background", "Body", "Eyes", "Mouth", "Headwear", "Accessory", "Frame"]


# --------------------------------------------------------------------------
# Small float canvas with premultiplied "source-over" painting
# --------------------------------------------------------------------------
class Grid:
    """Pixel-centre coordinates in [0, 1] for an N x N image (shared per size)."""

    def __init__(self, n):
        self.n = n
        c = (np.arange(n, dtype=np.float32) + 0.5) / n
        self.x = c[None, :].repeat(n, 0)
        self.y = c[:, None].repeat(n, 1)


class Layer:
    def __init__(self, g):
        self.g = g
        n = g.n
        self.rgb = np.zeros((n, n, 3), np.float32)  # premultiplied colour
        self.a = np.zeros((n, n), np.float32)

    def paint(self, cover, color, opacity=1.0):
        """Composite `color` (RGB tuple in 0..1 or HxWx3 array) through the
        coverage mask `cover` (HxW in 0..1) with source-over."""
        sa = np.clip(cover, 0.0, 1.0).astype(np.float32) * np.float32(opacity)
        col = np.asarray(color, np.float32)
        if col.ndim == 1:
            col = col.reshape(1, 1, 3)
        inv = 1.0 - sa
        self.rgb = col * sa[..., None] + self.rgb * inv[..., None]
        self.a = sa + self.a * inv

    def to_image(self):
        a = self.a
        safe = np.where(a > 1e-6, a, 1.0)
        rgb = self.rgb / safe[..., None]
        out = np.concatenate([rgb, a[..., None]], axis=2)
        out = np.round(np.clip(out, 0.0, 1.0) * 255.0).astype(np.uint8)
        return Image.fromarray(out, "RGBA")


# --------------------------------------------------------------------------
# Coverage masks (anti-aliased, resolution independent coordinates)
# --------------------------------------------------------------------------
def _aa(signed_dist, g):
    """Signed distance (negative inside, in normalised units) -> coverage."""
    return np.clip(0.5 - signed_dist * g.n, 0.0, 1.0)


def disc(g, cx, cy, r):
    d = np.hypot(g.x - cx, g.y - cy) - r
    return _aa(d, g)


def ellipse(g, cx, cy, rx, ry, angle=0.0):
    ca, sa = math.cos(angle), math.sin(angle)
    dx, dy = g.x - cx, g.y - cy
    u = (dx * ca + dy * sa) / rx
    v = (-dx * sa + dy * ca) / ry
    d = (np.sqrt(u * u + v * v) - 1.0) * min(rx, ry)
    return _aa(d, g)


def ring(g, cx, cy, r, w):
    d = np.abs(np.hypot(g.x - cx, g.y - cy) - r) - w / 2.0
    return _aa(d, g)


def box(g, x0, y0, x1, y1, radius=0.0):
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    hx, hy = (x1 - x0) / 2.0 - radius, (y1 - y0) / 2.0 - radius
    qx = np.abs(g.x - cx) - hx
    qy = np.abs(g.y - cy) - hy
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    inside = np.minimum(np.maximum(qx, qy), 0)
    return _aa(outside + inside - radius, g)


def half_plane(g, y0, below=True):
    """Coverage of the region below (y > y0) or above (y < y0) a horizontal line."""
    d = (y0 - g.y) if below else (g.y - y0)
    return _aa(d, g)


def polygon(g, pts):
    n = g.n * SS
    im = Image.new("L", (n, n), 0)
    ImageDraw.Draw(im).polygon([(x * n, y * n) for x, y in pts], fill=255)
    return np.asarray(im.reduce(SS), np.float32) / 255.0


def polyline(g, pts, width):
    n = g.n * SS
    im = Image.new("L", (n, n), 0)
    ImageDraw.Draw(im).line([(x * n, y * n) for x, y in pts], fill=255,
                            width=max(1, int(round(width * n))), joint="curve")
    return np.asarray(im.reduce(SS), np.float32) / 255.0


def star(cx, cy, r_out, r_in, k=5, rot=0.0):
    pts = []
    for i in range(2 * k):
        r = r_out if i % 2 == 0 else r_in
        t = rot + math.pi * i / k - math.pi / 2
        pts.append((cx + r * math.cos(t), cy + r * math.sin(t)))
    return pts


# --------------------------------------------------------------------------
# Colour helpers
# --------------------------------------------------------------------------
def hsv(h, s, v):
    return colorsys.hsv_to_rgb(h % 1.0, s, v)


def lerp_color(c0, c1, t):
    c0 = np.asarray(c0, np.float32)
    c1 = np.asarray(c1, np.float32)
    t = np.clip(t, 0, 1)[..., None]
    return c0 * (1 - t) + c1 * t


def shaded(g, base, hx, hy, spread=0.55, dark=0.45):
    """Base colour lit from (hx, hy): a radial light-to-dark ramp."""
    d = np.hypot(g.x - hx, g.y - hy) / spread
    hi = tuple(min(1.0, c * 0.6 + 0.45) for c in base)
    lo = tuple(c * (1 - dark) for c in base)
    t = np.clip(d, 0, 1)
    mid = lerp_color(hi, base, np.clip(t * 2, 0, 1))
    return lerp_color(mid, lo, np.clip(t * 2 - 1, 0, 1)) * 1.0


# --------------------------------------------------------------------------
# Traits.  Each function draws into a Layer using its own seeded rng.
# --------------------------------------------------------------------------
def bg_sunset(L, rng):
    g = L.g
    L.paint(1.0, lerp_color(hsv(0.08, 0.75, 1.0), hsv(0.78, 0.7, 0.45), g.y))
    L.paint(disc(g, 0.5, 0.78, 0.22), hsv(0.12, 0.5, 1.0), 0.55)


def bg_ocean(L, rng):
    g = L.g
    L.paint(1.0, lerp_color(hsv(0.5, 0.35, 0.95), hsv(0.62, 0.9, 0.35),
                            np.hypot(g.x - 0.5, g.y - 0.35) / 0.8))
    for i in range(6):
        y = 0.55 + 0.07 * i
        wave = y + 0.015 * np.sin(g.x * (14 + i) + rng.uniform(0, 6.28))
        L.paint(_aa(wave - g.y, g) * _aa(g.y - wave - 0.012, g), (1, 1, 1), 0.18)


def bg_stripes(L, rng):
    g = L.g
    L.paint(1.0, hsv(0.42, 0.3, 0.92))
    s = np.sin((g.x + g.y) * math.pi * 22)
    L.paint(np.clip(s * 3 + 0.5, 0, 1), hsv(0.45, 0.45, 0.8), 0.8)


def bg_polka(L, rng):
    g = L.g
    L.paint(1.0, lerp_color(hsv(0.95, 0.25, 1.0), hsv(0.88, 0.35, 0.95), g.x))
    cell = 1.0 / 12
    fx = (g.x / cell) % 1.0 - 0.5
    fy = ((g.y / cell) + 0.5 * (np.floor(g.x / cell) % 2)) % 1.0 - 0.5
    d = np.hypot(fx, fy) * cell - cell * 0.22
    L.paint(_aa(d, g), (1, 1, 1), 0.7)


def bg_night(L, rng):
    g = L.g
    L.paint(1.0, lerp_color(hsv(0.66, 0.8, 0.12), hsv(0.72, 0.6, 0.35), g.y))
    for _ in range(160):
        cx, cy = rng.uniform(0, 1, 2)
        r = rng.uniform(0.0012, 0.0045)
        L.paint(disc(g, cx, cy, r), (1, 1, 0.9), rng.uniform(0.4, 1.0))
    L.paint(disc(g, 0.8, 0.18, 0.08), hsv(0.14, 0.15, 1.0))
    L.paint(disc(g, 0.83, 0.16, 0.075), hsv(0.66, 0.8, 0.14))


def bg_grid(L, rng):
    g = L.g
    L.paint(1.0, hsv(0.13, 0.08, 0.97))
    step = 1.0 / 25
    gx = np.abs(((g.x / step) % 1.0) - 0.5) * step
    gy = np.abs(((g.y / step) % 1.0) - 0.5) * step
    line = np.maximum(_aa(step / 2 - gx - 0.0012, g), _aa(step / 2 - gy - 0.0012, g))
    L.paint(line, hsv(0.58, 0.5, 0.75), 0.6)


def bg_aurora(L, rng):
    g = L.g
    L.paint(1.0, lerp_color(hsv(0.6, 0.9, 0.1), hsv(0.55, 0.7, 0.25), g.y))
    for k in range(4):
        ph = rng.uniform(0, 6.28)
        centre = 0.25 + 0.12 * k + 0.05 * np.sin(g.x * 7 + ph)
        band = np.exp(-((g.y - centre) / 0.05) ** 2)
        L.paint(band, hsv(0.33 + 0.08 * k, 0.8, 0.95), 0.45)


def _torso_and_head(L, col, head_shape="ellipse"):
    g = L.g
    L.paint(ellipse(g, 0.5, 1.02, 0.36, 0.25), shaded(g, col, 0.4, 0.85, 0.5))
    L.paint(box(g, 0.43, 0.62, 0.57, 0.82, 0.02), shaded(g, col, 0.47, 0.7, 0.3, 0.6))
    if head_shape == "ellipse":
        L.paint(ellipse(g, 0.5, 0.45, 0.22, 0.26), shaded(g, col, 0.42, 0.33, 0.45))
    else:
        L.paint(box(g, 0.29, 0.2, 0.71, 0.7, 0.06), shaded(g, col, 0.4, 0.3, 0.6, 0.35))


def body_pale(L, rng):
    _torso_and_head(L, hsv(0.07, 0.22, 0.98))


def body_tan(L, rng):
    _torso_and_head(L, hsv(0.07, 0.45, 0.78))


def body_alien(L, rng):
    g = L.g
    _torso_and_head(L, hsv(0.3, 0.55, 0.8))
    for cx in (0.38, 0.62):
        L.paint(polyline(g, [(cx, 0.25), (cx + (cx - 0.5) * 0.4, 0.1)], 0.012), hsv(0.3, 0.6, 0.6))
        L.paint(disc(g, cx + (cx - 0.5) * 0.4, 0.1, 0.025), hsv(0.95, 0.6, 0.95))


def body_robot(L, rng):
    g = L.g
    _torso_and_head(L, hsv(0.58, 0.2, 0.75), head_shape="box")
    for cx, cy in ((0.33, 0.24), (0.67, 0.24), (0.33, 0.66), (0.67, 0.66)):
        L.paint(disc(g, cx, cy, 0.014), hsv(0.58, 0.1, 0.45))
    L.paint(box(g, 0.36, 0.58, 0.64, 0.6), hsv(0.58, 0.2, 0.5), 0.7)


def body_zombie(L, rng):
    g = L.g
    _torso_and_head(L, hsv(0.25, 0.35, 0.62))
    for _ in range(5):
        cx, cy = 0.5 + rng.uniform(-0.14, 0.14), 0.45 + rng.uniform(-0.16, 0.16)
        pts = [(cx + 0.04 * math.cos(t) * rng.uniform(0.6, 1.2),
                cy + 0.03 * math.sin(t) * rng.uniform(0.6, 1.2))
               for t in np.linspace(0, 2 * math.pi, 9)[:-1]]
        L.paint(polygon(g, pts), hsv(0.2, 0.5, 0.4), 0.55)


def body_golden(L, rng):
    g = L.g
    _torso_and_head(L, hsv(0.12, 0.75, 0.95))
    L.paint(ellipse(g, 0.42, 0.32, 0.06, 0.03, -0.5), (1, 1, 1), 0.5)
    for _ in range(12):
        cx, cy = rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.9)
        L.paint(polygon(g, star(cx, cy, 0.015, 0.005, 4)), (1, 1, 0.85), 0.8)


def _eye_whites(L, r=0.055):
    g = L.g
    for cx in (0.41, 0.59):
        L.paint(ellipse(g, cx, 0.42, r, r * 0.8), (0.98, 0.98, 0.98))
    return (0.41, 0.59)


def eyes_round(L, rng):
    g = L.g
    for cx in _eye_whites(L):
        L.paint(disc(g, cx + 0.01, 0.425, 0.028), hsv(0.55, 0.7, 0.6))
        L.paint(disc(g, cx + 0.01, 0.425, 0.013), (0.05, 0.05, 0.08))
        L.paint(disc(g, cx + 0.0, 0.415, 0.006), (1, 1, 1), 0.9)


def eyes_sleepy(L, rng):
    g = L.g
    for cx in _eye_whites(L):
        L.paint(disc(g, cx, 0.43, 0.022), hsv(0.08, 0.6, 0.4))
        L.paint(ellipse(g, cx, 0.42, 0.058, 0.046) * half_plane(g, 0.425, below=False),
                hsv(0.07, 0.3, 0.8))
        L.paint(polyline(g, [(cx - 0.055, 0.425), (cx + 0.055, 0.425)], 0.006), (0.2, 0.1, 0.1))


def eyes_laser(L, rng):
    g = L.g
    for cx in _eye_whites(L):
        L.paint(disc(g, cx, 0.42, 0.03), (1.0, 0.1, 0.1))
        beam = polygon(g, [(cx, 0.41), (1.05, 0.37 + (cx - 0.5) * 0.3),
                           (1.05, 0.47 + (cx - 0.5) * 0.3), (cx, 0.43)])
        L.paint(beam, (1.0, 0.2, 0.15), 0.55)
        glow = np.exp(-(np.hypot(g.x - cx, g.y - 0.42) / 0.06) ** 2)
        L.paint(glow, (1.0, 0.5, 0.4), 0.7)


def eyes_shades(L, rng):
    g = L.g
    for cx in (0.41, 0.59):
        lens = polygon(g, [(cx - 0.075, 0.385), (cx + 0.075, 0.385),
                           (cx + 0.06, 0.465), (cx - 0.06, 0.465)])
        L.paint(lens, lerp_color((0.1, 0.1, 0.2), (0.4, 0.1, 0.5), (g.y - 0.38) / 0.09), 0.82)
        L.paint(polyline(g, [(cx - 0.05, 0.4), (cx - 0.02, 0.395)], 0.006), (1, 1, 1), 0.6)
    L.paint(polyline(g, [(0.335, 0.39), (0.665, 0.39)], 0.01), (0.05, 0.05, 0.05))


def eyes_cyclops(L, rng):
    g = L.g
    L.paint(ellipse(g, 0.5, 0.41, 0.09, 0.07), (0.98, 0.98, 0.96))
    L.paint(disc(g, 0.5, 0.41, 0.045), lerp_color(hsv(0.8, 0.8, 0.9), hsv(0.6, 0.9, 0.5),
                                                  np.hypot(g.x - 0.5, g.y - 0.41) / 0.045))
    L.paint(ellipse(g, 0.5, 0.41, 0.008, 0.03), (0, 0, 0))


def eyes_hearts(L, rng):
    g = L.g
    for cx in (0.41, 0.59):
        col = hsv(0.97, 0.85, 0.95)
        L.paint(disc(g, cx - 0.022, 0.405, 0.027), col)
        L.paint(disc(g, cx + 0.022, 0.405, 0.027), col)
        L.paint(polygon(g, [(cx - 0.047, 0.415), (cx + 0.047, 0.415), (cx, 0.47)]), col)
        L.paint(disc(g, cx - 0.03, 0.398, 0.008), (1, 1, 1), 0.7)


def eyes_wink(L, rng):
    g = L.g
    L.paint(ellipse(g, 0.41, 0.42, 0.055, 0.044), (0.98, 0.98, 0.98))
    L.paint(disc(g, 0.415, 0.425, 0.026), hsv(0.33, 0.6, 0.5))
    L.paint(disc(g, 0.415, 0.425, 0.012), (0, 0, 0))
    L.paint(polyline(g, [(0.54, 0.43), (0.59, 0.41), (0.64, 0.43)], 0.01), (0.15, 0.08, 0.05))


def mouth_smile(L, rng):
    g = L.g
    L.paint(ring(g, 0.5, 0.5, 0.09, 0.014) * half_plane(g, 0.53, below=True), (0.35, 0.1, 0.1))


def mouth_flat(L, rng):
    L.paint(box(L.g, 0.44, 0.585, 0.56, 0.6, 0.007), (0.3, 0.1, 0.1))


def mouth_open(L, rng):
    g = L.g
    L.paint(ellipse(g, 0.5, 0.6, 0.05, 0.035), (0.25, 0.02, 0.05))
    L.paint(ellipse(g, 0.5, 0.62, 0.03, 0.015) * ellipse(g, 0.5, 0.6, 0.05, 0.035),
            hsv(0.97, 0.5, 0.95))


def mouth_teeth(L, rng):
    g = L.g
    L.paint(box(g, 0.43, 0.575, 0.57, 0.615, 0.012), (0.97, 0.96, 0.9))
    for i in range(1, 7):
        x = 0.43 + 0.14 * i / 7
        L.paint(box(g, x - 0.0015, 0.575, x + 0.0015, 0.615), (0.5, 0.5, 0.5), 0.8)
    L.paint(polyline(g, [(0.43, 0.595), (0.57, 0.595)], 0.003), (0.5, 0.5, 0.5))


def mouth_pipe(L, rng):
    g = L.g
    L.paint(mouth_flat_cover(g), (0.3, 0.1, 0.1))
    L.paint(polyline(g, [(0.54, 0.595), (0.64, 0.63), (0.68, 0.63)], 0.016), hsv(0.07, 0.7, 0.4))
    L.paint(box(g, 0.66, 0.56, 0.71, 0.64, 0.01), hsv(0.07, 0.7, 0.35))
    for i in range(5):
        L.paint(disc(g, 0.69 + 0.02 * math.sin(i * 1.3), 0.53 - 0.045 * i, 0.018 + 0.006 * i),
                (0.85, 0.85, 0.88), 0.35 - 0.05 * i)


def mouth_flat_cover(g):
    return box(g, 0.46, 0.59, 0.56, 0.6, 0.005)


def mouth_fangs(L, rng):
    g = L.g
    L.paint(mouth_flat_cover(g), (0.3, 0.1, 0.1))
    for cx in (0.475, 0.535):
        L.paint(polygon(g, [(cx - 0.012, 0.598), (cx + 0.012, 0.598), (cx, 0.64)]), (1, 1, 1))


def hw_none(L, rng):
    pass


def hw_cap(L, rng):
    g = L.g
    col = hsv(rng.uniform(), 0.75, 0.85)
    L.paint(ellipse(g, 0.5, 0.27, 0.23, 0.15) * half_plane(g, 0.27, below=False), shaded(g, col, 0.42, 0.15, 0.35))
    L.paint(ellipse(g, 0.62, 0.27, 0.2, 0.035), tuple(c * 0.8 for c in col))
    L.paint(disc(g, 0.5, 0.12, 0.015), (1, 1, 1))


def hw_crown(L, rng):
    g = L.g
    pts = [(0.33, 0.28), (0.33, 0.12), (0.39, 0.2), (0.45, 0.08), (0.5, 0.18),
           (0.55, 0.08), (0.61, 0.2), (0.67, 0.12), (0.67, 0.28)]
    L.paint(polygon(g, pts), lerp_color(hsv(0.13, 0.9, 1.0), hsv(0.1, 0.9, 0.7), (g.y - 0.08) / 0.2))
    for i, cx in enumerate((0.39, 0.5, 0.61)):
        L.paint(disc(g, cx, 0.245, 0.02), hsv(0.33 * i, 0.8, 0.9))
        L.paint(disc(g, cx - 0.006, 0.24, 0.006), (1, 1, 1), 0.7)


def hw_beanie(L, rng):
    g = L.g
    cover = ellipse(g, 0.5, 0.3, 0.235, 0.2) * half_plane(g, 0.3, below=False)
    stripes = (np.sin(g.y * math.pi * 40) > 0).astype(np.float32)
    L.paint(cover, lerp_color(hsv(0.0, 0.7, 0.8), hsv(0.6, 0.6, 0.9), stripes))
    L.paint(box(g, 0.26, 0.26, 0.74, 0.32, 0.02), hsv(0.0, 0.1, 0.95))
    L.paint(disc(g, 0.5, 0.1, 0.035), hsv(0.0, 0.1, 0.95))


def hw_halo(L, rng):
    g = L.g
    L.paint(np.exp(-(np.abs(np.hypot((g.x - 0.5) / 1.0, (g.y - 0.12) / 0.3) - 0.17) / 0.02) ** 2),
            hsv(0.14, 0.5, 1.0), 0.55)
    L.paint(ellipse(g, 0.5, 0.12, 0.17, 0.05) * (1 - ellipse(g, 0.5, 0.12, 0.145, 0.032)),
            hsv(0.14, 0.7, 1.0))


def hw_tophat(L, rng):
    g = L.g
    L.paint(box(g, 0.37, 0.02, 0.63, 0.26), lerp_color((0.05, 0.05, 0.07), (0.22, 0.22, 0.26), g.x))
    L.paint(box(g, 0.37, 0.2, 0.63, 0.24), hsv(0.0, 0.8, 0.7))
    L.paint(ellipse(g, 0.5, 0.265, 0.23, 0.03), (0.08, 0.08, 0.1))


def hw_horns(L, rng):
    g = L.g
    for s in (-1, 1):
        pts = [(0.5 + s * 0.12, 0.26), (0.5 + s * 0.2, 0.24), (0.5 + s * 0.3, 0.05),
               (0.5 + s * 0.22, 0.16)]
        L.paint(polygon(g, pts), lerp_color(hsv(0.08, 0.3, 0.95), hsv(0.05, 0.6, 0.4), (0.26 - g.y) / 0.2))


def hw_bandana(L, rng):
    g = L.g
    col = hsv(rng.uniform(), 0.8, 0.75)
    L.paint(ellipse(g, 0.5, 0.3, 0.225, 0.14) * half_plane(g, 0.31, below=False), col)
    L.paint(polygon(g, [(0.7, 0.28), (0.82, 0.24), (0.8, 0.34)]), col)
    for _ in range(20):
        cx, cy = rng.uniform(0.32, 0.68), rng.uniform(0.2, 0.3)
        L.paint(disc(g, cx, cy, 0.007), (1, 1, 1), 0.85)


def acc_none(L, rng):
    pass


def acc_earring(L, rng):
    g = L.g
    L.paint(ring(g, 0.285, 0.53, 0.022, 0.006), hsv(0.13, 0.8, 1.0))
    L.paint(disc(g, 0.285, 0.555, 0.01), hsv(0.5, 0.7, 0.9))


def acc_necklace(L, rng):
    g = L.g
    for i in range(23):
        t = math.pi * (0.15 + 0.7 * i / 22)
        cx, cy = 0.5 + 0.15 * math.cos(t), 0.72 + 0.1 * math.sin(t)
        L.paint(disc(g, cx, cy, 0.011), hsv(0.55 + 0.02 * i, 0.3, 0.95))
    L.paint(polygon(g, star(0.5, 0.83, 0.03, 0.013)), hsv(0.12, 0.85, 1.0))


def acc_bubble(L, rng):
    g = L.g
    L.paint(disc(g, 0.6, 0.6, 0.06), hsv(0.92, 0.4, 1.0), 0.55)
    L.paint(ring(g, 0.6, 0.6, 0.06, 0.004), hsv(0.92, 0.5, 0.9), 0.8)
    L.paint(ellipse(g, 0.58, 0.575, 0.015, 0.008, -0.6), (1, 1, 1), 0.8)


def acc_scar(L, rng):
    g = L.g
    L.paint(polyline(g, [(0.34, 0.33), (0.4, 0.4), (0.44, 0.5)], 0.01), hsv(0.0, 0.6, 0.55), 0.85)
    for t in (0.25, 0.5, 0.75):
        x, y = 0.34 + 0.1 * t, 0.33 + 0.17 * t
        L.paint(polyline(g, [(x - 0.018, y + 0.01), (x + 0.018, y - 0.01)], 0.005), hsv(0.0, 0.5, 0.5))


def acc_sparkles(L, rng):
    g = L.g
    for _ in range(18):
        cx, cy = rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95)
        r = rng.uniform(0.012, 0.035)
        L.paint(polygon(g, star(cx, cy, r, r * 0.3, 4, rng.uniform(0, 0.8))),
                hsv(rng.uniform(0.1, 0.2), 0.3, 1.0), rng.uniform(0.5, 0.95))


def frame_none(L, rng):
    pass


def frame_gold(L, rng):
    g = L.g
    outer = box(g, 0.0, 0.0, 1.0, 1.0)
    inner = box(g, 0.03, 0.03, 0.97, 0.97, 0.01)
    L.paint(outer * (1 - inner), lerp_color(hsv(0.13, 0.8, 1.0), hsv(0.1, 0.9, 0.6), (g.x + g.y) / 2))


def frame_vignette(L, rng):
    g = L.g
    d = np.hypot(g.x - 0.5, g.y - 0.5) / 0.72
    L.paint(np.clip((d - 0.55) / 0.45, 0, 1) ** 1.5, (0, 0, 0), 0.85)


def frame_film(L, rng):
    g = L.g
    bars = np.maximum(_aa(g.x - 0.07, g), _aa(0.93 - g.x, g))
    holes = np.zeros_like(bars)
    for i in range(12):
        cy = (i + 0.5) / 12
        holes = np.maximum(holes, box(g, 0.02, cy - 0.02, 0.05, cy + 0.02, 0.006))
        holes = np.maximum(holes, box(g, 0.95, cy - 0.02, 0.98, cy + 0.02, 0.006))
    L.paint(bars * (1 - holes), (0.06, 0.06, 0.06))


def frame_neon(L, rng):
    g = L.g
    edge = np.minimum(np.minimum(g.x, 1 - g.x), np.minimum(g.y, 1 - g.y))
    glow = np.exp(-((edge - 0.03) / 0.018) ** 2)
    L.paint(glow, lerp_color(hsv(0.85, 0.9, 1.0), hsv(0.5, 0.9, 1.0), g.y), 0.9)


TRAITS = {
    "Background": [("Sunset", 20, bg_sunset), ("Ocean", 18, bg_ocean), ("Mint Stripes", 15, bg_stripes),
                   ("Polka", 14, bg_polka), ("Night Sky", 12, bg_night), ("Grid Paper", 12, bg_grid),
                   ("Aurora", 9, bg_aurora)],
    "Body": [("Pale", 30, body_pale), ("Tan", 30, body_tan), ("Alien", 12, body_alien),
             ("Robot", 12, body_robot), ("Zombie", 10, body_zombie), ("Golden", 6, body_golden)],
    "Eyes": [("Round", 30, eyes_round), ("Sleepy", 20, eyes_sleepy), ("Laser", 8, eyes_laser),
             ("Shades", 15, eyes_shades), ("Cyclops", 7, eyes_cyclops), ("Hearts", 10, eyes_hearts),
             ("Wink", 10, eyes_wink)],
    "Mouth": [("Smile", 30, mouth_smile), ("Flat", 25, mouth_flat), ("Open", 15, mouth_open),
              ("Teeth", 12, mouth_teeth), ("Pipe", 8, mouth_pipe), ("Fangs", 10, mouth_fangs)],
    "Headwear": [("None", 25, hw_none), ("Cap", 15, hw_cap), ("Crown", 5, hw_crown),
                 ("Beanie", 15, hw_beanie), ("Halo", 8, hw_halo), ("Top Hat", 10, hw_tophat),
                 ("Horns", 10, hw_horns), ("Bandana", 12, hw_bandana)],
    "Accessory": [("None", 35, acc_none), ("Earring", 15, acc_earring), ("Necklace", 15, acc_necklace),
                  ("Bubble", 12, acc_bubble), ("Scar", 10, acc_scar), ("Sparkles", 13, acc_sparkles)],
    "Frame": [("None", 40, frame_none), ("Thin Gold", 20, frame_gold), ("Vignette", 20, frame_vignette),
              ("Film", 10, frame_film), ("Neon", 10, frame_neon)],
}


# --------------------------------------------------------------------------
# Extras for the example collection (--with-extras)
# --------------------------------------------------------------------------
def glow_warm(L, rng):
    g = L.g
    L.paint(np.exp(-(np.hypot(g.x - 0.5, g.y - 0.42) / 0.32) ** 2), hsv(0.09, 0.55, 1.0), 0.75)


def glow_cool(L, rng):
    g = L.g
    halo = np.exp(-((np.hypot(g.x - 0.5, g.y - 0.45) - 0.3) / 0.05) ** 2)
    L.paint(halo, hsv(0.55, 0.6, 1.0), 0.7)


def glow_none(L, rng):
    pass


GLOW = [("None", 20, glow_none), ("Warm", 10, glow_warm), ("Cool Rim", 8, glow_cool)]
SPARKLE_FRAMES = 8


def sparkle_frame(L, rng, frame):
    """Stars at fixed places (same rng draws each frame), each pulsing with its own phase."""
    g = L.g
    for _ in range(14):
        cx, cy = rng.uniform(0.08, 0.92), rng.uniform(0.08, 0.92)
        r = rng.uniform(0.015, 0.035)
        phase = rng.uniform(0, 1)
        pulse = 0.5 + 0.5 * math.cos(2 * math.pi * (frame / SPARKLE_FRAMES + phase))
        if pulse < 0.05:
            continue
        L.paint(polygon(g, star(cx, cy, r * (0.4 + 0.6 * pulse), r * 0.25, 4, 0.3)),
                hsv(0.14, 0.25, 1.0), 0.35 + 0.6 * pulse)


def write_extras(g, out_dir):
    total = 0
    d = os.path.join(out_dir, "Glow")
    os.makedirs(d, exist_ok=True)
    for ti, (name, weight, fn) in enumerate(GLOW):
        L = Layer(g)
        fn(L, np.random.default_rng([SEED, 100, ti]))
        L.to_image().save(os.path.join(d, f"{name}#{weight}.png"))
        total += 1
    d = os.path.join(out_dir, "Accessory", "Sparkle Loop#6")
    os.makedirs(d, exist_ok=True)
    for frame in range(SPARKLE_FRAMES):
        L = Layer(g)
        sparkle_frame(L, np.random.default_rng([SEED, 101]), frame)
        L.to_image().save(os.path.join(d, f"{frame}.png"))
        total += 1
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--with-extras", action="store_true")
    args = ap.parse_args(argv)
    if args.size < 16:
        ap.error("--size must be >= 16")

    g = Grid(args.size)
    total = 0
    for li, layer in enumerate(LAYER_ORDER):
        d = os.path.join(args.out_dir, layer)
        os.makedirs(d, exist_ok=True)
        for ti, (name, weight, fn) in enumerate(TRAITS[layer]):
            rng = np.random.default_rng([SEED, li, ti])
            L = Layer(g)
            fn(L, rng)
            L.to_image().save(os.path.join(d, f"{name}#{weight}.png"))
            total += 1
    if args.with_extras:
        total += write_extras(g, args.out_dir)
    print(f"wrote {total} trait PNGs ({args.size}x{args.size} RGBA) in "
          f"{len(LAYER_ORDER)} layers under {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
