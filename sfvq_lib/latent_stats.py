"""Statistics of latent samples: how much of a space the samples really use.

Used by the study to show why W (not Z) is the space to quantize: Z is an isotropic
Gaussian that fills every direction equally, while the mapping network concentrates W
on fewer directions, which a curve with few corner points can cover.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

__all__ = ["components_for", "participation_ratio", "pca_spectrum"]


def pca_spectrum(X) -> np.ndarray:
    """Explained-variance ratios of all principal components of X (n, d), descending."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise ValueError(f"X must be (n_samples >= 2, n_features), got shape {X.shape}")
    return PCA().fit(X).explained_variance_ratio_


def components_for(ratio, share: float = 0.9) -> int:
    """How many leading components explain at least ``share`` of the variance."""
    if not 0 < share <= 1:
        raise ValueError(f"share must lie in (0, 1], got {share}")
    c = np.cumsum(np.asarray(ratio, dtype=np.float64))
    return int(min(np.searchsorted(c, share * c[-1] - 1e-12) + 1, len(c)))


def participation_ratio(ratio) -> float:
    """Effective number of dimensions, (Σλ)² / Σλ²: d for an isotropic space, 1 for a line."""
    lam = np.asarray(ratio, dtype=np.float64)
    return float(lam.sum() ** 2 / np.square(lam).sum())
