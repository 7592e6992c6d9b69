"""Geometry of a piece-wise linear curve given by its corner points.

A curve is a ``codebook`` of ``k`` corner points ``c_0 … c_{k-1}`` (shape ``(k, d)``)
joined by the ``k - 1`` lines ``c_i → c_{i+1}``. A position on the curve is a
fractional index ``t`` in ``[0, k - 1]``: ``t = i + u`` is the point
``(1 - u) c_i + u c_{i+1}`` (Vali & Bäckström, TMLR 2025, §SFVQ).

Every public function takes numpy arrays or torch tensors and returns the same kind
it was given (the codebook decides). The functions are pure and hold no state.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

__all__ = [
    "arc_length",
    "doubling_displacement",
    "expand",
    "initial_corners",
    "interpolate",
    "line_directions",
    "line_lengths",
    "line_vectors",
    "project",
]

# Elements of the (chunk, k) distance block computed at once by `project`.
_PROJECT_BLOCK = 1 << 22


def _as_tensor(a, dtype=torch.float32, device=None) -> Tensor:
    if isinstance(a, Tensor):
        return a.to(dtype=dtype, device=device if device is not None else a.device)
    return torch.as_tensor(np.asarray(a), dtype=dtype, device=device)


def _float_tensor(a) -> Tensor:
    """A floating tensor of ``a``, keeping float64 and autograd where given."""
    if isinstance(a, Tensor):
        return a if a.is_floating_point() else a.float()
    arr = np.asarray(a)
    return torch.as_tensor(arr if arr.dtype == np.float64 else arr.astype(np.float32))


def _like(result: Tensor, reference):
    """Return ``result`` as the same kind (numpy or torch) as ``reference``."""
    if isinstance(reference, Tensor):
        return result
    return result.detach().cpu().numpy()


def _check_codebook(codebook: Tensor, name: str = "codebook") -> None:
    if codebook.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_corners, n_features), got shape {tuple(codebook.shape)}")
    if codebook.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 corner points, got {codebook.shape[0]}")


def line_vectors(codebook):
    """Vectors ``c[i+1] - c[i]`` of the curve's lines.

    Parameters
    ----------
    codebook : array or tensor, shape (k, d)

    Returns
    -------
    array or tensor, shape (k - 1, d)
    """
    c = _as_tensor(codebook)
    _check_codebook(c)
    return _like(c[1:] - c[:-1], codebook)


def line_lengths(codebook):
    """Euclidean length of every line, shape ``(k - 1,)``."""
    c = _as_tensor(codebook)
    _check_codebook(c)
    return _like(torch.linalg.vector_norm(c[1:] - c[:-1], dim=1), codebook)


def line_directions(codebook):
    """Unit vectors ``(c[i+1] - c[i]) / |c[i+1] - c[i]|`` of every line.

    These are SFVQ's interpretable edit directions. A line of zero length gets a
    zero vector (it has no direction).

    Parameters
    ----------
    codebook : array or tensor, shape (k, d)

    Returns
    -------
    array or tensor, shape (k - 1, d), rows of unit norm
    """
    c = _as_tensor(codebook, dtype=torch.float64)
    _check_codebook(c)
    v = c[1:] - c[:-1]  # (k-1, d)
    norm = torch.linalg.vector_norm(v, dim=1, keepdim=True)
    d = torch.where(norm > 0, v / norm.clamp_min(torch.finfo(v.dtype).tiny), 0.0)
    return _like(d.to(torch.float32), codebook)


def arc_length(codebook, t=None):
    """Arc-length position along the curve, measured from ``c_0``.

    Parameters
    ----------
    codebook : array or tensor, shape (k, d)
    t : array or tensor, shape (n,), optional
        Fractional curve indices in ``[0, k - 1]``. If omitted, the positions of the
        corner points are returned.

    Returns
    -------
    array or tensor, shape (k,) without ``t``, else (n,)
        Cumulative length; the last corner point sits at the curve's total length.
    """
    c = _as_tensor(codebook, dtype=torch.float64)
    _check_codebook(c)
    lengths = torch.linalg.vector_norm(c[1:] - c[:-1], dim=1)  # (k-1,)
    corners = torch.cat([lengths.new_zeros(1), torch.cumsum(lengths, 0)])  # (k,)
    if t is None:
        return _like(corners.to(torch.float32), codebook)
    tt = _check_t(_as_tensor(t, dtype=torch.float64, device=c.device), len(c))
    i = tt.floor().long().clamp(0, len(c) - 2)
    s = corners[i] + (tt - i) * lengths[i]
    return s.to(device=t.device, dtype=torch.float32) if isinstance(t, Tensor) else _like(s.float(), t)


def _check_t(t: Tensor, n_corners: int) -> Tensor:
    if t.ndim != 1:
        raise ValueError(f"t must be 1-D (n_samples,), got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError("t contains NaN or inf: curve indices must be finite numbers")
    lo, hi = (float(t.min()), float(t.max())) if t.numel() else (0.0, 0.0)
    if lo < 0 or hi > n_corners - 1:
        raise ValueError(
            f"t must lie in [0, {n_corners - 1}] (the curve has {n_corners} corner "
            f"points), got values in [{lo:g}, {hi:g}]: clip t to that range"
        )
    return t


def interpolate(codebook, t):
    """Points on the curve at fractional indices ``t``.

    Parameters
    ----------
    codebook : array or tensor, shape (k, d)
    t : array or tensor, shape (n,), values in ``[0, k - 1]``

    Returns
    -------
    array or tensor, shape (n, d)
        ``(1 - u) c_i + u c_{i+1}`` with ``i = min(floor(t), k - 2)``, ``u = t - i``.
    """
    c = _float_tensor(codebook)
    _check_codebook(c)
    tt = _check_t(_as_tensor(t, dtype=torch.float64, device=c.device), len(c))
    out = _decode(c, tt)
    return out.to(t.device) if isinstance(t, Tensor) else _like(out, codebook)


def _decode(c: Tensor, t: Tensor) -> Tensor:
    """Unchecked `interpolate` on tensors; keeps autograd through ``c``."""
    i = t.floor().long().clamp(0, len(c) - 2)
    u = (t - i).to(c.dtype).unsqueeze(1)  # (n, 1)
    return torch.lerp(c[i], c[i + 1], u)


def expand(codebook, eps: float = 0.01):
    """Double the corner points without changing the curve (SFVQ's bit doubling).

    Corner point ``j`` becomes the pair at indices ``j`` and ``j + eps`` (left half of
    the curve, the copy moved toward the next point) or ``j - eps`` and ``j`` (right
    half, toward the previous point).

    Parameters
    ----------
    codebook : array or tensor, shape (k, d), k even
    eps : float in (0, 0.5)
        Where the copy sits along its line, as a fraction of the line.

    Returns
    -------
    array or tensor, shape (2k, d)
    """
    c = _float_tensor(codebook)
    _check_codebook(c)
    k = len(c)
    if k % 2:
        raise ValueError(f"expand needs an even number of corner points, got {k}")
    if not 0 < eps < 0.5:
        raise ValueError(f"eps must lie in (0, 0.5), got {eps}")
    j = torch.arange(k, dtype=torch.float64, device=c.device)
    left = torch.stack([j[: k // 2], j[: k // 2] + eps], 1).reshape(-1)  # (k,)
    right = torch.stack([j[k // 2 :] - eps, j[k // 2 :]], 1).reshape(-1)  # (k,)
    return _like(_decode(c, torch.cat([left, right])), codebook)


def doubling_displacement(coarse, fine, eps: float = 0.01):
    """How far each corner point moved in the stage after a doubling.

    ``fine`` (2k, d) is the curve trained from ``expand(coarse, eps)``; returns the
    distance of each of its corner points from where the doubling put it, (2k,).
    """
    c, f = _float_tensor(coarse), _float_tensor(fine)
    _check_codebook(c)
    if f.shape != (2 * len(c), c.shape[1]):
        raise ValueError(f"fine must have shape {(2 * len(c), c.shape[1])}, got {tuple(f.shape)}")
    return _like(torch.linalg.vector_norm(f - expand(c, eps), dim=1), fine)


def initial_corners(X, n_corners: int = 4, chunk_size: int = 65536) -> Tensor:
    """SFVQ's initial curve: means of equal chunks of the data sorted by norm.

    Parameters
    ----------
    X : tensor, shape (n, d), n >= n_corners
    n_corners : int
        Number of chunks (SFVQ starts from 4).

    Returns
    -------
    tensor, shape (n_corners, d), float32, on X's device
        Row 0 is the mean of the smallest-norm chunk. A trailing remainder of fewer
        than ``n_corners`` samples is left out, as in the reference code.
    """
    n = len(X)
    if n < n_corners:
        raise ValueError(f"initial_corners needs at least {n_corners} samples, got {n}")
    norms = torch.cat(
        [torch.linalg.vector_norm(X[a : a + chunk_size].float(), dim=1) for a in range(0, n, chunk_size)]
    )
    order = torch.argsort(norms, stable=True)  # ascending norm
    hop = n // n_corners
    out = []
    for b in range(n_corners):
        idx = order[b * hop : (b + 1) * hop]
        total = torch.zeros(X.shape[1], dtype=torch.float64, device=X.device)
        for a in range(0, len(idx), chunk_size):
            total += X[idx[a : a + chunk_size]].to(torch.float64).sum(0)
        out.append(total / hop)
    return torch.stack(out).to(torch.float32)


def project(X, codebook, chunk_size: int | None = None, progress: bool = False):
    """Exact nearest point on the curve for every row of ``X``.

    All ``k - 1`` lines are searched (the reference code searches only the two lines
    beside the nearest corner point). Distances come from one matrix product per
    chunk: ``|x - c_j|² = |x|² - 2 x·c_j + |c_j|²`` and ``x·v_j = x·c_{j+1} - x·c_j``,
    so no ``(n, d, k)`` tensor is ever built. Data and codebook are first shifted by
    the codebook's mean, so the float32 products stay accurate far from the origin,
    and the winning line is re-evaluated in float64, so corner points map to whole
    indices. The search runs in float32 whatever the input precision.

    Parameters
    ----------
    X : array or tensor, shape (n, d)
    codebook : array or tensor, shape (k, d)
    chunk_size : int, optional
        Rows per block; by default about 4 M distances per block.
    progress : bool, default False
        Show a tqdm bar over the blocks.

    Returns
    -------
    t : array or tensor, shape (n,), float64 in ``[0, k - 1]``
        Fractional curve index of the nearest point (float64, so that the position
        within a line keeps full precision at thousands of corner points).
    sq_dist : array or tensor, shape (n,), float32
        Squared distance from each row to that point.
    """
    c = _as_tensor(codebook)
    _check_codebook(c)
    x_all = X if isinstance(X, Tensor) else np.asarray(X)
    k = len(c)
    if chunk_size is None:
        chunk_size = max(1, _PROJECT_BLOCK // k)
    # Shift everything by the codebook's mean: the distances are unchanged, but the
    # float32 products no longer cancel when the data sit far from the origin.
    c64 = c.to(torch.float64)
    shift = c64.mean(0)  # (d,)
    c = (c64 - shift).to(torch.float32)
    v = c[1:] - c[:-1]  # (k-1, d)
    vv = (v * v).sum(1)  # (k-1,)
    cv = (c[:-1] * v).sum(1)  # (k-1,)  <c_j, v_j>
    cc = (c * c).sum(1)  # (k,)
    inv_vv = torch.where(vv > 0, 1.0 / vv.clamp_min(torch.finfo(vv.dtype).tiny), 0.0)
    ts, ds = [], []
    if x_all.ndim != 2 or x_all.shape[1] != c.shape[1]:
        raise ValueError(
            f"X must have shape (n_samples, {c.shape[1]}) to match the codebook, got {tuple(x_all.shape)}"
        )
    starts = range(0, len(x_all), chunk_size)
    for a in tqdm(starts, desc="project", unit="block", disable=not progress, leave=False):
        x = x_all[a : a + chunk_size]
        if not isinstance(x, Tensor):
            x = torch.from_numpy(np.array(x, dtype=np.float32))  # writable copy of the block
        x64 = x.to(device=c.device, dtype=torch.float64) - shift  # (m, d)
        x = x64.to(torch.float32)
        g = x @ c.T  # (m, k)
        a_ = g[:, 1:] - g[:, :-1]  # (m, k-1)  <x, v_j>
        a_ -= cv  # <x - c_j, v_j>
        u = (a_ * inv_vv).clamp_(0.0, 1.0)  # (m, k-1)
        e = torch.add(cc[:-1], g[:, :-1], alpha=-2.0)  # |x - c_j|² - |x|²
        # |x - p_j|² - |x|² = e - 2 u a + u² |v|² = e + u (u |v|² - 2 a)
        e.addcmul_(u, a_.mul_(-2.0).addcmul_(u, vv))
        j = e.argmin(1)  # (m,)
        # Re-evaluate the winning line in float64.
        cj, vj = c64[j] - shift, c64[j + 1] - c64[j]  # (m, d)
        vvj = (vj * vj).sum(1)
        uj = torch.where(vvj > 0, ((x64 - cj) * vj).sum(1) / vvj.clamp_min(1e-300), 0.0)
        uj = uj.clamp(0.0, 1.0)
        diff = x64 - cj - uj.unsqueeze(1) * vj  # (m, d)
        ts.append(j.to(torch.float64) + uj)
        ds.append((diff * diff).sum(1).to(torch.float32))
    t = torch.cat(ts) if ts else torch.zeros(0, dtype=torch.float64, device=c.device)
    d = torch.cat(ds) if ds else torch.zeros(0, device=c.device)
    if isinstance(X, Tensor):
        return t.to(X.device), d.to(X.device)
    return t.cpu().numpy(), d.cpu().numpy()
