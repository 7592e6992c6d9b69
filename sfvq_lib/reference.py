"""The paper's published curves and directions (``data/reference/official-sfvq``).

Vali & Bäckström published SFVQ curves fitted to the W space of NVIDIA's StyleGAN2
FFHQ and AFHQ models (2–8 bits, 512-d) and the interpretable directions they found,
with the W+ layer range of each. Twelve of those directions are exactly one line of a
published curve (``exact_directions.csv``); `reproduce_directions` recomputes them
with `sfvq_lib.curve.line_directions`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from . import curve

__all__ = ["REFERENCE_DIR", "codebooks", "directions", "layer_ranges", "reproduce_directions"]

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "reference" / "official-sfvq"
GANS = ("ffhq", "afhq")


def _gan_dir(gan: str) -> Path:
    if gan not in GANS:
        raise ValueError(f"gan must be one of {GANS}, got {gan!r}")
    return REFERENCE_DIR / f"stylegan2-{gan}"


def codebooks(gan: str) -> dict[int, np.ndarray]:
    """bits → published codebook (2**bits, 512), corner points in curve order."""
    folder = _gan_dir(gan) / "codebooks"
    out = {}
    for path in folder.glob("codebook_*bit.npy"):
        out[int(re.search(r"_(\d+)bit", path.name).group(1))] = np.load(path)
    return dict(sorted(out.items()))


def directions(gan: str) -> dict[str, np.ndarray]:
    """Published direction name → unit vector (512,)."""
    return {p.stem: np.load(p) for p in sorted((_gan_dir(gan) / "directions").glob("*.npy"))}


def layer_ranges(gan: str) -> dict[str, tuple[int, int]]:
    """Published direction name (lower case) → inclusive W+ layer range."""
    out = {}
    for line in (_gan_dir(gan) / "layers.txt").read_text().splitlines():
        m = re.match(r"\s*([A-Za-z_ ]+):\s*W(\d+)\s*-\s*W(\d+)\s*$", line)
        if m:
            out[m.group(1).strip().lower()] = (int(m.group(2)), int(m.group(3)))
    return out


def reproduce_directions() -> list[dict]:
    """Each exact published direction recomputed from its curve line.

    Returns one dict per direction: gan, direction, bits, line (0-based), sign and
    ``cosine`` between the published vector and ``sign`` × our line direction.
    """
    rows = []
    with open(REFERENCE_DIR / "exact_directions.csv") as f:
        for row in csv.DictReader(f):
            bits, line = int(row["bits"]), int(row["line"])
            sign = 1.0 if row["sign"] == "+" else -1.0
            ours = sign * curve.line_directions(codebooks(row["gan"])[bits])[line].astype(np.float64)
            published = np.load(REFERENCE_DIR / row["file"]).astype(np.float64)
            cos = float(ours @ published / (np.linalg.norm(ours) * np.linalg.norm(published)))
            rows.append(
                {
                    "gan": row["gan"],
                    "direction": row["direction"],
                    "bits": bits,
                    "line": line,
                    "sign": row["sign"],
                    "cosine": cos,
                }
            )
    return rows
