import numpy as np
import pytest

from sfvq_lib.data import FACTOR_NAMES, FACTORS, SHAPES, ShapesDataset, hsv_to_rgb


@pytest.fixture(scope="module")
def ds():
    return ShapesDataset(32)


def one(ds, **overrides):
    """Factors for one image: mid-range values, with overrides."""
    f = {f.name: np.array([0 if f.kind == "categorical" else (f.low + f.high) / 2]) for f in FACTORS}
    for k, v in overrides.items():
        f[k] = np.array([v])
    return f


def coverage(ds, img):
    """Fraction of pixels that differ from the background colour."""
    corner = img[:, :2, :2].mean(axis=(1, 2), keepdims=True)
    return np.abs(img - corner).max(0) > 0.1


def test_shapes_ranges_and_determinism(ds):
    a, fa = ds.sample(16, seed=3)
    b, fb = ds.sample(16, seed=3)
    c, _ = ds.sample(16, seed=4)
    assert a.shape == (16, 3, 32, 32) and a.dtype == np.float32
    assert a.min() >= -1 and a.max() <= 1
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert sorted(fa) == sorted(FACTOR_NAMES)
    for f in FACTORS:
        assert fa[f.name].shape == (16,)
        assert np.all(fa[f.name] >= f.low) and np.all(fa[f.name] < f.high)


def test_factors_are_independent_and_cover_their_range(ds):
    f = ds.sample_factors(20000, seed=0)
    assert set(np.unique(f["shape"])) == set(range(len(SHAPES)))
    cont = np.stack([f[n] for n in FACTOR_NAMES]).astype(float)
    corr = np.corrcoef(cont)
    np.testing.assert_allclose(corr, np.eye(len(FACTORS)), atol=0.03)


def test_position_moves_the_object(ds):
    left = coverage(ds, ds.render(one(ds, x=0.35))[0])
    right = coverage(ds, ds.render(one(ds, x=0.65))[0])
    cols = np.arange(32)
    assert (cols * left.sum(0)).sum() / left.sum() < 13 < (cols * right.sum(0)).sum() / right.sum()
    low = coverage(ds, ds.render(one(ds, y=0.65))[0])
    rows = np.arange(32)
    assert (rows * low.sum(1)).sum() / low.sum() > 18  # y grows downward


def test_scale_grows_the_object(ds):
    small = coverage(ds, ds.render(one(ds, scale=0.6))[0]).sum()
    big = coverage(ds, ds.render(one(ds, scale=1.0))[0]).sum()
    assert big > 2 * small > 0


def test_hues_colour_object_and_background(ds):
    img = ds.render(one(ds, obj_hue=0.0, bg_hue=1 / 3))[0]  # red object, green background
    centre, corner = img[:, 16, 16], img[:, 0, 0]
    assert centre[0] > 0.5 and centre[1] < 0 and centre[2] < 0
    assert corner[1] > corner[0] and corner[1] > corner[2]
    assert corner.max() < 0  # the background is dark


def test_shapes_differ_and_rotation_matters_except_for_the_disc(ds):
    masks = [coverage(ds, ds.render(one(ds, shape=k))[0]) for k in range(len(SHAPES))]
    for i in range(len(SHAPES)):
        for j in range(i):
            assert (masks[i] != masks[j]).sum() >= 10, f"{SHAPES[i]} vs {SHAPES[j]}"
    for k in range(len(SHAPES)):
        a = ds.render(one(ds, shape=k, rotation=-0.5))[0]
        b = ds.render(one(ds, shape=k, rotation=0.5))[0]
        changed = np.abs(a - b).max(0) > 0.2
        if SHAPES[k] == "disc":
            assert changed.sum() == 0
        else:
            assert changed.sum() >= 5, SHAPES[k]


def test_64px_option_and_bad_input():
    img, _ = ShapesDataset(64).sample(2, seed=0)
    assert img.shape == (2, 3, 64, 64)
    with pytest.raises(ValueError, match="factors lacks"):
        ShapesDataset(32).render({"shape": np.zeros(2)})
    bad = ShapesDataset(32).sample_factors(2, seed=0)
    bad["shape"] = np.array([0, 7])
    with pytest.raises(ValueError, match="shape must be in 0..3"):
        ShapesDataset(32).render(bad)


def test_batches_stream(ds):
    it = ds.batches(5, seed=1)
    (a, _), (b, _) = next(it), next(it)
    assert a.shape == (5, 3, 32, 32) and not np.array_equal(a, b)
    it2 = ds.batches(5, seed=1)
    assert np.array_equal(next(it2)[0], a)


def test_hsv_primaries():
    np.testing.assert_allclose(hsv_to_rgb(np.array([0.0, 1 / 3, 2 / 3]), 1.0, 1.0), np.eye(3), atol=1e-9)
