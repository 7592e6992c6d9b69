"""Differentiable augmentation of the discriminator's input (DiffAugment).

Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training" (NeurIPS
2020): real and generated images pass through the same random, differentiable
transformations before the discriminator, and the generator is trained through
them. It keeps the discriminator from winning by memorising pixel detail, which
is what stalled our small GANs without it. Two transformations, both of which
leave the image distribution recoverable (they do not leak into the generator):

- ``translation``: shift each image by up to 1/8 of its size, zero-padded;
- ``cutout``: zero a random square of half the image size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["POLICIES", "diff_augment"]

POLICIES = ("translation", "cutout")


def check_policy(policy: str) -> tuple[str, ...]:
    """``"translation,cutout"`` → ("translation", "cutout"); "" → ()."""
    names = tuple(p for p in policy.split(",") if p)
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown}: choose from {list(POLICIES)}")
    return names


def _translation(x: Tensor, gen: torch.Generator, ratio: float = 0.125) -> Tensor:
    n, c, h, w = x.shape
    r = max(1, int(h * ratio))
    dy = torch.randint(-r, r + 1, (n, 1, 1), generator=gen).to(x.device)
    dx = torch.randint(-r, r + 1, (n, 1, 1), generator=gen).to(x.device)
    padded = F.pad(x, [r, r, r, r])  # (n, c, h + 2r, w + 2r)
    iy = torch.arange(h, device=x.device)[None, :, None] + r - dy  # (n, h, 1)
    ix = torch.arange(w, device=x.device)[None, None, :] + r - dx  # (n, 1, w)
    out = padded[torch.arange(n, device=x.device)[:, None, None], :, iy, ix]  # (n, h, w, c)
    return out.permute(0, 3, 1, 2)


def _cutout(x: Tensor, gen: torch.Generator, ratio: float = 0.5) -> Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio), int(w * ratio)
    cy = torch.randint(0, h, (n, 1, 1), generator=gen).to(x.device)
    cx = torch.randint(0, w, (n, 1, 1), generator=gen).to(x.device)
    yy = torch.arange(h, device=x.device)[None, :, None]
    xx = torch.arange(w, device=x.device)[None, None, :]
    keep = ((yy - cy).abs() * 2 >= sh) | ((xx - cx).abs() * 2 >= sw)  # (n, h, w)
    return x * keep[:, None].to(x.dtype)


def diff_augment(x: Tensor, policy: tuple[str, ...], gen: torch.Generator) -> Tensor:
    """Apply the named transformations to NCHW images, drawing from ``gen`` (a CPU generator)."""
    for name in policy:
        x = _translation(x, gen) if name == "translation" else _cutout(x, gen)
    return x
