"""A small StyleGAN2-architecture generator with NVIDIA's API.

Written from the StyleGAN2 paper (Karras et al., CVPR 2020): a mapping network to W,
one style per synthesis layer (W+), modulated and demodulated convolutions,
per-pixel noise, skip-connected RGB outputs (or, with ``architecture="orig"``, one RGB
output at the end, NVIDIA's other option, which our shapes GAN uses) and equalized
learning rate. It has the exact interface of NVIDIA's ``G_ema`` (constructor names,
size attributes, ``mapping(z, c, truncation_psi, truncation_cutoff)``,
``synthesis(ws, noise_mode)``, ``mapping.w_avg``), so the rest of the library treats
our model and a user's NVIDIA pickle the same way. Upsampling is bilinear rather than
NVIDIA's FIR filter (no custom ops), which is enough at 32–64 px.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Discriminator", "Generator", "MappingNetwork", "SynthesisNetwork"]

_SQRT2 = math.sqrt(2.0)
RGB_KERNELS = (1, 3)  # the kernel sizes an RGB output may have: NVIDIA's 1x1, or 3x3


def _upsample2x(x: Tensor) -> Tensor:
    # channels-last input: torch's CPU bilinear kernel is ~8x faster on that layout
    return F.interpolate(x.contiguous(memory_format=torch.channels_last), scale_factor=2, mode="bilinear")


def _lrelu(x: Tensor) -> Tensor:
    return F.leaky_relu(x, 0.2) * _SQRT2  # gain keeps the activations' scale


def turn_hue(img: Tensor, turn: Tensor) -> Tensor:
    """Turn the HSV hue of every pixel of ``img`` [N, 3, H, W] by ``turn`` [N] (in turns: 1 is the
    whole circle), keeping each pixel's value and saturation exactly (so a turned object keeps its
    brightness, which a rotation about the grey axis would not). Works on any range (the value is
    the largest channel, the chroma the largest minus the smallest); zeros leave ``img`` unchanged."""
    r, g, b = img.unbind(1)
    v = img.amax(1)
    chroma = v - img.amin(1)
    c = chroma + 1e-8
    h6 = torch.where(v == r, ((g - b) / c) % 6, torch.where(v == g, (b - r) / c + 2, (r - g) / c + 4))
    h6 = (h6 + 6 * turn.reshape(-1, 1, 1)) % 6
    n = torch.tensor([5.0, 3.0, 1.0], device=img.device, dtype=img.dtype).reshape(1, 3, 1, 1)
    k = (n + h6[:, None]) % 6
    return v[:, None] - chroma[:, None] * torch.minimum(k, 4 - k).clamp(0, 1)


class HueTurn(nn.Module):
    """The turn (in turns) of `turn_hue` from a style: the angle of the point (1 + a·w, b·w), so
    that the turns can wrap all round the circle; zero weights (the start) turn nothing."""

    def __init__(self, w_dim: int):
        super().__init__()
        # made without drawing random numbers, so that the rest of a generator (and of its
        # training) draws what it would without the turn
        self.linear = nn.utils.skip_init(nn.Linear, w_dim, 2)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.active = True  # off: `SynthesisNetwork` skips the turn (training's hue_turn_from)

    def forward(self, w: Tensor) -> Tensor:
        x, y = self.linear(w).unbind(1)
        return torch.atan2(y, 1 + x) / (2 * math.pi)


def affine_warp(x: Tensor, params: Tensor) -> Tensor:
    """Rotate and shift each feature map of ``x`` [N, C, H, W] by ``params`` [N, 3].

    ``params`` holds an angle (radians) and a shift (x, y) in torch's normalized
    coordinates (the map spans [-1, 1]): output(p) = x(R(angle) p + shift), sampled
    bilinearly with the edge values repeated outside. Zeros leave ``x`` unchanged.
    """
    angle, shift = params[:, 0], params[:, 1:3]
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def warp_predictor(in_features: int) -> nn.Linear:
    """A linear map to `affine_warp`'s parameters, zero at the start (no warp)."""
    layer = nn.Linear(in_features, 3)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class UniformWarp(nn.Module):
    """`warp_predictor`'s map for inputs whose first ``z_dim`` entries are standard normal (the
    BigGAN's z): the part read from z goes through the normal CDF, so that over z each parameter is
    spread uniformly over bias + the rest's part ± ``amp`` (a linear map of z is normal: its shifts
    and angles bunch up mid-range, where the positions and angles of our shapes are uniform).
    ``weight`` and ``bias`` are named as in `warp_predictor`'s linear layer; ``amp`` starts at 0 (no
    warp) and ``weight``'s z part is a random direction (only its direction counts)."""

    def __init__(self, in_features: int, z_dim: int):
        super().__init__()
        assert 0 < z_dim <= in_features
        self.in_features, self.z_dim = in_features, z_dim
        self.weight = nn.Parameter(torch.zeros(3, in_features))
        nn.init.normal_(self.weight[:, :z_dim], std=z_dim**-0.5)
        self.bias = nn.Parameter(torch.zeros(3))
        self.amp = nn.Parameter(torch.zeros(3))

    def forward(self, x: Tensor) -> Tensor:
        wz = self.weight[:, : self.z_dim]
        u = x[:, : self.z_dim] @ (wz / wz.norm(dim=1, keepdim=True).clamp_min(1e-8)).T  # standard normal
        rest = F.linear(x[:, self.z_dim :], self.weight[:, self.z_dim :], self.bias)
        return rest + self.amp * torch.erf(u / math.sqrt(2))


class FullyConnected(nn.Module):
    """Linear layer with equalized learning rate (weights scaled at run time)."""

    def __init__(self, in_features, out_features, bias_init=0.0, lr_multiplier=1.0, activation=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init)))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)
        return _lrelu(x) if self.activation else x


class EqConv2d(nn.Module):
    """Convolution with equalized learning rate (weights scaled at run time)."""

    def __init__(self, in_channels, out_channels, kernel_size, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size**2)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.weight.shape[-1] // 2)


class MappingNetwork(nn.Module):
    """z (and class c) → w, broadcast to ``num_ws`` copies (W+), with truncation."""

    def __init__(
        self,
        z_dim: int,  # input latent size
        c_dim: int,  # conditioning label size, 0 = unconditional
        w_dim: int,  # intermediate latent size
        num_ws: int,  # number of copies of w (the synthesis network's styles)
        num_layers: int = 4,  # fully connected layers
        lr_multiplier: float = 0.01,  # learning-rate scale of the mapping layers
        w_avg_beta: float = 0.995,  # decay of the running mean of w, for truncation
        # conditional: w also gets a learned vector per class, added after the layers (at the full
        # learning rate), so every style reads the class directly, whatever z is; as BigGAN's
        # class embedding reaches every block. NVIDIA's conditional mapping has no such term
        class_skip: bool = False,
    ):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.w_avg_beta = w_avg_beta
        assert not class_skip or c_dim > 0, "class_skip needs a conditional mapping (c_dim > 0)"
        if c_dim > 0:
            self.embed = FullyConnected(c_dim, w_dim)
        self.skip = FullyConnected(c_dim, w_dim) if class_skip else None
        dims = [z_dim + (w_dim if c_dim > 0 else 0)] + [w_dim] * num_layers
        self.layers = nn.ModuleList(
            FullyConnected(a, b, lr_multiplier=lr_multiplier, activation=True)
            for a, b in zip(dims[:-1], dims[1:], strict=True)
        )
        self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(self, z, c=None, truncation_psi=1, truncation_cutoff=None, update_emas=False) -> Tensor:
        assert z.ndim == 2 and z.shape[1] == self.z_dim, f"z must be [N, {self.z_dim}], got {list(z.shape)}"
        x = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()  # normalize the 2nd moment
        if self.c_dim > 0:
            assert c is not None and c.shape == (len(z), self.c_dim), f"c must be [N, {self.c_dim}]"
            c = c.to(z.dtype)
            y = self.embed(c)
            x = torch.cat([x, y * (y.square().mean(1, keepdim=True) + 1e-8).rsqrt()], dim=1)
        for layer in self.layers:
            x = layer(x)
        if self.skip is not None:
            x = x + self.skip(c)
        if update_emas:
            self.w_avg.copy_(x.detach().mean(0).lerp(self.w_avg, self.w_avg_beta))
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)  # [N, num_ws, w_dim]
        if truncation_psi != 1:
            cutoff = self.num_ws if truncation_cutoff is None else truncation_cutoff
            ws[:, :cutoff] = self.w_avg.lerp(ws[:, :cutoff], truncation_psi)
        return ws


def modulated_conv2d(
    x: Tensor,
    weight: Tensor,
    styles: Tensor,
    demodulate: bool = True,
    fixed: Tensor | None = None,
    fixed_style: float = 1.0,
) -> Tensor:
    """StyleGAN2's modulated convolution.

    Computed by scaling the input channels, one shared convolution and scaling the
    output channels (StyleGAN2's non-fused form): the same result as convolving
    each sample with its own modulated weights, and far faster on a CPU.

    x: [N, I, H, W]; weight: [O, I + J, k, k]; styles: [N, I] → [N, O, H, W]. ``fixed``
    [1, J, H, W] (J = 0 without): input channels that are the same for every sample, all
    with the style ``fixed_style`` (the coordinates of `with_coords`); the same result as
    appending them to every sample's ``x``, without copying ``x``.
    """
    k = weight.shape[-1]
    i = styles.shape[1]
    out = F.conv2d(x * styles[:, :, None, None], weight[:, :i], padding=k // 2)  # [N, O, H, W]
    if fixed is not None:
        out = out + F.conv2d(fixed * fixed_style, weight[:, i:], padding=k // 2)  # [1, O, H, W]
    if demodulate:
        # |modulated weight|² per sample and output channel: Σ_i s_i² Σ_kk w_oikk²
        square = weight.square().sum(dim=[2, 3])  # [O, I + J]
        total = styles.square() @ square[:, :i].T
        if fixed is not None:
            total = total + fixed_style**2 * square[:, i:].sum(1)
        out = out * (total + 1e-8).rsqrt()[:, :, None, None]
    return out


def with_coords(x: Tensor) -> Tensor:
    """``x`` [N, C, H, W] with two more channels: each pixel's x and y, from -1 to 1 (CoordConv)."""
    n, _, h, w = x.shape
    ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype)
    xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"))  # [2, H, W]: x, then y
    return torch.cat([x, grid.expand(n, 2, h, w)], dim=1)


class SynthesisLayer(nn.Module):
    """Style-modulated 3×3 convolution (optionally 2× upsampled), noise, bias, lrelu. With
    ``coords`` it also reads each pixel's coordinates (`with_coords`), unmodulated (style 1)."""

    def __init__(
        self,
        in_channels,
        out_channels,
        w_dim,
        resolution,
        up=False,
        use_noise=True,
        pixel_norm=False,
        coords=False,
    ):
        super().__init__()
        self.use_noise, self.pixel_norm, self.coords = use_noise, pixel_norm, coords
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1.0)
        extra = 2 if coords else 0
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels + extra, 3, 3))
        self.weight_gain = 1.0 / math.sqrt((in_channels + extra) * 9)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.up, self.resolution = up, resolution

    def forward(self, x: Tensor, w: Tensor, noise_mode: str = "random") -> Tensor:
        if self.up:
            x = _upsample2x(x)
        styles = self.affine(w) * self.weight_gain
        fixed = with_coords(x[:1, :0]) if self.coords else None  # [1, 2, H, W]: the coordinates alone
        x = modulated_conv2d(x, self.weight, styles, fixed=fixed, fixed_style=self.weight_gain)
        if not self.use_noise:
            pass
        elif noise_mode == "random":
            x = x + torch.randn_like(x[:, :1]) * self.noise_strength
        elif noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        x = _lrelu(x + self.bias.reshape(1, -1, 1, 1))
        if self.pixel_norm:  # unit mean square over channels at every pixel (ProGAN's pixel norm)
            x = x * (x.square().mean(1, keepdim=True) + 1e-8).rsqrt()
        return x


class ToRGB(nn.Module):
    """Style-modulated convolution to RGB (``kernel_size`` 1, NVIDIA's, or 3), without demodulation."""

    def __init__(self, in_channels, img_channels, w_dim, kernel_size=1):
        super().__init__()
        self.affine = FullyConnected(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(img_channels, in_channels, kernel_size, kernel_size))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size**2)
        self.bias = nn.Parameter(torch.zeros(img_channels))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        styles = self.affine(w) * self.weight_gain
        return modulated_conv2d(x, self.weight, styles, demodulate=False) + self.bias.reshape(1, -1, 1, 1)


class SynthesisBlock(nn.Module):
    """One resolution: (upsampling conv +) conv, and its RGB output.

    ``architecture="skip"`` (StyleGAN2's default): every block has an RGB output, added
    to the upsampled image of the blocks before. ``"orig"``: only the last block has one.
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        w_dim,
        resolution,
        img_channels,
        use_noise=True,
        pixel_norm=False,
        is_last=True,
        architecture="skip",
        warp=False,
        coords=False,
        rgb_kernel=1,
    ):
        super().__init__()
        self.resolution = resolution
        # a learned rotation + shift of the incoming feature map, from this block's first style
        self.warp = warp_predictor(w_dim) if warp else None
        if in_channels == 0:  # the first block starts from a learned constant
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
            self.conv0 = None
        else:
            self.conv0 = SynthesisLayer(
                in_channels,
                out_channels,
                w_dim,
                resolution,
                up=True,
                use_noise=use_noise,
                pixel_norm=pixel_norm,
                coords=coords,
            )
        self.conv1 = SynthesisLayer(
            out_channels,
            out_channels,
            w_dim,
            resolution,
            use_noise=use_noise,
            pixel_norm=pixel_norm,
            coords=coords,
        )
        rgb = is_last or architecture == "skip"
        self.torgb = ToRGB(out_channels, img_channels, w_dim, rgb_kernel) if rgb else None
        self.num_conv = 1 if self.conv0 is None else 2
        self.num_torgb = 0 if self.torgb is None else 1

    def forward(self, x, img, ws, noise_mode):
        i = 0
        if self.conv0 is None:
            x = self.const.unsqueeze(0).repeat(len(ws), 1, 1, 1)
        else:
            if self.warp is not None:
                x = affine_warp(x, self.warp(ws[:, 0]))
            x = self.conv0(x, ws[:, i], noise_mode)
            i += 1
        x = self.conv1(x, ws[:, i], noise_mode)
        if self.torgb is None:
            return x, img
        y = self.torgb(x, ws[:, i + 1])
        if img is not None:
            img = _upsample2x(img)
        return x, y if img is None else img + y


class SynthesisNetwork(nn.Module):
    """W+ styles [N, num_ws, w_dim] → image [N, img_channels, res, res], about [-1, 1]."""

    def __init__(
        self,
        w_dim: int,  # intermediate latent size
        img_resolution: int,  # output resolution, a power of 2 >= 4
        img_channels: int,  # output colour channels
        channels: dict | None = None,  # feature maps per resolution (default: 128 → 32)
        use_noise: bool = True,  # per-pixel noise inputs (StyleGAN2's stochastic detail)
        pixel_norm: bool = False,  # normalize features at every pixel after each layer (not in StyleGAN2)
        architecture: str = "skip",  # "skip": RGB output at every resolution, summed; "orig": last only
        # rotate and shift the feature map entering this resolution's block by a learned function
        # of its first style (0: none); like StyleGAN3's transformed input (Karras et al. 2021)
        warp_res: int = 0,
        # rotate and shift the finished image by a learned function of the last style, so that no
        # later layer can turn the object back upright (the background is repeated at the edges)
        warp_image: bool = False,
        # the blocks from this resolution on also read each pixel's coordinates in both their
        # convolutions (CoordConv, Liu et al. 2018, as the BigGAN's ``coord_res``); 0: none
        coord_res: int = 0,
        # the RGB outputs' kernel size: 1 (NVIDIA's) or 3, so that the last layer also reads each
        # pixel's neighbours when it draws an outline
        rgb_kernel: int = 1,
        # turn the finished image's hue by a learned function of the last style (`HueTurn`), which can
        # wrap round the circle: a map from the latents to the hue drawn by the convolutions alone
        # covers an arc, and a gap in it does not close
        hue_turn: bool = False,
    ):
        super().__init__()
        if rgb_kernel not in RGB_KERNELS:
            raise ValueError(f"rgb_kernel must be 1 or 3, got {rgb_kernel!r}")
        if architecture not in ("skip", "orig"):
            raise ValueError(f"architecture must be 'skip' or 'orig', got {architecture!r}")
        log2 = int(np.log2(img_resolution))
        assert img_resolution == 2**log2 and img_resolution >= 4
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        resolutions = [2**i for i in range(2, log2 + 1)]
        check_warp_res(warp_res, img_resolution)
        check_coord_res(coord_res, img_resolution)
        default = {4: 128, 8: 128, 16: 64, 32: 32, 64: 32}
        channels = {int(k): int(v) for k, v in (channels or {}).items()} or default
        self.block_resolutions = resolutions
        self.blocks = nn.ModuleList()
        self.num_ws = 0
        for res in resolutions:
            in_ch = 0 if res == 4 else channels[res // 2]
            block = SynthesisBlock(
                in_ch,
                channels[res],
                w_dim,
                res,
                img_channels,
                use_noise=use_noise,
                pixel_norm=pixel_norm,
                is_last=res == img_resolution,
                architecture=architecture,
                warp=res == warp_res,
                coords=bool(coord_res) and res >= coord_res,
                rgb_kernel=rgb_kernel,
            )
            self.blocks.append(block)
            self.num_ws += block.num_conv
        self.num_ws += 1  # the last block's RGB output
        self.image_warp = warp_predictor(w_dim) if warp_image else None
        self.hue_turn = HueTurn(w_dim) if hue_turn else None

    def forward(self, ws: Tensor, noise_mode: str = "random", force_fp32: bool = False) -> Tensor:
        assert ws.ndim == 3 and ws.shape[1:] == (self.num_ws, self.w_dim), (
            f"ws must be [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}"
        )
        x = img = None
        w_idx = 0
        for block in self.blocks:
            x, img = block(x, img, ws[:, w_idx : w_idx + block.num_conv + block.num_torgb], noise_mode)
            w_idx += block.num_conv
        if self.image_warp is not None:
            img = affine_warp(img, self.image_warp(ws[:, -1]))
        if self.hue_turn is not None and self.hue_turn.active:
            img = turn_hue(img, self.hue_turn(ws[:, -1]))
        return img


def block_resolutions(img_resolution: int) -> list[int]:
    """The resolutions of the generators' blocks: 8, 16, ..., the image's."""
    return [2**i for i in range(3, int(img_resolution).bit_length())]


def check_coord_res(coord_res: int, img_resolution: int, name: str = "coord_res") -> None:
    """CoordConv's lowest resolution: 0 (none), or one of the generators' block resolutions."""
    allowed = block_resolutions(img_resolution)
    if coord_res != 0 and coord_res not in allowed:
        raise ValueError(
            f"{name} must be 0 or one of the generator's block resolutions {allowed}, got {coord_res!r}"
        )


def check_warp_res(warp_res, img_resolution: int, name: str = "warp_res") -> None:
    """A warp needs an incoming feature map: 0, or a block resolution from 8 to the image's."""
    allowed = block_resolutions(img_resolution)
    if warp_res != 0 and warp_res not in allowed:
        raise ValueError(f"{name} must be 0 (no warp) or one of {allowed}, got {warp_res!r}")


class Generator(nn.Module):
    """Mapping followed by synthesis, with NVIDIA's ``G_ema`` interface."""

    def __init__(
        self,
        z_dim: int = 128,  # input latent size
        c_dim: int = 0,  # conditioning label size, 0 = unconditional
        w_dim: int = 128,  # intermediate latent size
        img_resolution: int = 32,  # output resolution
        img_channels: int = 3,  # output colour channels
        mapping_kwargs: dict | None = None,  # extra MappingNetwork arguments
        synthesis_kwargs: dict | None = None,  # extra SynthesisNetwork arguments
    ):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, **(synthesis_kwargs or {}))
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, c_dim, w_dim, self.num_ws, **(mapping_kwargs or {}))

    def forward(
        self, z, c=None, truncation_psi=1, truncation_cutoff=None, noise_mode="random", update_emas=False
    ):
        ws = self.mapping(z, c, truncation_psi, truncation_cutoff, update_emas=update_emas)
        return self.synthesis(ws, noise_mode=noise_mode)


MBSTD_GROUP = 4  # images per minibatch-standard-deviation group in the discriminator


class Discriminator(nn.Module):
    """A residual discriminator with equalized learning rate and minibatch std.

    With ``c_dim > 0`` it is class-conditional by projection (Miyato & Koyama 2018). With
    ``aux_classes > 0`` it also has a classifier head on the same features (AC-GAN, Odena et
    al. 2017): ``forward(img, c, aux=True)`` returns ``(score, class_logits)``. ``twin`` adds a
    second head of that size (``self.twin``; TAC-GAN, Gong et al. 2019, trained on generated
    images) and ``factor_logits > 0`` one more (``self.factors``), for the trainer, which reads
    every head from `features`.
    """

    def __init__(
        self,
        img_resolution: int = 32,
        img_channels: int = 3,
        c_dim: int = 0,
        channels: dict | None = None,
        aux_classes: int = 0,
        twin: bool = False,
        factor_logits: int = 0,
    ):
        super().__init__()
        log2 = int(np.log2(img_resolution))
        default = {64: 16, 32: 24, 16: 48, 8: 96, 4: 128}
        ch = {int(k): int(v) for k, v in (channels or {}).items()} or default
        self.img_resolution, self.img_channels, self.c_dim = img_resolution, img_channels, c_dim
        self.from_rgb = EqConv2d(img_channels, ch[img_resolution], 1)
        self.blocks = nn.ModuleList(
            _DBlock(ch[res], ch[res // 2]) for res in [2**i for i in range(log2, 2, -1)]
        )
        self.final_conv = EqConv2d(ch[4] + 1, ch[4], 3)
        self.final_fc = FullyConnected(ch[4] * 16, ch[4], activation=True)
        self.out = FullyConnected(ch[4], 1)
        if c_dim > 0:
            self.embed = FullyConnected(c_dim, ch[4])
        if aux_classes > 0:
            self.aux = FullyConnected(ch[4], aux_classes)
        if twin:
            if aux_classes <= 0:
                raise ValueError("a twin classifier head needs aux_classes > 0")
            self.twin = FullyConnected(ch[4], aux_classes)
        if factor_logits > 0:
            self.factors = FullyConnected(ch[4], factor_logits)

    def forward(self, img: Tensor, c: Tensor | None = None, aux: bool = False):
        score, h = self.features(img, c)
        return (score, self.aux(h)) if aux else score

    def features(self, img: Tensor, c: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The score [N, 1] and the features [N, C] the heads read."""
        img = img.contiguous(memory_format=torch.channels_last)  # faster CPU convolutions
        x = _lrelu(self.from_rgb(img))
        for block in self.blocks:
            x = block(x)
        n = len(x)
        group = min(MBSTD_GROUP, n) if n % min(MBSTD_GROUP, n) == 0 else 1
        # minibatch standard deviation over groups: images i, i + n / group, i + 2n / group, ...
        y = x.reshape(group, -1, *x.shape[1:])
        std = (y.var(0, unbiased=False) + 1e-8).sqrt().mean(dim=[1, 2, 3])  # [n / group]
        std = std.repeat(group).reshape(n, 1, 1, 1).expand(n, 1, *x.shape[2:])
        x = _lrelu(self.final_conv(torch.cat([x, std], 1)))
        h = self.final_fc(x.flatten(1))
        score = self.out(h)
        if self.c_dim > 0:
            assert c is not None, "a conditional discriminator needs c"
            score = score + (self.embed(c.to(h.dtype)) * h).sum(1, keepdim=True) / math.sqrt(h.shape[1])
        return score, h


class _DBlock(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.conv0 = EqConv2d(in_ch, in_ch, 3)
        self.conv1 = EqConv2d(in_ch, out_ch, 3)
        self.skip = EqConv2d(in_ch, out_ch, 1, bias=False)

    def forward(self, x):
        y = F.avg_pool2d(self.skip(x), 2)
        x = _lrelu(self.conv0(x))
        x = F.avg_pool2d(_lrelu(self.conv1(x)), 2)
        return (x + y) / _SQRT2
