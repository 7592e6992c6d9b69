import numpy as np
import pytest

from sfvq_lib import benchmark
from sfvq_lib import disentanglement as dis

FACTORS = ["a", "b", "c"]


class LinearScene:
    """A synthetic "generator" whose factors are linear in w: factor k = w · A[k].

    Its true directions are the rows of A; the benchmark's measuring chain must find
    them the most disentangled and let them cover every factor.
    """

    space, modes = "w", ("all",)

    def __init__(self, d=8, seed=0):
        rng = np.random.default_rng(seed)
        Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        self.A = Q[: len(FACTORS)]  # orthonormal factor directions

    def edit(self, w, direction, layers, step):
        return w + step * direction

    def read(self, w, classes=None):
        out = {f: w @ a for f, a in zip(FACTORS, self.A, strict=True)}
        out["features"] = w
        return out


def test_effect_rows_rank_the_true_directions_first():
    scene = LinearScene()
    rng = np.random.default_rng(1)
    W = rng.standard_normal((200, 8))
    units = dis.redraw_units(scene.read(W[:100]), scene.read(W[100:]), FACTORS)
    D = np.concatenate([benchmark.random_directions(5, 8, random_state=2), scene.A]).astype(np.float32)
    cfg = benchmark.BenchmarkConfig.quick()
    E, feats, _ = benchmark._measure(scene, D, np.ones(len(D)), W, None, scene.read(W), units, "all", cfg)
    assert E.shape == (8, 3) and feats.shape == (200 * 8, 8)
    scores, _ = dis.disentanglement(E)
    assert set(np.argsort(-scores)[:3]) == {5, 6, 7}  # the true directions
    np.testing.assert_allclose(scores[5:], 1.0, atol=1e-6)
    cov = dis.coverage(E)
    assert cov["covered"] == 3 and set(cov["direction"]) == {5, 6, 7}
    _, total = dis.completeness(E[5:])
    assert total == pytest.approx(1.0)
    # random directions alone: every factor moves under each of them
    assert dis.disentanglement(E[:5])[1] < 0.6 and dis.completeness(E[:5])[1] < 0.6


def test_effect_is_in_units_of_a_redraw():
    before = {"x": np.zeros(4), "shape": np.array([0, 1, 2, 3]), "obj_hue": np.array([0.05, 0.1, 0.2, 0.9])}
    after = {
        "x": np.full(4, 2.0),
        "shape": np.array([0, 1, 0, 0]),
        "obj_hue": np.array([0.95, 0.1, 0.2, 0.9]),
    }
    row = dis.effect_row(before, after, {"x": 4.0, "shape": 0.5, "obj_hue": 0.1})
    # x moves 2 of a unit of 4; shape flips on half the samples (unit 0.5); the hue
    # crosses 0 on the circle: a change of 0.1 on one sample in four
    np.testing.assert_allclose(row, [0.5, 1.0, 0.25])


def test_redraw_units_and_errors():
    a = {"x": np.array([0.0, 1.0]), "y": np.array([1.0, 1.0])}
    b = {"x": np.array([1.0, 1.0]), "y": np.array([1.0, 1.0])}
    assert dis.redraw_units(a, b, ["x"]) == {"x": 0.5}
    with pytest.raises(ValueError, match="'y' does not vary"):
        dis.redraw_units(a, b, ["x", "y"])


def test_scores_of_known_matrices():
    E = np.array([[1.0, 0, 0], [0, 1.0, 0], [1.0, 1.0, 1.0], [0, 0, 0]])
    d, total = dis.disentanglement(E)
    np.testing.assert_allclose(d, [1, 1, 0, 0], atol=1e-12)
    assert total == pytest.approx(2 / 5)  # weighted by each row's share of the total effect
    c, _ = dis.completeness(E)
    assert c[2] == pytest.approx(1.0) and 0 < c[0] < 1
    with pytest.raises(ValueError, match="non-negative"):
        dis.disentanglement(-E)


def test_coverage_needs_share_and_strength():
    E = np.array([[0.9, 0.1], [0.02, 0.005]])  # row 2 has the shares but hardly moves anything
    cov = dis.coverage(E)
    assert cov["covered"] == 1 and cov["share"][1] == pytest.approx(0.2)
    assert dis.coverage(E, min_effect=0.0)["covered"] == 1  # share 0.2 < 0.7 anyway
    assert dis.coverage(np.array([[1.0, 0.0, 0.0]]))["direction"].tolist() == [0, -1, -1]


def test_index_nmi_finds_the_factor_the_index_follows():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.3, 0.7, 2000)  # the range of factor x
    y = rng.uniform(0.3, 0.7, 2000)
    index = np.digitize(x, np.linspace(0.3, 0.7, 9)[1:-1])
    nmi = dis.index_nmi(index, {"x": x, "y": y}, ["x", "y"])
    assert nmi["x"] == pytest.approx(1.0) and nmi["y"] < 0.05
