"""The methods SFVQ is compared with, in SFVQ's vocabulary.

Every direction-finding method returns its directions as ``(k, d)`` unit vectors in
the latent space (rows), like `curve.line_directions` does for SFVQ lines:

- `GANSpace` — PCA of latent samples (Härkönen et al., NeurIPS 2020): components,
  mean and per-component standard deviation (scikit-learn ``PCA``).
- `SeFa` — closed-form factorization (Shen & Zhou, CVPR 2021): top eigenvectors of
  ``AᵀA`` for the style-affine weights ``A`` of a generator's chosen layers.
- `random_directions` — random unit vectors, the lower bound.
- `KMeansVQ` — plain vector quantization with the same number of points as a curve
  (scikit-learn ``KMeans``), for rate–distortion comparisons.
- `pca_line` — a straight line (PCA-1) with as many corner points as a curve.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state

from ._validation import check_int, check_matrix

__all__ = ["GANSpace", "KMeansVQ", "SeFa", "pca_line", "random_directions"]


def _dense(X, name: str = "X") -> np.ndarray:
    """Validate and return ``X`` as a float32 numpy array."""
    rows = check_matrix(X, name)
    if isinstance(rows, torch.Tensor):
        return rows.detach().cpu().numpy().astype(np.float32, copy=False)
    return np.asarray(rows.array, dtype=np.float32)


def _unit_rows(V: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(V, axis=1, keepdims=True)
    return (V / np.where(norm > 0, norm, 1.0)).astype(np.float32)


def _require_fitted(est, attr: str) -> None:
    if not hasattr(est, attr):
        raise NotFittedError(f"This {type(est).__name__} is not fitted yet: call fit first.")


class GANSpace(BaseEstimator):
    """Principal directions of latent samples (GANSpace).

    Parameters
    ----------
    n_components : int, default 80
    random_state : int or None
        For the randomized SVD solver scikit-learn may pick on large inputs.

    Attributes
    ----------
    components_ : ndarray, shape (n_components, d)
        Unit principal directions, by decreasing variance.
    mean_ : ndarray, shape (d,)
    std_ : ndarray, shape (n_components,)
        Standard deviation of the samples along each component: an edit of
        ``x`` standard deviations is ``w + x * std_[k] * components_[k]``.
    explained_variance_ratio_ : ndarray, shape (n_components,)
    """

    def __init__(self, n_components: int = 80, random_state=None):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y=None):
        Xd = _dense(X)
        k = check_int(self.n_components, "n_components", 1)
        if k > min(Xd.shape):
            raise ValueError(
                f"n_components={k} exceeds min(n_samples, n_features)={min(Xd.shape)}: lower n_components"
            )
        pca = PCA(n_components=k, random_state=self.random_state).fit(Xd)
        self.components_ = _unit_rows(pca.components_)
        self.mean_ = pca.mean_.astype(np.float32)
        self.std_ = np.sqrt(pca.explained_variance_).astype(np.float32)
        self.explained_variance_ratio_ = pca.explained_variance_ratio_.astype(np.float32)
        self.n_features_in_ = Xd.shape[1]
        return self

    def directions(self) -> np.ndarray:
        """The unit directions, shape (n_components, d)."""
        _require_fitted(self, "components_")
        return self.components_


class SeFa(BaseEstimator):
    """Closed-form factorization of style-affine weights (SeFa).

    Parameters
    ----------
    n_components : int, default 16
    normalize : bool, default True
        Scale every row of ``A`` (one output unit's weights) to unit norm before
        the factorization, as SeFa does.

    Attributes
    ----------
    components_ : ndarray, shape (n_components, d)
        Top eigenvectors of ``AᵀA`` (unit rows, by decreasing eigenvalue).
    eigenvalues_ : ndarray, shape (n_components,)
    """

    def __init__(self, n_components: int = 16, normalize: bool = True):
        self.n_components = n_components
        self.normalize = normalize

    def fit(self, weights, y=None):
        """Factorize ``weights``: one matrix (out, d), or a list of them (concatenated)."""
        mats = weights if isinstance(weights, (list, tuple)) else [weights]
        if not mats:
            raise ValueError("weights is an empty list: pass at least one (out, d) weight matrix")
        A = np.concatenate([_dense(m, "weights") for m in mats], axis=0).astype(np.float64)
        d = A.shape[1]
        k = check_int(self.n_components, "n_components", 1)
        if k > d:
            raise ValueError(f"n_components={k} exceeds the latent size {d}: lower n_components")
        if self.normalize:
            A = A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)
        eigval, eigvec = np.linalg.eigh(A.T @ A)  # ascending
        order = np.argsort(eigval)[::-1][:k]
        self.components_ = _unit_rows(eigvec[:, order].T)
        self.eigenvalues_ = eigval[order].astype(np.float32)
        self.n_features_in_ = d
        return self

    def directions(self) -> np.ndarray:
        """The unit directions, shape (n_components, d)."""
        _require_fitted(self, "components_")
        return self.components_


def random_directions(n_directions: int, n_features: int, random_state=None) -> np.ndarray:
    """Random unit vectors, uniform on the sphere: shape (n_directions, n_features)."""
    check_int(n_directions, "n_directions", 1)
    check_int(n_features, "n_features", 1)
    rs = check_random_state(random_state)
    return _unit_rows(rs.standard_normal((n_directions, n_features)))


class KMeansVQ(BaseEstimator):
    """k-means vector quantization with ``2**bits`` code vectors.

    Parameters
    ----------
    bits : int, default 6
    n_init : int, default 1
    random_state : int or None

    Attributes
    ----------
    codebook_ : ndarray, shape (2**bits, d)
        Cluster centres (no order).
    directions_ : ndarray, shape (2**bits, d)
        From each centre, the unit vector to its nearest other centre: the k-means
        counterpart of a curve's line directions.
    """

    def __init__(self, bits: int = 6, n_init: int = 1, random_state=None):
        self.bits = bits
        self.n_init = n_init
        self.random_state = random_state

    def fit(self, X, y=None):
        Xd = _dense(X)
        check_int(self.bits, "bits", 1)
        k = 2**self.bits
        if len(Xd) < k:
            raise ValueError(f"bits={self.bits} needs at least {k} samples, got {len(Xd)}: lower bits")
        km = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state).fit(Xd)
        C = km.cluster_centers_.astype(np.float32)
        dist = _pairwise(C)  # (k, k)
        np.fill_diagonal(dist, np.inf)
        self.codebook_ = C
        self.directions_ = _unit_rows(C[dist.argmin(1)] - C)
        self.n_features_in_ = Xd.shape[1]
        return self

    def directions(self) -> np.ndarray:
        """The unit directions, shape (2**bits, d)."""
        _require_fitted(self, "codebook_")
        return self.directions_

    def predict(self, X) -> np.ndarray:
        """Index of the nearest code vector, shape (n,)."""
        _require_fitted(self, "codebook_")
        Xd = _dense(X)
        if Xd.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {Xd.shape[1]} features, but KMeansVQ was fitted on {self.n_features_in_}"
            )
        return torch.cdist(torch.from_numpy(Xd), torch.from_numpy(self.codebook_)).argmin(1).numpy()

    def quantize(self, X) -> np.ndarray:
        """The nearest code vector for every row, shape (n, d)."""
        return self.codebook_[self.predict(X)]

    def score(self, X, y=None) -> float:
        """Negative mean squared error (per feature)."""
        _require_fitted(self, "codebook_")
        Xd = _dense(X)
        return -float(np.mean((Xd - self.quantize(Xd)) ** 2))


def _pairwise(C: np.ndarray) -> np.ndarray:
    t = torch.from_numpy(C)
    return (torch.cdist(t, t) ** 2).numpy()


def pca_line(X, n_corners: int) -> np.ndarray:
    """A straight-line "curve" along the first principal component.

    ``n_corners`` points spaced evenly from the smallest to the largest projection
    of ``X`` onto PCA-1, so `curve.project` gives the straight-line baseline's
    quantization error at the same number of points as an SFVQ curve.

    Returns
    -------
    ndarray, shape (n_corners, d), float32
    """
    Xd = _dense(X)
    check_int(n_corners, "n_corners", 2)
    pca = PCA(n_components=1).fit(Xd)
    s = (Xd - pca.mean_) @ pca.components_[0]
    grid = np.linspace(s.min(), s.max(), n_corners)
    return (pca.mean_ + grid[:, None] * pca.components_[0]).astype(np.float32)
