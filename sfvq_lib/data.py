"""A procedural image dataset with known, independent generative factors.

Like DeepMind's 3D Shapes or dSprites, every image is rendered from a handful of
factor values, so what a GAN (and a direction in its latent space) does can be
measured against ground truth. Images are rendered on the fly (nothing is stored),
deterministically from a seed, as NCHW float32 in [-1, 1] (the GANs' output range).

Factors (`FACTORS`):

========== =========== ===================================================
name       kind        values
========== =========== ===================================================
shape      categorical 0 square, 1 disc, 2 triangle, 3 heart
obj_hue    circular    [0, 1): hue of the object (bright, saturated)
bg_hue     circular    [0, 1): hue of the background (dark, muted)
scale      continuous  [0.6, 1]: object size relative to the largest
rotation   continuous  [-30°, 30°] in radians: unique for every shape but the
                       disc (square: 90°, triangle: 120° symmetric), with
                       room to spare at both ends
x, y       continuous  [0.3, 0.7]: object centre, fraction of the width
                       (x to the right, y downward)
========== =========== ===================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ._validation import check_int

__all__ = ["FACTORS", "SHAPES", "Factor", "ShapesDataset", "hsv_to_rgb"]

SHAPES = ("square", "disc", "triangle", "heart")


@dataclass(frozen=True)
class Factor:
    """One generative factor: its name, kind and range."""

    name: str
    kind: str  # "categorical", "circular" (wraps at `high`) or "continuous"
    low: float
    high: float

    @property
    def n_classes(self) -> int | None:
        return int(self.high) if self.kind == "categorical" else None


FACTORS = (
    Factor("shape", "categorical", 0, len(SHAPES)),
    Factor("obj_hue", "circular", 0.0, 1.0),
    Factor("bg_hue", "circular", 0.0, 1.0),
    Factor("scale", "continuous", 0.6, 1.0),
    Factor("rotation", "continuous", -np.pi / 6, np.pi / 6),
    Factor("x", "continuous", 0.3, 0.7),
    Factor("y", "continuous", 0.3, 0.7),
)
FACTOR_NAMES = tuple(f.name for f in FACTORS)

# Half-size of the largest object, as a fraction of the image width.
_MAX_HALF = 0.28
_OBJ_SV = (0.85, 0.95)  # saturation, value
_BG_SV = (0.45, 0.35)


def hsv_to_rgb(h: np.ndarray, s: float, v: float) -> np.ndarray:
    """HSV to RGB for arrays of hue in [0, 1): shape (...,) -> (..., 3) in [0, 1]."""
    h = np.mod(h, 1.0)[..., None]
    k = np.mod(np.array([5.0, 3.0, 1.0]) + h * 6.0, 6.0)  # (..., 3)
    return v - v * s * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Is the object-frame point (u, v) inside the unit ``shape``? Same-shape bool array.

    Every shape fits in the square [-1, 1]² (the square's corners reach 1.13 when
    rotated); v points down the image.
    """
    if shape == 0:  # square
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8
    if shape == 1:  # disc
        return u * u + v * v <= 0.85**2
    if shape == 2:  # equilateral triangle, apex up, centred on its centroid, circumradius 1
        return (v <= 0.5) & (np.sqrt(3) * u - v <= 1.0) & (-np.sqrt(3) * u - v <= 1.0)
    # heart: (x² + y² − 1)³ − x² y³ ≤ 0 with y up, scaled into the unit box
    hx, hy = u * 1.15, -v * 1.15 + 0.15
    return (hx * hx + hy * hy - 1.0) ** 3 - hx * hx * hy**3 <= 0.0


class ShapesDataset:
    """Renderer of the procedural shapes dataset.

    Parameters
    ----------
    resolution : int, default 32
        Image width and height in pixels (32 or 64 are the intended sizes).
    supersample : int, default 4
        Sub-pixel samples per axis, for anti-aliased edges.

    Examples
    --------
    >>> ds = ShapesDataset(32)
    >>> images, factors = ds.sample(8, seed=0)
    >>> images.shape, sorted(factors)[:2]
    ((8, 3, 32, 32), ['bg_hue', 'obj_hue'])
    """

    factors = FACTORS

    def __init__(self, resolution: int = 32, supersample: int = 4):
        self.resolution = check_int(resolution, "resolution", 8)
        self.supersample = check_int(supersample, "supersample", 1)

    def sample_factors(self, n: int, seed=None) -> dict[str, np.ndarray]:
        """Independent uniform factor values for ``n`` images (a dict of (n,) arrays)."""
        n = check_int(n, "n", 0)
        rng = np.random.default_rng(seed)
        out = {}
        for f in FACTORS:
            if f.kind == "categorical":
                out[f.name] = rng.integers(0, f.n_classes, n)
            else:
                out[f.name] = rng.uniform(f.low, f.high, n)
        return out

    def render(self, factors: dict[str, np.ndarray]) -> np.ndarray:
        """Render images from factor values.

        Parameters
        ----------
        factors : dict of (n,) arrays
            One entry per name in `FACTOR_NAMES`.

        Returns
        -------
        ndarray, shape (n, 3, resolution, resolution), float32 in [-1, 1]
        """
        missing = [name for name in FACTOR_NAMES if name not in factors]
        if missing:
            raise ValueError(f"factors lacks {missing}; give all of {list(FACTOR_NAMES)}")
        shape = np.asarray(factors["shape"]).astype(np.int64)
        n = len(shape)
        if n and (shape.min() < 0 or shape.max() >= len(SHAPES)):
            raise ValueError(f"shape must be in 0..{len(SHAPES) - 1}, got {shape.min()}..{shape.max()}")
        r, ss = self.resolution, self.supersample
        g = (np.arange(r * ss) + 0.5) / (r * ss)  # sub-pixel centres in [0, 1]
        py, px = np.meshgrid(g.astype(np.float32), g.astype(np.float32), indexing="ij")
        px, py = px.reshape(1, -1), py.reshape(1, -1)  # (1, p)
        col = lambda name: np.asarray(factors[name], dtype=np.float32).reshape(-1, 1)  # noqa: E731
        half = _MAX_HALF * col("scale")
        dx, dy = (px - col("x")) / half, (py - col("y")) / half  # (n, p)
        c, s = np.cos(col("rotation")), np.sin(col("rotation"))
        u, v = c * dx + s * dy, -s * dx + c * dy  # rotate the image into the object frame
        inside = np.zeros(u.shape, dtype=bool)  # (n, p)
        for k in range(len(SHAPES)):
            rows = shape == k
            if rows.any():
                inside[rows] = _inside(k, u[rows], v[rows])
        cover = inside.reshape(n, r, ss, r, ss).mean(axis=(2, 4), dtype=np.float32)  # (n, r, r)
        obj = hsv_to_rgb(col("obj_hue")[:, 0], *_OBJ_SV)[:, :, None, None]  # (n, 3, 1, 1)
        bg = hsv_to_rgb(col("bg_hue")[:, 0], *_BG_SV)[:, :, None, None]
        img = bg + (obj - bg) * cover[:, None]  # (n, 3, r, r) in [0, 1]
        return (img * 2.0 - 1.0).astype(np.float32)

    def sample(self, n: int, seed=None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``n`` random images and their factors (deterministic for a given seed)."""
        factors = self.sample_factors(n, seed)
        return self.render(factors), factors

    def batches(self, batch_size: int, seed=None) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """An endless stream of random batches (for GAN and probe training)."""
        check_int(batch_size, "batch_size", 1)
        rng = np.random.default_rng(seed)
        while True:
            yield self.sample(batch_size, seed=rng.integers(2**63))
