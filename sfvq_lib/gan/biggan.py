"""A small BigGAN-style class-conditional generator.

Written from the BigGAN paper (Brock et al., ICLR 2019): a **shared class embedding**
concatenated with z into one condition vector that is **fed to every block** (as in
BigGAN-deep, the whole z goes to every block rather than one chunk per block),
residual up-sampling blocks whose normalisation takes its gain and bias from that
vector, and a final ``tanh``. The call matches huggingface's
pytorch-pretrained-BigGAN, ``G(z, class_label_one_hot, truncation)`` → NCHW in
[-1, 1], with ``embeddings = Linear(num_classes, embed_dim, bias=False)``, so one
adapter serves our model and a user's pretrained BigGAN.

Two deliberate differences: the normalisation is per sample (group norm) instead of
batch norm, so there are no running statistics to go stale between training and
sampling, and therefore ``truncation`` acts only through the sampling of z
(``truncation * truncnorm(-2, 2)``, BigGAN's truncation trick); the layers use the
equalized learning rate of our StyleGAN (one training recipe for both).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .stylegan import (
    EqConv2d,
    FullyConnected,
    UniformWarp,
    affine_warp,
    block_resolutions,
    check_coord_res,
    check_warp_res,
    warp_predictor,
    with_coords,
)

__all__ = ["BigGAN"]


class ConditionalNorm(nn.Module):
    """Group normalisation whose per-channel gain and bias are linear in the condition."""

    def __init__(self, channels: int, cond_dim: int, groups: int = 8):
        super().__init__()
        self.groups = min(groups, channels)
        self.gain = FullyConnected(cond_dim, channels, bias_init=1.0)
        self.bias = FullyConnected(cond_dim, channels)
        for layer in (self.gain, self.bias):  # start as plain normalisation
            nn.init.zeros_(layer.weight)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        x = F.group_norm(x, self.groups)
        return x * self.gain(cond)[:, :, None, None] + self.bias(cond)[:, :, None, None]


class GBlock(nn.Module):
    """Residual block: norm, relu, 2× nearest up-sampling, conv, norm, relu, conv; with ``coords``
    both convolutions also read the pixel coordinates (`with_coords`)."""

    def __init__(self, in_channels: int, out_channels: int, cond_dim: int, coords: bool = False):
        super().__init__()
        extra = 2 if coords else 0
        self.coords = coords
        self.norm0 = ConditionalNorm(in_channels, cond_dim)
        self.conv0 = EqConv2d(in_channels + extra, out_channels, 3)
        self.norm1 = ConditionalNorm(out_channels, cond_dim)
        self.conv1 = EqConv2d(out_channels + extra, out_channels, 3)
        self.skip = EqConv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        add = with_coords if self.coords else (lambda t: t)
        h = F.interpolate(F.relu(self.norm0(x, cond)), scale_factor=2.0, mode="nearest")
        h = self.conv1(add(F.relu(self.norm1(self.conv0(add(h)), cond))))
        return h + self.skip(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class BigGAN(nn.Module):
    """Class-conditional generator: ``G(z, class_label, truncation)`` → [N, 3, res, res].

    ``class_label`` is one-hot (or soft) ``[N, num_classes]``, as in
    pytorch-pretrained-BigGAN; ``truncation`` in (0, 1] is accepted for that API
    and otherwise unused (see the module docstring).
    """

    def __init__(
        self,
        z_dim: int = 128,  # input latent size
        num_classes: int = 4,  # number of classes (our shapes)
        embed_dim: int = 32,  # size of the shared class embedding
        img_resolution: int = 32,  # output resolution, a power of 2 >= 8
        img_channels: int = 3,  # output colour channels
        channels: dict | None = None,  # feature maps per resolution (default: 128 → 32)
        # rotate and shift the feature map entering this resolution's block by a learned function
        # of z and the class (0: none), as in our StyleGAN
        warp_res: int = 0,
        # rotate and shift the finished image by a learned function of z and the class, as in our
        # StyleGAN
        warp_image: bool = False,
        # the warps' parameters spread uniformly over z (`UniformWarp`), not normally
        warp_uniform: bool = False,
        # the blocks from this resolution on also read each pixel's coordinates (CoordConv, Liu et
        # al. 2018: plain convolutions place and draw geometric shapes poorly); 0: none
        coord_res: int = 0,
    ):
        super().__init__()
        log2 = int(np.log2(img_resolution))
        assert img_resolution == 2**log2 and img_resolution >= 8
        self.z_dim, self.num_classes, self.embed_dim = z_dim, num_classes, embed_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        default = {4: 128, 8: 128, 16: 64, 32: 32, 64: 32}
        ch = {int(k): int(v) for k, v in (channels or {}).items()} or default
        self.embeddings = nn.Linear(num_classes, embed_dim, bias=False)  # the shared class embedding
        nn.init.normal_(self.embeddings.weight)  # on z's scale
        cond_dim = z_dim + embed_dim
        self.gen_z = FullyConnected(cond_dim, ch[4] * 16)
        self.block_resolutions = block_resolutions(img_resolution)
        check_coord_res(coord_res, img_resolution)
        self.blocks = nn.ModuleList(
            GBlock(ch[r // 2], ch[r], cond_dim, coords=bool(coord_res) and r >= coord_res)
            for r in self.block_resolutions
        )
        check_warp_res(warp_res, img_resolution)
        self.warp_res = warp_res
        assert not warp_uniform or warp_res or warp_image, "warp_uniform needs warp_res or warp_image"

        def predictor():
            return UniformWarp(cond_dim, z_dim) if warp_uniform else warp_predictor(cond_dim)

        self.warp = predictor() if warp_res else None
        self.image_warp = predictor() if warp_image else None
        self.out_norm = nn.GroupNorm(min(8, ch[img_resolution]), ch[img_resolution])
        self.to_rgb = EqConv2d(ch[img_resolution], img_channels, 3)
        self._ch4 = ch[4]

    def condition(self, z: Tensor, class_label: Tensor) -> Tensor:
        """The vector every block reads: z and the class embedding, [N, z_dim + embed_dim]."""
        return torch.cat([z, self.embeddings(class_label.to(z.dtype))], dim=1)

    def forward(self, z: Tensor, class_label: Tensor, truncation: float = 1.0) -> Tensor:
        assert z.ndim == 2 and z.shape[1] == self.z_dim, f"z must be [N, {self.z_dim}], got {list(z.shape)}"
        assert class_label.shape == (len(z), self.num_classes), f"class_label must be [N, {self.num_classes}]"
        assert 0 < truncation <= 1, f"truncation must lie in (0, 1], got {truncation}"
        cond = self.condition(z, class_label)
        x = self.gen_z(cond).reshape(len(z), self._ch4, 4, 4)
        for res, block in zip(self.block_resolutions, self.blocks, strict=True):
            if res == self.warp_res:
                x = affine_warp(x, self.warp(cond))
            x = block(x, cond)
        img = torch.tanh(self.to_rgb(F.relu(self.out_norm(x))))
        return img if self.image_warp is None else affine_warp(img, self.image_warp(cond))
