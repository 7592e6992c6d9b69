import numpy as np
import pytest
import torch

from sfvq_lib import augmentation
from sfvq_lib.gan import Generator, StyleGANAdapter


def readings_from(classes, probs):
    p = np.full((len(classes), 4), 0.0)
    for i, (k, pr) in enumerate(zip(classes, probs, strict=True)):
        p[i] = (1 - pr) / 3
        p[i, k] = pr
    return {"shape_prob": p}


def test_class_lines_need_both_ends_confident_and_equal():
    r = readings_from([0, 0, 0, 1, 1, 2], [0.95, 0.95, 0.5, 0.99, 0.99, 0.99])
    lines = augmentation.class_lines(r)
    assert list(lines[0]) == [0] and list(lines[1]) == [3] and len(lines[2]) == 0 and len(lines[3]) == 0


def test_line_samples_lie_on_the_chosen_lines():
    cb = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32)
    pts = augmentation.line_samples(cb, [1], 50, seed=0)
    assert pts.shape == (50, 2)
    np.testing.assert_allclose(pts[:, 0], 1, atol=1e-6)
    assert 0 <= pts[:, 1].min() and pts[:, 1].max() <= 1


def test_mean_ci():
    m, h = augmentation.mean_ci([0.5, 0.6, 0.7])
    assert m == pytest.approx(0.6) and h == pytest.approx(4.303 * 0.1 / np.sqrt(3), rel=1e-3)


def test_augmentation_gain_runs_per_seed():
    torch.manual_seed(0)
    g = StyleGANAdapter(Generator(z_dim=16, w_dim=16))
    cb = g.sample(8, seed=0)
    r = readings_from([0] * 4 + [2] * 4, [0.99] * 8)
    out = augmentation.augmentation_gain(
        g, cb, r, n_per_class=2, n_aug_per_class=4, seeds=(0, 1), n_test=40, steps=3
    )
    assert len(out["with"]) == len(out["without"]) == 2 and out["classes_augmented"] == ["square", "triangle"]
    assert all(0 <= a <= 1 for a in out["with"] + out["without"])
