"""The factor probe: a small CNN that reads a shapes image's generative factors.

Trained on rendered images with their true factors (`sfvq_lib.data`), it is the
instrument that tells what a generated image shows: its shape class, hues, scale,
rotation and position. `evaluate_generator` measures a GAN with it:

- the Fréchet distance between probe features of generated and real images (and the
  same distance between two disjoint real sets, the floor);
- the share of generated images whose shape the probe names with probability ≥ 0.9;
- per factor, the total-variation distance between the probe's readings on generated
  and on real images (histograms over the factor's range);
- for a class-conditional GAN of our shapes (a BigGAN whose classes are the shapes),
  asked for as many images of every class: ``class_agreement``, the share whose
  shape the probe reads as the class asked for, and ``shape_confident_by_class``, the
  confident share among the images asked for each class.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import linalg
from torch import Tensor, nn
from tqdm import tqdm

from ._validation import check_device
from .data import FACTORS, SHAPES, ShapesDataset
from .io import atomic_save, load_checked

__all__ = [
    "FactorProbe",
    "classes_are_shapes",
    "evaluate_generator",
    "load_probe",
    "probe_accuracy",
    "jitter_colours",
    "train_probe",
]

PROBE_DIR = Path(__file__).resolve().parents[1] / "data" / "probe"
_KIND = "sfvq_lib.probe"
_CIRCULAR = [f.name for f in FACTORS if f.kind == "circular"]
_LINEAR = [f.name for f in FACTORS if f.kind == "continuous"]
_N_SHAPES = FACTORS[0].n_classes


class FactorProbe(nn.Module):
    """CNN: image (N, 3, R, R) in [-1, 1] → factor predictions and features.

    Outputs: shape logits; each hue as a (cos, sin) pair; every continuous factor
    scaled to [0, 1] over its range.
    """

    def __init__(self, resolution: int = 32, width: int = 16, n_features: int = 128):
        super().__init__()
        self.resolution, self.width, self.n_features = resolution, width, n_features
        layers, ch, res = [], 3, resolution
        for out in (width, width * 2, width * 4):
            layers += [
                nn.Conv2d(ch, out, 3, padding=1),
                nn.LeakyReLU(0.2),
                nn.Conv2d(out, out, 3, 2, 1),
                nn.LeakyReLU(0.2),
            ]
            ch, res = out, res // 2
        self.body = nn.Sequential(*layers)
        self.features = nn.Sequential(nn.Flatten(), nn.Linear(ch * res * res, n_features), nn.LeakyReLU(0.2))
        self.head = nn.Linear(n_features, _N_SHAPES + 2 * len(_CIRCULAR) + len(_LINEAR))

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Returns (raw head outputs (N, n_out), features (N, n_features))."""
        h = self.features(self.body(images))
        return self.head(h), h

    def init_kwargs(self) -> dict:
        return {"resolution": self.resolution, "width": self.width, "n_features": self.n_features}


def _targets(factors: dict) -> dict[str, Tensor]:
    out = {"shape": torch.as_tensor(factors["shape"], dtype=torch.long)}
    for name in _CIRCULAR:
        a = 2 * math.pi * torch.as_tensor(factors[name], dtype=torch.float32)
        out[name] = torch.stack([a.cos(), a.sin()], 1)
    for f in FACTORS:
        if f.name in _LINEAR:
            out[f.name] = (torch.as_tensor(factors[f.name], dtype=torch.float32) - f.low) / (f.high - f.low)
    return out


def _split(raw: Tensor) -> dict[str, Tensor]:
    out = {"shape": raw[:, :_N_SHAPES]}
    i = _N_SHAPES
    for name in _CIRCULAR:
        out[name] = raw[:, i : i + 2]
        i += 2
    for name in _LINEAR:
        out[name] = raw[:, i]
        i += 1
    return out


def _loss(raw: Tensor, target: dict[str, Tensor]) -> Tensor:
    pred = _split(raw)
    loss = F.cross_entropy(pred["shape"], target["shape"])
    for name in _CIRCULAR:
        loss = loss + F.mse_loss(pred[name], target[name])
    for name in _LINEAR:
        loss = loss + 4 * F.mse_loss(pred[name], target[name])
    return loss


@torch.no_grad()
def read_factors(probe: FactorProbe, images, batch_size: int = 512) -> dict[str, np.ndarray]:
    """The probe's reading of images: factor values (in their units), shape
    probabilities (``shape_prob``, (n, 4)) and features (``features``, (n, F))."""
    probe.eval()
    dev = next(probe.parameters()).device
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    raws, feats = [], []
    for a in range(0, len(x), batch_size):
        raw, h = probe(x[a : a + batch_size].to(dev))
        raws.append(raw.cpu())
        feats.append(h.cpu())
    pred = _split(torch.cat(raws))
    out = {"shape_prob": pred["shape"].softmax(1).numpy(), "features": torch.cat(feats).numpy()}
    out["shape"] = out["shape_prob"].argmax(1)
    for name in _CIRCULAR:
        out[name] = (torch.atan2(pred[name][:, 1], pred[name][:, 0]).numpy() / (2 * math.pi)) % 1.0
    for f in FACTORS:
        if f.name in _LINEAR:
            out[f.name] = f.low + pred[f.name].clamp(0, 1).numpy() * (f.high - f.low)
    return out


def probe_accuracy(probe: FactorProbe, n: int = 2000, seed: int = 10_001) -> dict[str, float]:
    """Held-out accuracy: shape accuracy; R² for every other factor (hues: of (cos, sin);
    rotation: on the shapes other than the disc, whose rotation does not show)."""
    ds = ShapesDataset(probe.resolution)
    images, factors = ds.sample(n, seed=seed)
    read = read_factors(probe, images)
    out = {"shape": float((read["shape"] == factors["shape"]).mean())}
    visible = factors["shape"] != SHAPES.index("disc")  # a disc's rotation does not show
    for f in FACTORS[1:]:
        if f.name == "rotation":
            t, p = factors[f.name][visible, None], read[f.name][visible, None]
        elif f.kind == "circular":
            t = np.stack([np.cos(2 * np.pi * factors[f.name]), np.sin(2 * np.pi * factors[f.name])], 1)
            p = np.stack([np.cos(2 * np.pi * read[f.name]), np.sin(2 * np.pi * read[f.name])], 1)
        else:
            t, p = factors[f.name][:, None], read[f.name][:, None]
        out[f.name] = float(1 - ((t - p) ** 2).sum() / ((t - t.mean(0)) ** 2).sum())
    return out


# ``jitter``'s ranges, per image: saturation (a factor about the pixel's grey), brightness (a
# factor), and an offset (on [0, 1])
_JITTER = {"saturation": (0.75, 1.15), "brightness": (0.75, 1.1), "offset": (-0.08, 0.08)}


def jitter_colours(images: Tensor, generator: torch.Generator, share: float = 0.5) -> Tensor:
    """A random ``share`` of ``images`` [N, 3, H, W] in [-1, 1] with each image's saturation,
    brightness and offset drawn from ``_JITTER``; the hue of every pixel is kept (up to clipping)."""
    n = len(images)

    def draw(low, high):
        return low + (high - low) * torch.rand(n, 1, 1, 1, generator=generator)

    chosen = torch.rand(n, 1, 1, 1, generator=generator) < share
    draws = [draw(*_JITTER[k]) for k in ("saturation", "brightness", "offset")]
    saturation, brightness, offset = (d.to(images.device) for d in draws)
    y = (images + 1) / 2
    grey = y.mean(1, keepdim=True)
    y = (grey + saturation * (y - grey)) * brightness + offset
    return torch.where(chosen.to(images.device), y.clamp(0, 1) * 2 - 1, images)


def train_probe(
    resolution: int = 32,
    steps: int = 3000,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    device="cpu",
    progress: bool = True,
    jitter: bool = False,
) -> FactorProbe:
    """Train a probe on freshly rendered images (deterministic for a seed).

    ``jitter``: half of each batch gets its colours jittered (`jitter_colours`). Every render's
    object has one saturation and value, and a probe trained on them alone reads brightness as part
    of the shape: the shipped one reads real discs whose object is 10 % / 20 % darker as discs
    (p >= 0.9) 66 % / 0.5 % of the time (99.8 % as rendered).
    """
    dev = check_device(device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        probe = FactorProbe(resolution).to(dev)
    opt = torch.optim.Adam(probe.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    ds = ShapesDataset(resolution)
    colours = torch.Generator().manual_seed(seed)
    probe.train()
    for step in tqdm(range(steps), desc="train-probe", disable=not progress):
        images, factors = ds.sample(batch_size, seed=[seed, step])
        target = {k: v.to(dev) for k, v in _targets(factors).items()}
        images = torch.from_numpy(images).to(dev)
        if jitter:
            images = jitter_colours(images, colours)
        raw, _ = probe(images)
        loss = _loss(raw, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return probe.eval()


def save_probe(probe: FactorProbe, path, extra: dict | None = None) -> Path:
    return atomic_save(
        {
            "kind": _KIND,
            "format_version": 1,
            "init_kwargs": probe.init_kwargs(),
            "state_dict": {k: v.cpu() for k, v in probe.state_dict().items()},
            "extra": extra or {},
        },
        path,
    )


def load_probe(path=None, resolution: int = 32, device="cpu") -> FactorProbe:
    """Load a probe file; by default the shipped one for ``resolution``."""
    path = Path(path) if path is not None else PROBE_DIR / f"shapes-{resolution}.pt"
    if not path.is_file():
        raise FileNotFoundError(f"no probe at {path}: train one with `sfvq train-probe --out {path}`")
    obj = load_checked(path, _KIND, 1, fix="train the probe again")
    probe = FactorProbe(**obj["init_kwargs"])
    probe.load_state_dict(obj["state_dict"])
    return probe.to(check_device(device)).eval()


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (n, F)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def _histogram(values: np.ndarray, f, bins: int = 10) -> np.ndarray:
    if f.kind == "categorical":
        counts = np.bincount(values.astype(int), minlength=f.n_classes)
    else:
        counts, _ = np.histogram(values, bins=bins, range=(f.low, f.high))
    return counts / max(counts.sum(), 1)


def classes_are_shapes(generator) -> bool:
    """Whether ``generator`` is conditional on our shapes: its classes are `SHAPES`."""
    return list(getattr(generator, "class_names", [])) == list(SHAPES)


def evaluate_generator(
    generator, probe: FactorProbe | None = None, n: int = 2000, seed: int = 0, truncation_psi: float = 1.0
) -> dict:
    """Measure a shapes GAN with the probe (see the module docstring)."""
    probe = probe or load_probe(resolution=generator.img_resolution)
    ds = ShapesDataset(probe.resolution)
    shapes_as_classes = classes_are_shapes(generator)
    # a GAN conditional on our shapes: as many images of every class
    classes = np.arange(n) % len(SHAPES) if shapes_as_classes else None
    latents = generator.sample(n, seed=seed, truncation_psi=truncation_psi, class_=classes)
    if generator.default_space == "z":  # BigGAN-family: the class goes in beside z
        fake_images = generator.synthesize(latents, truncation_psi=truncation_psi, class_=classes)
    else:  # the mapping has read the class (and the truncation) into w
        fake_images = generator.synthesize(latents)
    if fake_images.shape[-1] != probe.resolution:
        raise ValueError(
            f"the probe reads {probe.resolution}-px images, the generator makes {fake_images.shape[-1]}-px"
        )
    fake = read_factors(probe, np.clip(fake_images, -1, 1))
    real = read_factors(probe, ds.sample(n, seed=[seed, 1])[0])
    real2 = read_factors(probe, ds.sample(n, seed=[seed, 2])[0])
    sure = fake["shape_prob"].max(1) >= 0.9  # the images whose shape the probe names confidently
    extra = {}
    if shapes_as_classes:  # how often the probe sees the shape the generator was asked for
        extra["class_agreement"] = float((fake["shape_prob"].argmax(1) == classes).mean())
        extra["shape_confident_by_class"] = {
            name: float(sure[classes == k].mean()) for k, name in enumerate(SHAPES) if (classes == k).any()
        }
    return {
        "frechet": frechet_distance(fake["features"], real["features"]),
        "frechet_real_floor": frechet_distance(real2["features"], real["features"]),
        "shape_confident_share": float(sure.mean()),
        "tv": {
            f.name: float(0.5 * np.abs(_histogram(fake[f.name], f) - _histogram(real[f.name], f)).sum())
            for f in FACTORS
        },
        "probe_accuracy": probe_accuracy(probe),
        **extra,
        "n": n,
        "seed": seed,
        "truncation_psi": truncation_psi,
    }
