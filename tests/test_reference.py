"""Conformance with the paper's published curves (data/reference/official-sfvq)."""

import csv

import numpy as np
import pytest

from sfvq_lib import SFVQ, curve

from .conftest import REFERENCE, SHARED_REFERENCE

ROWS = list(csv.DictReader(open(REFERENCE / "exact_directions.csv")))


def codebook(gan: str, bits: int) -> np.ndarray:
    return np.load(REFERENCE / f"stylegan2-{gan}" / "codebooks" / f"codebook_{bits}bit.npy")


def test_all_twelve_listed():
    assert len(ROWS) == 12


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['gan']}-{r['direction']}")
def test_line_directions_reproduce_published_direction(row):
    C = codebook(row["gan"], int(row["bits"]))
    published = np.load(REFERENCE / row["file"]).astype(np.float64)
    D = curve.line_directions(C)
    assert D.shape == (len(C) - 1, 512)
    sign = 1.0 if row["sign"] == "+" else -1.0
    cos = float(sign * D[int(row["line"])] @ published / np.linalg.norm(published))
    assert cos >= 0.9999, f"cosine {cos:.6f}"
    # ... and it is that line, not another: no other line comes close.
    others = np.delete(np.abs(D @ published), int(row["line"]))
    assert others.max() < 0.9999


@pytest.mark.skipif(not SHARED_REFERENCE.exists(), reason="../shared is not beside this clone")
def test_copied_reference_matches_shared():
    for row in ROWS:
        a = np.load(REFERENCE / row["file"])
        b = np.load(SHARED_REFERENCE / row["file"])
        assert np.array_equal(a, b), row["file"]


@pytest.mark.parametrize("gan", ["ffhq", "afhq"])
def test_published_curves_shapes_and_order(gan):
    for bits in range(2, 9):
        C = codebook(gan, bits)
        assert C.shape == (2**bits, 512) and C.dtype == np.float32
        t, sq = curve.project(C, C)
        np.testing.assert_array_equal(t, np.arange(2**bits))
        assert sq.max() < 1e-6


@pytest.mark.parametrize("gan", ["ffhq", "afhq"])
def test_exact_projection_never_worse_than_two_neighbour_search(gan):
    """Parity with the reference projection: ours is the exact minimum, so its error is
    never above the reference's two-neighbour search, and on points near the published
    curves (noise 0.3 per coordinate) both find the same points."""
    C = codebook(gan, 6).astype(np.float64)
    rng = np.random.default_rng(0)
    t0 = rng.uniform(0, len(C) - 1, 2000)
    X = curve.interpolate(C, t0) + rng.standard_normal((2000, 512)) * 0.3
    t, sq = curve.project(X.astype(np.float32), C.astype(np.float32))
    i = np.clip(((X[:, None] - C[None]) ** 2).sum(-1).argmin(1), 1, len(C) - 2)
    best = np.full(len(X), np.inf)
    for a in (i - 1, i):  # the lines (i-1, i) and (i, i+1)
        v = C[a + 1] - C[a]
        u = np.clip(((X - C[a]) * v).sum(1) / (v * v).sum(1), 0, 1)
        best = np.minimum(best, ((X - C[a] - u[:, None] * v) ** 2).sum(1))
    assert np.all(sq <= best * (1 + 1e-4) + 1e-4)
    # Near the published curves the two agree: the same points as the reference code.
    agree = np.isclose(sq, best, rtol=1e-4)
    assert agree.mean() > 0.99, f"only {agree.mean():.1%} agree"


def test_sfvq_fitted_on_published_curve_points_recovers_it():
    """Fitted on noisy points of the published 2-bit FFHQ curve, SFVQ reaches the noise
    floor and its corner points run along the published curve in order."""
    C = codebook("ffhq", 2).astype(np.float64)
    rng = np.random.default_rng(1)
    noise = 0.05
    X = curve.interpolate(C, rng.uniform(0, 3, 8000)) + rng.standard_normal((8000, 512)) * noise
    q = SFVQ(bits=2, n_epochs=20, lr=0.02, batch_size=256, random_state=0, progress=False)
    q.fit(X.astype(np.float32))
    mse = -q.score(X.astype(np.float32))
    assert mse < 1.5 * noise**2, f"MSE {mse:.5f}, noise floor {noise**2:.5f}"
    t, sq = curve.project(q.codebook_, C.astype(np.float32))
    steps = np.diff(t)
    assert np.all(steps > 0) or np.all(steps < 0), f"corner points visit the curve at {t}"
    assert np.sqrt(sq.max()) < 0.1 * curve.arc_length(C)[-1]


def test_reference_module_reproduces_the_exact_directions():
    from sfvq_lib import reference

    rows = reference.reproduce_directions()
    assert len(rows) == 12 and min(r["cosine"] for r in rows) > 0.9999
    assert reference.layer_ranges("ffhq")["rotation"] == (0, 2)
    assert sorted(reference.codebooks("afhq")) == list(range(2, 9))
    with pytest.raises(ValueError, match="gan must be one of"):
        reference.codebooks("cifar")


def test_doubling_displacement_is_zero_for_an_untrained_doubling():
    from sfvq_lib import curve

    c = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)
    np.testing.assert_allclose(curve.doubling_displacement(c, curve.expand(c)), 0, atol=1e-6)
    moved = curve.expand(c).copy()
    moved[3] += np.array([3, 4, 0, 0, 0], np.float32)
    d = curve.doubling_displacement(c, moved)
    assert d.shape == (16,) and abs(d[3] - 5) < 1e-5 and np.abs(np.delete(d, 3)).max() < 1e-5
    with pytest.raises(ValueError, match="fine must have shape"):
        curve.doubling_displacement(c, c)
