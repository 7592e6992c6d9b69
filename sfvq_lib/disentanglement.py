"""How well a set of edit directions separates known factors: the measures.

Everything here works on *readings*: dicts ``{factor: values (n,)}``, as the factor
probe returns for images (`sfvq_lib.probe.read_factors`) or as any function of the
latents returns in a test. The measures follow Eastwood & Williams (2018, "DCI"),
with the "importance" of a direction for a factor replaced by its measured effect:

- `effect_row`: how much one edit moves every factor, in units of the change a
  fresh draw of that factor makes (1 = as much as replacing the image by another);
- `disentanglement` (per direction) and `completeness` (per factor): one minus the
  normalized entropy of a row / a column of the effect matrix ``E[j, k]``;
- `coverage`: which factors some direction changes mostly on its own (Hungarian
  matching of directions to factors);
- `index_nmi`: normalized mutual information between a quantizer's index and each
  factor (the panoptic reading of a curve).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score

from .data import FACTORS

__all__ = [
    "completeness",
    "coverage",
    "disentanglement",
    "effect_row",
    "factor_kinds",
    "index_nmi",
    "redraw_units",
]

_KNOWN = {f.name: f for f in FACTORS}


def factor_kinds(names) -> dict[str, str]:
    """Each factor's kind: ``categorical``, ``circular`` (values in [0, 1) on a circle)
    or ``continuous``; names outside our shapes dataset are continuous."""
    return {n: _KNOWN[n].kind if n in _KNOWN else "continuous" for n in names}


def _deltas(before: dict, after: dict, name: str, kind: str) -> np.ndarray:
    a, b = np.asarray(before[name]), np.asarray(after[name])
    if a.shape != b.shape:
        raise ValueError(f"readings of {name!r} differ in shape: {a.shape} and {b.shape}")
    if kind == "categorical":
        return (a != b).astype(np.float64)
    d = np.abs(b.astype(np.float64) - a.astype(np.float64))
    return np.minimum(d, 1.0 - d) if kind == "circular" else d


def redraw_units(reading_a: dict, reading_b: dict, factors) -> dict[str, float]:
    """The unit of change of every factor: the mean |difference| between two
    independent readings (e.g. of two disjoint sets of real images).

    For a continuous factor this is proportional to its standard deviation
    (2/√3 · std for a uniform one); for a categorical one it is the share of pairs
    of a different class. An edit with effect 1 changes the factor as much as
    drawing another image does.
    """
    kinds = factor_kinds(factors)
    units = {}
    for name in factors:
        u = float(_deltas(reading_a, reading_b, name, kinds[name]).mean())
        if not u > 0:
            raise ValueError(f"factor {name!r} does not vary between the two readings: no unit of change")
        units[name] = u
    return units


def effect_row(before: dict, after: dict, units: dict[str, float]) -> np.ndarray:
    """Mean |change| of every factor (in ``units``' order) from ``before`` to
    ``after`` (readings of the same samples), each divided by its unit."""
    kinds = factor_kinds(units)
    return np.array([_deltas(before, after, n, kinds[n]).mean() / units[n] for n in units])


def _one_minus_entropy(P: np.ndarray) -> np.ndarray:
    """1 − H(p)/log(len(p)) for every row of P (rows scaled to sum to 1; an
    all-zero row scores 0)."""
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 2:
        raise ValueError(f"need a matrix with at least 2 columns, got shape {P.shape}")
    if (P < 0).any():
        raise ValueError("effects must be non-negative")
    total = P.sum(1, keepdims=True)
    p = np.divide(P, total, out=np.zeros_like(P), where=total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0).sum(1) / np.log(P.shape[1])
    return np.where(total[:, 0] > 0, 1.0 - h, 0.0)


def disentanglement(E) -> tuple[np.ndarray, float]:
    """Per direction (row of ``E``, directions × factors): 1 − normalized entropy of
    how its effect spreads over the factors (1: it changes one factor only).

    Returns (per-direction scores, their average weighted by each direction's share
    of the total effect, as DCI weights codes by their relative importance).
    """
    E = np.asarray(E, dtype=np.float64)
    scores = _one_minus_entropy(E)
    weight = E.sum(1)
    total = float(scores @ weight / weight.sum()) if weight.sum() > 0 else 0.0
    return scores, total


def completeness(E) -> tuple[np.ndarray, float]:
    """Per factor (column of ``E``): 1 − normalized entropy of how the directions'
    effects on it spread over the directions (1: one direction carries it).

    Returns (per-factor scores, their mean).
    """
    scores = _one_minus_entropy(np.asarray(E, dtype=np.float64).T)
    return scores, float(scores.mean())


def coverage(E, share: float = 0.7, min_effect: float = 0.1) -> dict:
    """Which factors have a direction of their own.

    Every factor is matched to a different direction (Hungarian matching that
    maximizes the summed shares ``E[j, k] / Σ_k E[j, k]``). A factor is covered
    when its matched direction puts at least ``share`` of its effect on it and moves
    it by at least ``min_effect`` units (a direction that barely changes anything
    says nothing, whatever its shares).

    Returns ``{"covered": int, "share": (F,), "direction": (F,)}``: the count, and
    per factor the matched direction's share and index (-1 where there are fewer
    directions than factors).
    """
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"E must be directions × factors, got shape {E.shape}")
    total = E.sum(1, keepdims=True)
    S = np.divide(E, total, out=np.zeros_like(E), where=total > 0)
    rows, cols = linear_sum_assignment(-S)
    matched_share = np.zeros(E.shape[1])
    direction = np.full(E.shape[1], -1)
    matched_share[cols], direction[cols] = S[rows, cols], rows
    ok = (matched_share >= share) & (E[np.maximum(direction, 0), np.arange(E.shape[1])] >= min_effect)
    ok &= direction >= 0
    return {"covered": int(ok.sum()), "share": matched_share, "direction": direction}


def _factor_bins(values: np.ndarray, name: str, bins: int) -> np.ndarray:
    f = _KNOWN.get(name)
    if f is not None and f.kind == "categorical":
        return np.asarray(values).astype(int)
    lo, hi = (f.low, f.high) if f is not None else (np.min(values), np.max(values))
    edges = np.linspace(lo, hi, bins + 1)[1:-1]
    return np.digitize(values, edges)


def index_nmi(index, reading: dict, factors, bins: int = 8, adjusted: bool = False) -> dict[str, float]:
    """Normalized mutual information between a quantizer's index (n,) and every
    factor (continuous ones cut into ``bins`` equal bins over their range).

    ``adjusted=True`` gives the mutual information adjusted for chance (AMI: 0 for an
    index unrelated to the factor, whatever the number of clusters). Plain NMI grows
    with the number of clusters on a finite sample even where there is nothing to find
    (256 clusters on 2,000 samples), so comparisons across bitrates need the adjusted one.
    """
    index = np.asarray(index)
    score = adjusted_mutual_info_score if adjusted else normalized_mutual_info_score
    return {name: float(score(index, _factor_bins(reading[name], name, bins))) for name in factors}
