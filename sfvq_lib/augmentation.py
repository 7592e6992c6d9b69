"""Controllable data augmentation from a curve, and the experiment that measures it.

A line of the curve whose two corner points decode to the same class stays inside
that class's region: points drawn along it decode to new images of that class
(`line_samples`). `augmentation_gain` trains a small classifier on a few labelled
real renders, with and without such images, and measures both on held-out renders.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import curve
from .data import SHAPES, ShapesDataset

__all__ = ["augmentation_gain", "class_lines", "line_samples", "mean_ci", "train_classifier"]


def class_lines(readings: dict, min_prob: float = 0.9) -> dict[int, np.ndarray]:
    """Per class, the lines (0-based) whose two corner points the probe reads as that
    class with probability ≥ ``min_prob``."""
    p = readings["shape_prob"]
    best, conf = p.argmax(1), p.max(1)
    ok = (best[:-1] == best[1:]) & (conf[:-1] >= min_prob) & (conf[1:] >= min_prob)
    return {k: np.flatnonzero(ok & (best[:-1] == k)) for k in range(p.shape[1])}


def line_samples(codebook, lines, n: int, seed: int = 0) -> np.ndarray:
    """``n`` points drawn uniformly along the given lines of the curve, (n, d)."""
    rng = np.random.default_rng(seed)
    lines = np.asarray(lines)
    t = rng.choice(lines, size=n) + rng.uniform(0, 1, size=n)
    return np.asarray(curve.interpolate(np.asarray(codebook, dtype=np.float32), t.astype(np.float32)))


def _classifier(n_classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(64, n_classes),
    )  # fmt: skip


def train_classifier(images, labels, n_classes: int, steps: int = 400, seed: int = 0) -> nn.Module:
    """A small CNN trained on NCHW images in [-1, 1] with integer labels."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    y = torch.as_tensor(np.asarray(labels)).long()
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _classifier(n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(steps):
        idx = torch.randint(len(x), (min(64, len(x)),), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def _accuracy(model, images, labels) -> float:
    pred = model(torch.as_tensor(np.asarray(images, dtype=np.float32))).argmax(1).numpy()
    return float((pred == np.asarray(labels)).mean())


def augmentation_gain(
    g,
    codebook,
    readings: dict,
    n_per_class: int = 10,
    n_aug_per_class: int = 100,
    seeds=(0, 1, 2),
    n_test: int = 1000,
    steps: int = 400,
    truncation_psi: float = 1.0,
) -> dict:
    """Accuracy of a shape classifier trained on ``n_per_class`` labelled real renders
    per class, without and with ``n_aug_per_class`` curve-line images per class.

    Classes with no line inside their region get no augmented images. Returns
    ``{"without": [acc per seed], "with": [...], "classes_augmented": [...]}``.
    """
    ds = ShapesDataset(g.img_resolution)
    n_classes = len(SHAPES)
    lines = class_lines(readings)
    test_x, test_f = ds.sample(n_test, seed=[10_000, 7])
    out = {"without": [], "with": [], "classes_augmented": [SHAPES[k] for k, v in lines.items() if len(v)]}
    for seed in seeds:
        x, f = ds.sample(40 * n_per_class * n_classes, seed=[seed, 11])
        pick = np.concatenate([np.flatnonzero(f["shape"] == k)[:n_per_class] for k in range(n_classes)])
        small_x, small_y = x[pick], f["shape"][pick]
        base = train_classifier(small_x, small_y, n_classes, steps, seed)
        out["without"].append(_accuracy(base, test_x, test_f["shape"]))
        aug_x, aug_y = [small_x], [small_y]
        for k, ls in lines.items():
            if len(ls):
                w = line_samples(codebook, ls, n_aug_per_class, seed=seed * 100 + k)
                extra = {"class_": k} if not g.w_dim else {}
                aug_x.append(
                    np.clip(
                        g.synthesize(w, space=g.default_space, truncation_psi=truncation_psi, **extra), -1, 1
                    )
                )
                aug_y.append(np.full(len(w), k))
        model = train_classifier(np.concatenate(aug_x), np.concatenate(aug_y), n_classes, steps, seed)
        out["with"].append(_accuracy(model, test_x, test_f["shape"]))
    return out


def mean_ci(values, level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of its Student-t confidence interval."""
    from scipy import stats

    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    half = stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return float(v.mean()), float(half)
