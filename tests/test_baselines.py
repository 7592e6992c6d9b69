import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from sfvq_lib import curve
from sfvq_lib.baselines import GANSpace, KMeansVQ, SeFa, pca_line, random_directions


def test_ganspace_recovers_the_axes_of_an_anisotropic_gaussian():
    rng = np.random.default_rng(0)
    scale = np.array([4.0, 2.0, 1.0] + [0.3] * 13)
    X = (rng.standard_normal((4000, 16)) * scale + 2.0).astype(np.float32)
    g = GANSpace(n_components=4).fit(X)
    assert g.components_.shape == (4, 16)
    np.testing.assert_allclose(np.linalg.norm(g.components_, axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(np.abs(g.components_[:3, :3]), np.eye(3), atol=0.05)
    np.testing.assert_allclose(g.std_[:3], scale[:3], rtol=0.05)
    np.testing.assert_allclose(g.mean_, 2.0, atol=0.2)
    assert np.all(np.diff(g.std_) <= 0)
    assert g.directions() is g.components_


def test_sefa_is_the_top_right_singular_vectors():
    rng = np.random.default_rng(0)
    A1, A2 = rng.standard_normal((30, 12)), rng.standard_normal((20, 12)) * 3
    s = SeFa(n_components=5, normalize=False).fit([A1, A2])
    A = np.vstack([A1, A2])
    _, sv, Vt = np.linalg.svd(A)
    np.testing.assert_allclose(np.abs(s.components_ @ Vt[:5].T), np.eye(5), atol=1e-4)
    np.testing.assert_allclose(s.eigenvalues_, sv[:5] ** 2, rtol=1e-4)


def test_sefa_normalizes_rows():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((40, 8))
    big = A.copy()
    big[0] *= 1000  # one huge output unit must not dominate after normalization
    a = SeFa(n_components=3).fit(A).components_
    b = SeFa(n_components=3).fit(big).components_
    c = SeFa(n_components=3, normalize=False).fit(big).components_
    assert np.abs(a[0] @ b[0]) > 0.99
    assert np.abs(c[0] @ big[0] / np.linalg.norm(big[0])) > 0.99


def test_sefa_accepts_torch_weights():
    W = torch.randn(16, 6)
    assert SeFa(n_components=2).fit(W).components_.shape == (2, 6)


def test_random_directions_are_unit_and_seeded():
    a = random_directions(10, 32, random_state=0)
    b = random_directions(10, 32, random_state=0)
    assert a.shape == (10, 32) and np.array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, atol=1e-6)


def test_kmeans_vq_error_falls_with_bits_and_directions_are_unit(gauss_16d):
    mse = [-KMeansVQ(bits=b, random_state=0).fit(gauss_16d).score(gauss_16d) for b in (2, 4, 6)]
    assert mse[0] > mse[1] > mse[2]
    km = KMeansVQ(bits=3, random_state=0).fit(gauss_16d)
    assert km.codebook_.shape == (8, 16) and km.directions_.shape == (8, 16)
    np.testing.assert_allclose(np.linalg.norm(km.directions_, axis=1), 1, atol=1e-6)
    # each direction points at the nearest other centre
    C = km.codebook_
    for i in range(8):
        d = np.linalg.norm(C - C[i], axis=1)
        d[i] = np.inf
        v = C[d.argmin()] - C[i]
        np.testing.assert_allclose(km.directions_[i], v / np.linalg.norm(v), atol=1e-5)


def test_pca_line_error_is_the_residual_variance(gauss_16d):
    L = pca_line(gauss_16d, 1024)
    _, sq = curve.project(gauss_16d, L)
    var = np.var(gauss_16d.astype(np.float64), axis=0).sum()
    lam1 = np.linalg.eigvalsh(np.cov(gauss_16d.T))[-1]
    assert sq.mean() == pytest.approx(var - lam1 * (len(gauss_16d) - 1) / len(gauss_16d), rel=0.01)


def test_baseline_errors(gauss_16d):
    with pytest.raises(NotFittedError, match="call fit first"):
        GANSpace().directions()
    with pytest.raises(ValueError, match="n_components=80 exceeds"):
        GANSpace().fit(gauss_16d)
    with pytest.raises(ValueError, match="needs at least 4096 samples"):
        KMeansVQ(bits=12).fit(gauss_16d)
    with pytest.raises(ValueError, match="empty list"):
        SeFa().fit([])
    with pytest.raises(ValueError, match="must be >= 1"):
        random_directions(0, 3)
