import numpy as np
import pytest
import torch

from sfvq_lib import curve


def brute_force_projection(X, C):
    """Nearest point over all lines, in float64, one line at a time."""
    X, C = np.asarray(X, np.float64), np.asarray(C, np.float64)
    best_d = np.full(len(X), np.inf)
    best_t = np.zeros(len(X))
    for j in range(len(C) - 1):
        v = C[j + 1] - C[j]
        u = np.clip(((X - C[j]) @ v) / max(v @ v, 1e-300), 0, 1)
        d = ((X - C[j] - u[:, None] * v) ** 2).sum(1)
        better = d < best_d
        best_d[better], best_t[better] = d[better], j + u[better]
    return best_t, best_d


@pytest.mark.parametrize(
    "k,d,offset", [(2, 3, 0.0), (8, 2, 0.0), (64, 16, 0.0), (257, 40, 0.0), (16, 1, 0.0), (256, 64, 100.0)]
)
def test_project_matches_brute_force(k, d, offset):
    rng = np.random.default_rng(k)
    C = np.cumsum(rng.standard_normal((k, d)), 0) + offset  # a random walk, maybe far out
    if k >= 8:
        C[3] = C[2]  # a zero-length line
    X = (C[rng.integers(0, k, 500)] + rng.standard_normal((500, d))).astype(np.float32)
    C = C.astype(np.float32)
    t, sq = curve.project(X, C, chunk_size=97)
    t_ref, sq_ref = brute_force_projection(X, C)
    np.testing.assert_allclose(sq, sq_ref, rtol=1e-4, atol=1e-4, err_msg="squared distance differs")
    P = curve.interpolate(C, t)
    np.testing.assert_allclose(((X - P) ** 2).sum(1), sq_ref, rtol=1e-3, atol=1e-3)
    assert t.min() >= 0 and t.max() <= k - 1
    # Where the nearest point is unique (every line that comes within 1 % of the
    # minimum distance reaches it at the same curve index), t is the brute force's.
    Xd, Cd = X.astype(np.float64), C.astype(np.float64)
    unique = np.ones(len(X), bool)
    for j in range(k - 1):
        v = Cd[j + 1] - Cd[j]
        u = np.clip(((Xd - Cd[j]) @ v) / max(v @ v, 1e-300), 0, 1)
        dj = ((Xd - Cd[j] - u[:, None] * v) ** 2).sum(1)
        rival = (dj <= sq_ref * 1.01 + 1e-3) & (np.abs(j + u - t_ref) > 1e-3)
        unique &= ~rival
    assert unique.mean() > (0.3 if d == 1 else 0.5)  # a 1-D walk overlaps itself a lot
    np.testing.assert_allclose(t[unique], t_ref[unique], atol=2e-3)


def test_project_beats_two_neighbour_search():
    """The reference code searches only the two lines beside the nearest corner point."""
    C = np.array([[-10, 0], [10, 0], [0, 3], [0, 20]], np.float32)
    x = np.array([[0.0, 1.2]], np.float32)
    # Nearest corner point is c2 = (0, 3); its lines are 1.72 and 1.8 away, while
    # line 0 passes 1.2 below x.
    t, sq = curve.project(x, C)
    assert sq[0] == pytest.approx(1.44, abs=1e-5), f"got {sq[0]}"
    assert t[0] == pytest.approx(0.5, abs=1e-6)


def test_corners_project_to_whole_indices():
    rng = np.random.default_rng(3)
    C = (rng.standard_normal((128, 512)) * 3 + 5).astype(np.float32)
    t, sq = curve.project(C, C)
    np.testing.assert_array_equal(t, np.arange(128, dtype=np.float64))
    assert sq.max() < 1e-6


def test_interpolate_endpoints_and_midpoints():
    C = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 4.0]], np.float32)
    P = curve.interpolate(C, np.array([0.0, 0.5, 1.0, 1.25, 2.0]))
    np.testing.assert_allclose(P, [[0, 0], [1, 0], [2, 0], [2, 1], [2, 4]], atol=1e-6)


def test_interpolate_rejects_t_outside_the_curve():
    C = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match=r"t must lie in \[0, 3\]"):
        curve.interpolate(C, np.array([0.0, 3.5]))
    with pytest.raises(ValueError, match="t must lie"):
        curve.interpolate(C, np.array([-0.1]))


def test_expand_keeps_the_curve_and_doubles_points():
    rng = np.random.default_rng(4)
    C = rng.standard_normal((8, 5)).astype(np.float32)
    E = curve.expand(C, 0.01)
    assert E.shape == (16, 5)
    # Every old corner point survives, at index 2j (left half) or 2j+1 (right half).
    np.testing.assert_allclose(E[0:8:2], C[:4], atol=1e-6)
    np.testing.assert_allclose(E[9:16:2], C[4:], atol=1e-6)
    # Every new point lies on the old curve (distance 0) ...
    _, sq = curve.project(E, C)
    assert sq.max() < 1e-8, f"new points off the old curve by {np.sqrt(sq.max())}"
    # ... 1 % of the way along the adjacent line.
    np.testing.assert_allclose(E[1], C[0] + 0.01 * (C[1] - C[0]), atol=1e-6)
    np.testing.assert_allclose(E[8], C[4] - 0.01 * (C[4] - C[3]), atol=1e-6)
    # ... and the total length is unchanged.
    assert curve.arc_length(E)[-1] == pytest.approx(curve.arc_length(C)[-1], rel=1e-5)


def test_line_directions_are_unit_and_follow_the_lines():
    C = np.array([[0, 0], [3, 4], [3, 4], [3, 10]], np.float32)
    D = curve.line_directions(C)
    np.testing.assert_allclose(D, [[0.6, 0.8], [0, 0], [0, 1]], atol=1e-7)
    np.testing.assert_allclose(curve.line_lengths(C), [5, 0, 6], atol=1e-6)
    np.testing.assert_allclose(curve.line_vectors(C), [[3, 4], [0, 0], [0, 6]])


def test_arc_length_of_corners_and_positions():
    C = np.array([[0, 0], [3, 4], [3, 10]], np.float32)
    np.testing.assert_allclose(curve.arc_length(C), [0, 5, 11], atol=1e-6)
    np.testing.assert_allclose(curve.arc_length(C, np.array([0.5, 1.5, 2.0])), [2.5, 8, 11], atol=1e-5)


def test_functions_keep_the_input_kind():
    C = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    assert isinstance(curve.line_directions(C), np.ndarray)
    assert isinstance(curve.line_directions(torch.from_numpy(C)), torch.Tensor)
    t, _ = curve.project(torch.from_numpy(C), torch.from_numpy(C))
    assert isinstance(t, torch.Tensor)


def test_initial_corners_are_means_of_norm_sorted_chunks():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((103, 4)).astype(np.float32)  # 103 = 4 * 25 + 3 left over
    order = np.argsort(np.linalg.norm(X, axis=1), kind="stable")
    expected = np.stack([X[order[i * 25 : (i + 1) * 25]].mean(0) for i in range(4)])
    got = curve.initial_corners(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    with pytest.raises(ValueError, match="at least 4 samples"):
        curve.initial_corners(torch.from_numpy(X[:3]))


def test_project_rejects_mismatched_features():
    with pytest.raises(ValueError, match="match the codebook"):
        curve.project(np.zeros((3, 4), np.float32), np.zeros((4, 5), np.float32))
