"""Panoptic reading of a curve: which stretches of it hold which factors.

On our shapes GANs the factor probe reads each decoded corner point; `shape_runs`
then splits the curve into stretches where one shape wins.
"""

from __future__ import annotations

import functools

import numpy as np

from .data import SHAPES

__all__ = ["factor_changes", "read_corners", "shape_runs", "shape_runs_markdown"]


def read_corners(g, codebook, spec: str, class_=None) -> dict | None:
    """The probe's reading of the decoded corner points (curve order), or None when
    ``spec`` is not one of our shapes GANs (no probe knows its factors)."""
    if not spec.startswith("builtin:shapes"):
        return None
    from .probe import read_factors

    images = g.synthesize(np.asarray(codebook, dtype=np.float32), space=g.default_space, class_=class_)
    return read_factors(_shipped_probe(g.img_resolution), np.clip(images, -1, 1))


@functools.lru_cache(maxsize=2)
def _shipped_probe(resolution: int):
    """The shipped probe, read from disk once (chapters read many sets of images)."""
    from .probe import load_probe

    return load_probe(resolution=resolution)


def shape_runs(readings: dict, min_length: int = 1) -> list[tuple[int, int, str, float]]:
    """Maximal stretches of consecutive corner points with the same most likely shape.

    Returns (first, last, shape, mean probability) with 1-based, inclusive corner
    numbers, for the stretches of at least ``min_length`` points.
    """
    best = readings["shape_prob"].argmax(1)
    runs, start = [], 0
    for i in range(1, len(best) + 1):
        if i == len(best) or best[i] != best[start]:
            if i - start >= min_length:
                p = float(readings["shape_prob"][start:i, best[start]].mean())
                runs.append((start + 1, i, SHAPES[best[start]], p))
            start = i
    return runs


def shape_runs_markdown(readings: dict, min_length: int = 1) -> str:
    """`shape_runs` as a Markdown table."""
    rows = ["| corner points | shape | mean probability |", "|---|---|---|"]
    rows += [f"| {a}–{b} | {s} | {p:.2f} |" for a, b, s, p in shape_runs(readings, min_length)]
    return "\n".join(rows) if len(rows) > 2 else "No stretch of the curve is held by one shape."


def factor_changes(before: dict, after: dict) -> dict[str, float]:
    """Mean change of each factor between two probe readings of the same samples, as a
    share of the factor's range (hues on the circle; shape: how often it flips)."""
    from .data import FACTORS

    out = {"shape": float((before["shape"] != after["shape"]).mean())}
    for f in FACTORS[1:]:
        d = np.abs(after[f.name] - before[f.name]) / (f.high - f.low)
        if f.kind == "circular":
            d = np.minimum(d, 1 - d)
        out[f.name] = float(d.mean())
    return out
