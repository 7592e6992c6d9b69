"""Interpretable directions from a curve: choosing lines, layer ranges and sweeps.

The unit vector of one curve line ``c[i+1] - c[i]`` is an edit direction in W; the
paper applies it, scaled by σ, to a hand-picked range of W+ layers. Here lines are
picked without labels (`pick_lines`), the layer range is measured (`layer_effect`,
`suggest_layers`), and σ is in units of the samples' standard deviation along the
direction (`direction_scale`), so steps are comparable between directions.
"""

from __future__ import annotations

import numpy as np

from . import curve

__all__ = ["direction_scale", "layer_effect", "pick_lines", "suggest_layers", "sweep"]


def pick_lines(codebook, t, k: int) -> np.ndarray:
    """The ``k`` longest lines among those that hold at least a median share of samples.

    ``t``: the samples' fractional curve indices on this codebook. A long line spans
    a large change of w; requiring samples on it keeps lines through empty space
    out. Returns 0-based line indices, longest first.
    """
    lengths = np.asarray(curve.line_lengths(codebook), dtype=np.float64)
    n_lines = len(lengths)
    line = np.clip(np.floor(np.asarray(t)).astype(int), 0, n_lines - 1)
    usage = np.bincount(line, minlength=n_lines)
    eligible = np.flatnonzero(usage >= np.median(usage))
    order = eligible[np.argsort(-lengths[eligible], kind="stable")]
    return order[:k]


def direction_scale(X, direction) -> float:
    """Standard deviation of the samples along ``direction`` (the unit of σ)."""
    d = np.asarray(direction, dtype=np.float64)
    return float(np.std(np.asarray(X, dtype=np.float64) @ (d / np.linalg.norm(d))))


def layer_effect(g, w, direction, step: float) -> np.ndarray:
    """Mean absolute pixel change when ``step · direction`` is added to one W+ layer.

    Returns (num_ws,): entry l for the edit of layer l alone, averaged over the
    samples ``w`` (n, w_dim) and over ±step.
    """
    base = g.synthesize(w, space="w")
    edits = [
        g.edit(w, direction, layers=(layer, layer), sigma=s)
        for layer in range(g.num_ws)
        for s in (-step, step)
    ]
    edited = g.synthesize(np.concatenate(edits), space="w")  # one call: full batches
    change = np.abs(edited.reshape(len(edits), *base.shape) - base).reshape(len(edits), -1).mean(1)
    return change.reshape(g.num_ws, 2).mean(1)


def suggest_layers(effect, share: float = 0.6) -> tuple[int, int]:
    """The shortest contiguous layer range around the strongest layer that holds at
    least ``share`` of the total effect (grown toward the stronger neighbour)."""
    e = np.asarray(effect, dtype=np.float64)
    if not 0 < share <= 1:
        raise ValueError(f"share must lie in (0, 1], got {share}")
    lo = hi = int(np.argmax(e))
    while e[lo : hi + 1].sum() < share * e.sum():
        left = e[lo - 1] if lo > 0 else -np.inf
        right = e[hi + 1] if hi + 1 < len(e) else -np.inf
        if left >= right:
            lo -= 1
        else:
            hi += 1
    return lo, hi


def sweep(g, w, direction, layers, sigmas, step: float) -> np.ndarray:
    """Images of ``w`` edited at every σ: (n_samples · n_sigmas, H, W, C) uint8, row-major
    (one row per sample). ``layers``: an inclusive range or a list of ranges."""
    rows = [
        g.to_uint8(g.synthesize(g.edit(w, direction, layers=layers, sigma=s * step), space="w"))
        for s in sigmas
    ]
    return np.stack(rows, axis=1).reshape(-1, *rows[0].shape[1:])  # (n·s, H, W, C)
