"""Training our small GANs on the procedural shapes dataset, resumably.

Two models: ``"stylegan"`` (`~sfvq_lib.gan.stylegan.Generator`, unconditional) and
``"biggan"`` (`~sfvq_lib.gan.biggan.BigGAN`, conditioned on the shape class, with a
projection discriminator). Both use the StyleGAN2 recipe's stabilisers (Karras et
al. 2020): equalized learning rate (in the layers), a mapping network with a 100×
lower learning rate, Adam with β = (0, 0.99), the non-saturating logistic loss, lazy
R1 regularisation of the discriminator, style mixing (StyleGAN), and an exponential
moving average of the generator (``G_ema``), which is the model we ship.

Training state is saved atomically every ``checkpoint_every`` steps; running the same
command again continues from the last checkpoint. Every random draw is derived from
``(seed, step)``, so a resumed run is the same as an uninterrupted one.

GAN training does not improve monotonically: on the shapes data a factor's
distribution can collapse and recover from one thousand steps to the next. So
``keep_every`` also writes the EMA generator every that many steps to
``OUT/snapshots/`` as a shippable weights file, to be measured
(``sfvq probe-eval --gan builtin:PATH.pt``) and chosen from.
"""

from __future__ import annotations

import copy
import json
import math
import platform
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .._validation import check_device, check_int
from ..data import FACTORS, SHAPES, ShapesDataset
from ..images import image_grid, save_png
from ..io import atomic_save, load_checked
from .adapter import StyleGANAdapter, save_builtin
from .augment import check_policy, diff_augment
from .biggan import BigGAN
from .biggan_adapter import BigGANAdapter
from .stylegan import MBSTD_GROUP as _GROUP
from .stylegan import RGB_KERNELS, Discriminator, Generator, check_coord_res, check_warp_res

__all__ = ["TrainConfig", "train_gan"]

_CKPT_KIND = "sfvq_lib.gan.checkpoint"
_SPREAD = [f for f in FACTORS if f.kind != "categorical"]  # the factors of ``factor_aux``
_BINS = 10
_CIRCULAR = torch.tensor([f.kind == "circular" for f in _SPREAD])  # the hues
_READER_LR = 2e-3
_READER_WARMUP = 2000  # steps (of 64 renders) the factor reader learns alone before G meets it
_READER_REFERENCE = 1024  # the latest real images whose readings G's are compared with
_WARP_SPREAD_WEIGHT = 10.0  # of ``warp_spread``'s loss
_PIXEL_D_LR = 2e-3  # the pixel discriminator's Adam learning rate (``pixel_d``)
PIXEL_D_SIZES = (1, 3, 5)  # the patch sides ``pixel_d_size`` may take
_MODELS = {"stylegan": Generator, "biggan": BigGAN}
_STYLEGAN_KWARGS = {
    # the mapping network at NVIDIA's lr_multiplier 0.01 (made for tens of millions of images):
    # in our runs it stays at its initial weights (0.06-0.2 % moved in 2,000-10,000 steps), w a
    # random function of z and the class. The conditional recipe forked at 10,258 steps with
    # lr_multiplier 1 (train-gan --mapping-lr-mult 1), measured to 13,500: object hue TV
    # 0.29-0.35 -> 0.13-0.16 within 1,000 steps (its per-class narrow hue bands), Fréchet 7-8 ->
    # 3.7-3.9, conf 0.78 -> 0.82; background hue (0.21-0.22) and x (0.19-0.21) did not move
    "mapping_kwargs": {"num_layers": 2},
    # no noise inputs (the shapes have no stochastic texture); pixel norm: without it the
    # synthesis features shrank to ~0.03 of unit scale and the objects faded (measured);
    # one RGB output ("orig"): with StyleGAN2's summed per-resolution outputs ("skip") the
    # bilinearly upsampled 4-8 px images dominated for thousands of steps and every object
    # came out a blurred blob in the centre (probe Fréchet 75 and x/y TV 0.75 after 3,000
    # steps; "orig": 26 and 0.23/0.16 after 1,000 — measured, same recipe otherwise)
    "synthesis_kwargs": {"use_noise": False, "pixel_norm": True, "architecture": "orig"},
}


def check_mapping_rate(value: float, name: str, model: str) -> None:
    """A factor on the StyleGAN mapping network's learning rate: > 0, finite, and a StyleGAN's."""
    if not (model == "stylegan" and 0 < value < float("inf")):
        raise ValueError(
            f"{name} is for the StyleGAN (its mapping network) and must be > 0, got {value} with "
            f"model {model}"
        )


def _flag(field: str) -> str:
    """The command-line flag of a `TrainConfig` field: ``pixel_d_from`` -> ``--pixel-d-from``."""
    return "--" + field.replace("_", "-")


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in the checkpoint)."""

    model: str = "stylegan"
    resolution: int = 32
    z_dim: int = 128
    w_dim: int = 128
    batch_size: int = 32
    steps: int = 20000
    lr: float = 0.001
    # the discriminator's Adam learning rate; None: ``lr`` (two time-scales, Heusel et al. 2017)
    d_lr: float | None = None
    r1_gamma: float = 0.1
    r1_every: int = 16
    style_mixing: float = 0.9  # StyleGAN only
    ema_images: int = 10000  # half-life of the EMA of G, in images
    ema_rampup: float = 0.05  # EMA half-life ≤ this fraction of the images seen so far
    augment: str = "translation,cutout"  # DiffAugment of D's input ("" for none)
    # weight of an auxiliary shape loss for G (0: none). D gets a classifier head trained on the
    # real images' shapes (AC-GAN, Odena et al. 2017); G is pushed to make images it classifies:
    # as the class asked for (BigGAN), or confidently, and with all shapes equally often
    # (unconditional StyleGAN; CatGAN, Springenberg 2016)
    shape_aux: float = 0.0
    # with ``shape_aux``: first train D's body and classifier head on real shapes for this many
    # steps (Adam at ``d_warmup_lr``), so that D can tell the shapes apart from the start.
    # Measured (StyleGAN D, batch 32): held-out shape accuracy 0.59 / 0.98 after 1,000 steps
    # at lr 2e-3 / 5e-3; inside a GAN at the recipe's lr it stayed near chance for 1,500 steps
    d_warmup: int = 0
    d_warmup_lr: float = 0.005
    # weight of a mode-seeking term for G (Mao et al. 2019; 0: none): the batch is drawn in pairs
    # (same class), and G pays 1 / (mean |G(z1) - G(z2)| / mean |z1 - z2|), so that different z
    # give different images. Measured (BigGAN, shape_aux 1, d_warmup 1000, 1,000-2,000 steps):
    # hue TVs 0.1-0.3 where they were 0.5-0.6 without it; the objects still all sit centred
    mode_seeking: float = 0.0
    # > 0: G rotates and shifts the feature map entering its block of this resolution by a learned
    # function of its style (StyleGAN) or of z and the class (BigGAN), no warp at the start; so it
    # can draw a shape where it draws it best and then move and turn it (0: none). Measured (16,
    # with shape_aux 1, d_warmup 1000, mode_seeking 1, 1,000-2,250 steps): x/y TV 0.06-0.18 where
    # without it the objects sat in the centre (0.37-0.59), Fréchet down to 15; but the BigGAN
    # then drew nearly one image per class (object hue TV 0.35-0.54, scale and rotation to 0.39)
    warp_res: int = 0
    # with ``warp_res``: the warp's angle starts as a random linear function of its input, with this
    # standard deviation (radians) for inputs of unit variance, instead of 0 (no turn for any
    # latent); so G starts out turning its objects by different amounts. Measured (0.3, conditional
    # StyleGAN, warp at 16 or 32 px, 1,250-2,000 steps): the angle kept its spread (std 0.27), yet G
    # drew every triangle upright anyway (rotation TV 0.27-0.33): its later layers undo the turn
    warp_angle_init: float = 0.0
    # G rotates and shifts its finished image by a learned function of its last style (StyleGAN)
    # or of z and the class (BigGAN), no warp at the start; with ``warp_angle_init`` this warp's
    # angle starts random (rather than the feature map's): here no later layer can undo the turn.
    # Measured (0.35, conditional StyleGAN with twin_aux and warp_res 16, 2,000-6,000 steps):
    # rotation TV 0.26-0.31 (0.32-0.40 without), Fréchet 5.4-9.7; the angle kept its spread over
    # the batch (std 0.35) but within a class it shrank to 0.10-0.15 around one angle per class.
    # The BigGAN (factor_aux's recipe) turned its 16-px features back instead (angle correlation
    # -0.84), rotation TV 0.32-0.39 (1,500-3,000 steps). D scores bilinearly turned renders
    # 0.1-0.25 below renders drawn at that angle: the warp's blur is a reason for G to turn back
    warp_image: bool = False
    # with ``warp_image`` and ``warp_angle_init``: G pays 10 × (this − the standard deviation of its
    # image warp's angle over its images of each class, or all)₊, so the turn of its objects cannot
    # shrink back to one angle per class (radians; 0: none). The dataset's rotation (uniform over
    # ±π/6) has std 0.30. Measured (0.25, the warp_image run above continued from 3,750 steps with
    # it, to 6,000): within-class angle std 0.24-0.40, rotation TV 0.16-0.19 from 4,750 steps, but
    # shape-confident share 0.73-0.80 (0.77-0.85 without) and its 16-px warp turned back part of
    # the turn (angle correlation -0.8)
    warp_spread: float = 0.0
    # BigGAN only, with ``warp_res`` or ``warp_image``: its warps spread their angle and shift
    # uniformly over z (`UniformWarp`), as the dataset's rotation and position are; a linear map of z
    # (the plain warp) is normal. Measured: the factor_reader BigGAN's 16-px warp (to 9,500 steps)
    # had normal shifts of std 0.19-0.21 within a class, as much as the dataset's positions (0.23):
    # its x/y histograms bunched mid-range as they did (TV 0.20-0.31). factor_aux's BigGAN recipe
    # (warp_res 16) from scratch, the same seed, at 1,000 / 2,000 / 2,500 steps: x TV 0.08 / 0.09 /
    # 0.08 and y 0.08 / 0.10 / 0.10 with it, 0.13 / 0.18 / 0.20 and 0.14 / 0.19 / 0.18 without; but
    # shape-confident share 0.75-0.82 (0.80-0.87 without), rotation TV 0.20-0.39 as without
    warp_uniform: bool = False
    # with ``shape_aux`` and a class-conditional model: D gets a twin classifier head that learns
    # the classes of G's images, and G is paid its cross-entropy (TAC-GAN, Gong et al. 2019). The
    # AC-GAN head alone rewards the most typical image of each class (see warp_res); the twin's
    # term cancels that reward, so G matches each class's whole distribution instead. Measured
    # (BigGAN, with warp_res's recipe, to 1,750 steps): object hue TV 0.25-0.32 (0.35-0.54 without),
    # class agreement down to 0.63-0.70, one hue per class still visible in the samples
    twin_aux: bool = False
    # StyleGAN only: condition it on the shape (the mapping network's c, D by projection), as
    # NVIDIA's conditional StyleGAN2-ADA models (CIFAR-10); the BigGAN always is conditional.
    # Measured (with shape_aux 1, d_warmup 1000, mode_seeking 1, warp_res 16, twin_aux; 4,750-6,500
    # steps): shape-confident share 0.88-0.92, class agreement 0.91-0.94, shape TV <= 0.02, the
    # first StyleGAN of ours that draws the shapes; but rotation TV 0.32-0.40 (all upright)
    conditional: bool = False
    # with ``conditional``: the mapping network adds a learned vector per class to w after its
    # layers (`MappingNetwork`'s ``class_skip``), so that every style reads the class whatever z is.
    # Why: the conditional StyleGAN drew the class asked for 46-53 % of the time for squares and
    # discs (82-86 % triangles, hearts), its class reaching the styles only through the slow mapping.
    # Measured (shape_aux 1, d_warmup 1000, mode_seeking 1, warp_res 16, twin_aux, augment
    # translation, mapping lr_multiplier 0.1, factor_reader 100 and reader_shape 1 from 2,500, from
    # scratch, on 1,000 images): class agreement 0.70 / 0.79 / 0.76 / 0.82 at 1,000 / 2,000 / 3,000 /
    # 4,000 steps (an earlier run without it, the reader off: 0.48 / 0.49 / 0.63 / 0.63), Fréchet 12 /
    # 11 / 11 / 7 (46 / 32 / 22 / 16), shape-confident share 0.74-0.81 (0.76-0.85); at 4,000 every TV
    # but the object hue's <= 0.16, but one narrow hue per class (0.23; per class 0.61-0.68). With
    # the mapping boosted 10x from 4,097 (mapping_boost): object hue TV 0.36-0.38 at 4,500-5,500 (all
    # classes blue-green), then 0.30 / 0.25 / 0.22 at 6,500 / 7,000 / 7,500 and 0.18-0.20 at
    # 8,000-10,000 (red hues still rare); there Fréchet 3.7-4.4, shape-confident share 0.80-0.85,
    # agreement 0.81-0.85, x/y TV 0.16-0.21, the rest <= 0.14. With the boost from 2,500 instead and
    # the reader's hues measured on the circle (`_sorted_w1`), to 15,000 steps: no hue collapse
    # (object hue TV 0.15-0.29 to 5,500, 0.10-0.19 after), rotation TV 0.06-0.13 from 8,500, but
    # Fréchet 12-28 at 3,500-8,500 (6-13 after), agreement 0.59-0.79 to 9,000 (0.81-0.85 after),
    # shape-confident share 0.72-0.83 to 11,500 and 0.82-0.87 after; worst TV 0.16-0.19 at
    # 9,500-12,500, then x/y TV rose to 0.21-0.25 (13,000-15,000): no snapshot met every target
    class_skip: bool = False
    # class-conditional models: D's minibatch standard deviation is taken over groups of four
    # images of one class (real and generated), so that D sees when G draws one image per class.
    # Measured (BigGAN, warp_res's recipe, to 1,250 steps): no better, object hue TV 0.46-0.59
    class_groups: bool = False
    # weight of a factor-spread loss for G (0: none). D gets a head that reads every other factor
    # of the dataset (hues, scale, rotation, x, y; as 10 bins each) and learns it on real images;
    # G pays when, among its images of one class (or all, unconditional), the mean of those
    # readings is not spread over the bins as the factors are (uniformly): Kullback-Leibler
    # divergence of the uniform distribution from it. Measured (1, BigGAN with warp_res's recipe,
    # to 2,750 steps): object hue TV 0.14-0.18 (0.35-0.54 without), Fréchet 9, but rotation
    # 0.39-0.41 and scale 0.20-0.26; on the conditional StyleGAN it failed (to 2,000 steps):
    # many-coloured blobs, each image's readings spread (the loss asks for no confident reading)
    factor_aux: float = 0.0
    # weight of a factor-reader loss for G (0: none). A small plain CNN (`FactorReader`), trained only
    # to read the factors of real renders (10 bins each, as factor_aux's head; first alone for 2,000
    # steps), reads G's images; G pays, over its images of each class, the 1-D Wasserstein distance
    # between their expected readings of every factor but the shape and those of the latest 1,024
    # real images of that class (the hues read as circular means, and compared on the circle:
    # `_sorted_w1`).
    # Why: D's architecture hardly learns rotation (reading vs true angle, shapes but the disc:
    # r = 0.22 after 1,250 steps of 64 renders as a plain factor classifier, this CNN 0.83 after
    # 1,500; factor_aux's D head on its BigGAN at 4,949 steps: mean entropy 2.15 nats of 2.30 for no
    # reading), so nothing told G its objects were all upright; and factor_aux's KL is met by
    # images read as unsure, while here an unsure image reads mid-range and gains nothing.
    # Measured (with an earlier version, which read scale, rotation, x and y only, against the whole
    # real batch; factor_aux's BigGAN continued from 4,949 steps, rotation TV 0.35 there): with 5,
    # 0.33-0.36 to 6,250 steps; with 25 from there, 0.28-0.35 to 8,250 (conf 0.88-0.91); with 25 and shape_aux
    # 0.25, 0.20 at 7,750-8,250 (conf 0.85-0.88, scale 0.13, hues <= 0.12), the objects visibly
    # turned; but x/y TV rose from 0.15-0.17 to 0.20-0.27. From scratch with 5 (to 1,000 steps) G
    # still went upright (rotation 0.14 -> 0.32)
    factor_reader: float = 0.0
    # with ``factor_reader`` and a class-conditional model: weight of the reader's shape
    # cross-entropy on G's images against the class asked for (0: none). The reader also learns the
    # shape of real renders (all turned), so, unlike D's shape head (``shape_aux``), it is not surer
    # of upright shapes. While it judges, G no longer pays ``shape_aux``'s term nor ``twin_aux``'s
    # (D's shape heads still learn): the twin's alone pays G for shapes the twin cannot tell apart
    reader_shape: float = 0.0
    # with ``factor_reader``: the step from which the reader counts (warmed up then; 0: from the
    # start), so that one recipe can train the GAN first and then correct it with the reader.
    # Measured (factor_aux's BigGAN recipe with warp_uniform, factor_reader 100 and reader_shape 1
    # from step 0, to 1,250 steps): noisy colour clouds that the reader and the probe both read as
    # confident shapes (shape-confident share 0.90-0.93, class agreement 0.33-0.49, Fréchet 61-190).
    # From 4,000 (the same recipe; x/y TV 0.07-0.09 there, rotation 0.39, scale 0.20, conf 0.82),
    # measured to 7,000 steps: rotation 0.35 / 0.20 / 0.17 / 0.14 at 4,250 / 4,750 / 5,500 /
    # 7,000; every TV <= 0.15 at 6,000 and 6,500-7,000 (0.16 at 5,750 and 6,250), at 6,750-7,000
    # worst 0.14 (scale 0.12, x/y 0.14, hues <= 0.10, shape 0.08-0.09), Fréchet 6-7; shape-confident
    # share 0.77-0.80 to 6,000, then 0.83-0.84 (class agreement 0.69 -> 0.83): the one gap left.
    # With reader_shape 5 from 4,750: much the same (conf 0.81-0.83 at 5,500-7,000). With the
    # reference of one batch instead (an earlier version): x/y rose to 0.20-0.21 by 5,000
    # Continued to 16,000 steps (every 250 read on 1,000 images): conf 0.85-0.88 at 7,500-13,250
    # (object hue TV up to 0.16 at 8,000-8,500); at 13,500-16,000 conf 0.88-0.90 (agreement
    # 0.91-0.95, Fréchet 3.2-5.4) and every TV <= 0.15 but scale's 0.153 at 15,750. The bundled
    # shapes-biggan is its 14,500-step snapshot (see its card)
    reader_from: int = 0
    # with ``reader_shape``: the shape is judged by a second reader (the judge) that also learns
    # G's images, as one more class ("generated"; the K + 1 classifier of Salimans et al. 2016), so
    # that G cannot make it sure of a shape with images no real render looks like: the reader,
    # trained on real images only, was confident on 94-95 % of G's discs and squares of which the
    # probe was sure of 58-81 %. A second network, because the readings of a reader that also
    # learns G's images are off on G's images. Measured on the reader_from recipe above (forked at
    # 8,268 / 10,750 steps; without it conf 0.85-0.88 to 11,500, every TV <= 0.15 from 8,750, 0.16
    # before): with the one reader learning G's images (an earlier version), conf rose to 0.89 in
    # 1,250 steps but the object hue bunched (TV 0.14 -> 0.33 by 10,500); with the judge, conf
    # 0.87 and the hue TV 0.17 after 750 steps, Fréchet 8-12 (5-6 without): no gain
    reader_fakes: bool = False
    # StyleGAN: from step ``mapping_boost_from`` on, the mapping network's Adam learning rate is
    # ``mapping_boost`` times ``lr`` (the same as raising its lr_multiplier that many times, but the
    # saved generator is built as before). With the mapping learning at its full rate from the
    # start, G trained worse (conditional recipe, from scratch, 5,000 steps: Fréchet 27, conf 0.65,
    # where with lr_multiplier 0.1 it was 14 and 0.87); the fork of a trained G (``_STYLEGAN_KWARGS``)
    # spread its object hue within 1,000 steps. Measured (that lr_multiplier-0.1 run, boost 10 from
    # 12,000 steps, to 20,000): no steady gain, object hue TV 0.14-0.27 (0.20-0.30 at 9,500-12,000),
    # conf 0.76-0.88, scale TV 0.12-0.28 swinging from reading to reading
    mapping_boost: float = 1.0
    mapping_boost_from: int = 0
    # the generator's blocks from this resolution on also read each pixel's coordinates (CoordConv;
    # `BigGAN`'s and `SynthesisNetwork`'s ``coord_res``); 0: none. Why: the probe doubts the BigGAN's
    # discs and squares (shape-confident share 0.71 and 0.86 against 0.99 for triangles and hearts, F12's
    # command at 20,000 steps) for their outline: redrawn in two flat colours, or with their edges
    # sharpened, they read the same; their edges miss a true circle's by 0.38 pixel per pixel of perimeter
    # (real renders 0.005). Measured (16, F12's command otherwise, from scratch, on 1,000 images): shape-
    # confident share 0.78-0.87 at 1,000-4,000 steps (0.71-0.77 without), 0.89-0.91 at 4,500-6,500
    # (0.77-0.84), 0.88-0.89 at 7,000-8,000 (0.84-0.86); class agreement 0.92 (0.69-0.85); rotation TV
    # 0.41 at 4,000 (0.19), down to 0.12-0.14 by 7,000-8,000 as the factor reader works, every TV <= 0.15
    # at 7,500-8,000 (worst 0.146 / 0.137); Fréchet 7-9 (6-7); then 0.896-0.932 at 9,500-11,500 (0.85-0.86
    # at 10,000-11,000), every TV <= 0.131. Its step 11,500 (79 min here) is the bundled BigGAN: on the
    # card's 2,000 images conf 0.911, worst TV 0.149 (scale). On the StyleGAN (16, both convolutions of
    # its 16- and 32-px blocks, unmodulated; the conditional recipe with mapping lr_multiplier 0.1
    # otherwise, from scratch, to 6,823 steps) no gain: shape-confident share 0.73-0.87 at 3,000-6,750
    # steps (0.82-0.88 without), class agreement 0.59-0.78 (0.63-0.72), object hue and scale TV 0.17-0.33
    # (0.11-0.25); background hue TV 0.05-0.08 at 3,250-4,250 (0.17-0.18) but 0.15-0.24 again from 5,000;
    # no cost in speed (3.05 steps/s). In class_skip's last recipe (boost from 2,500, circular hue W1;
    # from scratch, to 4,779 steps, against the same run without it): Fréchet 3.9-5.6 at 4,000-4,750
    # (10-28), class agreement 0.76-0.81 (0.61-0.65), shape-confident share 0.77-0.81 (0.74-0.76), but
    # discs still 0.51-0.62 (0.54-0.57) and object hue TV 0.26-0.29 (0.22-0.23). That recipe with 16 run
    # again from scratch, to 13,500 steps (1,000 images a reading): Fréchet 2.9-5.1 at 5,000-9,500 and
    # 5.4-7.0 after, every TV <= 0.15 at 4,000-5,500 (conf 0.74-0.78), conf 0.79-0.86 from 6,000 on (the
    # last lr_decay run 0.80-0.87); from 5,000 on discs 0.58-0.76, squares 0.63-0.74 (triangles
    # 0.97-1.00, hearts 0.83-0.98); from 9,000 on background hue TV 0.19-0.27, object hue 0.15-0.22, y
    # 0.13-0.20: no snapshot met both targets
    coord_res: int = 0
    # the StyleGAN's RGB output reads a 3x3 neighbourhood (`SynthesisNetwork`'s ``rgb_kernel``; 1:
    # NVIDIA's 1x1). Why: with every earlier change the probe still doubted the StyleGAN's squares and
    # discs (their outlines), and its last layer saw one pixel at a time where the BigGAN's sees 3x3.
    # Measured (3, in coord_res's last run otherwise, from scratch, to 8,574 steps at 1.2-1.7 steps/s;
    # 1,000 images a reading, against that run at the same steps): squares 0.73-0.89 from 2,000 on
    # (0.62-0.75), discs 0.56-0.68 (0.53-0.68), hearts 0.73-0.90 (0.72-0.95); shape-confident share
    # 0.76-0.82 at 3,500-8,500 (0.74-0.83); Fréchet 3.5-6.8 from 3,500 but 10.5 at 5,000 (2.9-23);
    # worst TV 0.16-0.21 from 4,000 on (x 0.15-0.21 from 4,500 on), never every TV <= 0.15 (it was
    # at 4,000-5,500): squares gained, discs did not, no snapshot met a target. Redrawn in two flat
    # colours (2-means per image), step 6,500's images read no surer (0.805 -> 0.800): the outlines,
    # not the shading, hold the probe back
    rgb_kernel: int = 1
    # StyleGAN: G turns its finished image's hue by a learned function of its last style that can
    # wrap round the circle (`SynthesisNetwork`'s ``hue_turn``, zero at the start). Why: the
    # conditional StyleGAN's object hue TV stayed at 0.18-0.25 with every recipe since the twin fix;
    # its discs and hearts draw next to no green or cyan (hue 0.35-0.55; step 7,000 of pixel_d's
    # size-5 run, 2,000 images), and on a straight line in z from a disc of hue 0.2 to one of 0.65
    # the hue goes the long way round, through red and magenta (6 lines of 6): the latents map onto
    # an arc of hues whose gap no gradient on the hues closes.
    # Measured (that run forked at 7,302 with it, zero weights added; 1,000 images a reading every
    # 250): the turns spread to std 0.19-0.27 turns per class by 8,500; object hue TV 0.14 / 0.06 /
    # 0.03-0.09 at 8,000 / 8,500 / 9,000-11,000 (0.19 before), background hue 0.33 at 8,000 (the
    # whole image turns), <= 0.09 from 9,000; shape-confident share 0.84 -> 0.88-0.90 at 8,500-9,750
    # and 0.91-0.92 at 10,000-11,000 (discs 0.62 -> 0.80-0.85), the first StyleGAN of ours there; but
    # x or y TV 0.17-0.21 from 8,750 on. Its step 11,000 is builtin:shapes-stylegan (see its card)
    hue_turn: bool = False
    # the hue turn is skipped, and its weights stay zero, before this step: the same run as one
    # without it up to there (the recipe of builtin:shapes-stylegan adds it at 7,302)
    hue_turn_from: int = 0
    # from step ``lr_decay_from`` on, every learning rate of G and D (not the reader's) falls
    # linearly to ``lr_decay`` times its value at ``steps`` (1: none), so that a late G settles
    # instead of swinging: the conditional StyleGAN's readings swung from snapshot to snapshot at
    # the full rate (x/y TV 0.16 -> 0.25 within 2,500 steps, scale 0.12-0.28). Measured (class_skip's
    # last run, the same to 8,000 steps, then 0.1 from 8,000 at 14,500; on 1,000 images every 250):
    # no gain. Fréchet 15-43 at 8,750-11,000 (7-11 without), then it settled from 12,000 on (Fréchet
    # 3.9-4.7, agreement 0.85-0.89, rotation and scale TV <= 0.14) where it stood: shape-confident
    # share 0.83-0.87, object hue TV 0.20-0.22 (red hues rare), x/y 0.17-0.20. The probe doubts the
    # squares and discs (confident on 81 % and 72 % of them at 14,500; triangles 98 %, hearts 93 %),
    # as it did the BigGAN's before its CoordConv
    lr_decay: float = 1.0
    lr_decay_from: int = 0
    # weight of a colour-matching loss for G (0: none): the 1-D Wasserstein distance between the
    # value (HSV) of all the pixels of G's batch and of the real batch, each sorted. Why: the probe
    # doubted the conditional StyleGAN's discs for their colour, not their outline. Its discs (step
    # 5,500 of the twin fix's run, 300 images) redrawn as perfect flat circles read 0.68 in their
    # own colours, 0.86 with the real discs' colours, and 0.83 with their object colour set to the
    # dataset's saturation and value (0.85, 0.95); their values spread over 0.71-1.0, and discs with
    # values below 0.85 read 0.41. Nothing else looks at colour as such: the factor reader reads the
    # hue only, and real renders' objects all have one S and V. Measured with the saturation
    # matched too (50, from 5,692 in that run, to 7,000): the backgrounds' saturation (real 0.45,
    # G's 0.11-0.6) hardly moved, and G drew fewer background hues instead (TV 0.10 -> 0.38 / 0.56
    # / 0.64 at 6,500 / 6,750 / 7,000); discs 0.58-0.64
    colour_match: float = 0.0
    # with ``colour_match``: the step from which it counts (0: from the start)
    colour_match_from: int = 0
    # weight of a pixel discriminator's loss for G (0: none): a second discriminator
    # (`PixelDiscriminator`) sees one pixel at a time (its colour only) and learns to tell the real
    # images' pixels from G's; G pays its non-saturating loss, averaged over its pixels. Why: the
    # probe doubts G's discs for their object colour (see colour_match), and colour_match's one
    # sorted distance hardly moved it (value W1 0.042 -> 0.038 in 1,300 steps). Real pixels lie on
    # two hue circles (objects: S 0.85, V 0.95; backgrounds: 0.45, 0.35) and the blends between them
    # at the outlines; a blend of two hues in RGB, as a network that mixes its colours linearly
    # draws between the hues it has learned, falls off them (lower value), and a pixel's colour
    # alone tells such a pixel apart. It also sees which hues G draws too rarely.
    # Measured (1, from 5,692 in the twin fix's run, CoordConv 16 and rgb_kernel 3, to 7,000; 1,000
    # images a reading every 250): size 1, conf 0.82-0.85, discs 0.58-0.64, object hue TV 0.19-0.22;
    # size 5 (see pixel_d_size), conf 0.81-0.85, discs 0.57-0.65, object hue TV 0.18-0.21; the value
    # matched instead (colour_match 100, the same fork): conf 0.83-0.84, discs 0.60-0.64, object hue TV
    # 0.20-0.25. No gain. Why, as far as measured: the shipped probe reads real discs whose object is
    # 10 % darker (value x 0.9) as discs with p >= 0.9 66 % of the time (99.8 % as rendered), and 0.5 %
    # at x 0.8; G's discs' object value has median 0.90 (renders 0.95). A probe trained with
    # per-image saturation and brightness jitter (not shipped) reads those at 100 % and reads step
    # 7,000 of the size-5 fork at 0.912 (discs 0.91), object hue TV 0.20 still
    pixel_d: float = 0.0
    # with ``pixel_d``: the step from which it learns and counts (0: from the start)
    pixel_d_from: int = 0
    # with ``pixel_d``: the side of the patch it sees (1: one pixel; 3 or 5: its neighbours too, so
    # that it also sees blurred outlines, shading inside a flat object and dark rims)
    pixel_d_size: int = 1
    seed: int = 0
    # extra generator constructor arguments; None: the model's defaults
    generator_kwargs: dict | None = None
    # extra discriminator constructor arguments (e.g. ``channels``); None: its defaults
    discriminator_kwargs: dict | None = None

    def __post_init__(self):
        if self.model not in _MODELS:
            raise ValueError(f"model={self.model!r} is not one of {sorted(_MODELS)}")
        check_policy(self.augment)
        for name in (
            "shape_aux",
            "mode_seeking",
            "factor_aux",
            "factor_reader",
            "reader_shape",
            "colour_match",
            "pixel_d",
        ):  # loss weights
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} ({_flag(name)}) must be >= 0 (0: none), got {getattr(self, name)}")
        check_int(self.d_warmup, "d_warmup (--d-warmup)", minimum=0)
        for start, feature in (
            ("reader_from", "factor_reader"),
            ("colour_match_from", "colour_match"),
            ("pixel_d_from", "pixel_d"),
            ("hue_turn_from", "hue_turn"),
        ):  # steps from which a feature counts: only with the feature on
            check_int(getattr(self, start), f"{start} ({_flag(start)})", minimum=0)
            if getattr(self, start) and not getattr(self, feature):
                on = "" if isinstance(getattr(self, feature), bool) else " > 0"
                raise ValueError(f"{start} ({_flag(start)}) needs {feature} ({_flag(feature)}){on}")
        check_int(self.pixel_d_size, "pixel_d_size (--pixel-d-size)", minimum=1)
        if self.pixel_d_size not in PIXEL_D_SIZES:
            raise ValueError(f"pixel_d_size (--pixel-d-size) must be 1, 3 or 5, got {self.pixel_d_size}")
        check_int(self.warp_res, "warp_res (--warp-res)", minimum=0)
        check_warp_res(self.warp_res, self.resolution, "warp_res (--warp-res)")  # before any file is written
        if not self.warp_angle_init >= 0 or (self.warp_angle_init and not (self.warp_res or self.warp_image)):
            raise ValueError(
                f"warp_angle_init (--warp-angle-init) must be >= 0 and needs warp_res (--warp-res) or "
                f"warp_image (--warp-image), got {self.warp_angle_init} with warp_res {self.warp_res}"
            )
        if self.warp_uniform and not (self.model == "biggan" and (self.warp_res or self.warp_image)):
            raise ValueError("warp_uniform (--warp-uniform) is for the BigGAN with warp_res or warp_image")
        if not self.warp_spread >= 0 or (self.warp_spread and not (self.warp_image and self.warp_angle_init)):
            raise ValueError(  # from a warp at 0 for every image, the spread would have no gradient
                f"warp_spread (--warp-spread) must be >= 0 and needs warp_image (--warp-image) and "
                f"warp_angle_init (--warp-angle-init) > 0, got {self.warp_spread} with warp_image "
                f"{self.warp_image}, warp_angle_init {self.warp_angle_init}"
            )
        if self.conditional and self.model != "stylegan":
            raise ValueError("conditional (--conditional) is for the StyleGAN: the BigGAN always is")
        if self.class_skip and not self.conditional:
            raise ValueError("class_skip (--class-skip) is for the conditional StyleGAN (--conditional)")
        if self.twin_aux and not (self.shape_aux and self.n_classes):
            raise ValueError(
                "twin_aux (--twin-aux) needs shape_aux (--shape-aux) > 0 and a class-conditional "
                "model (the BigGAN, or the StyleGAN with --conditional)"
            )
        if self.class_groups and not (self.n_classes and self.batch_size % _GROUP == 0):
            raise ValueError(
                f"class_groups (--class-groups) needs a class-conditional model and a batch size "
                f"divisible by {_GROUP}, got {self.model} with batch_size {self.batch_size}"
            )
        if self.reader_shape and not (self.factor_reader and self.n_classes):
            raise ValueError(
                "reader_shape (--reader-shape) needs factor_reader (--factor-reader) > 0 and a "
                "class-conditional model"
            )
        if self.reader_fakes and not self.reader_shape:
            raise ValueError("reader_fakes (--reader-fakes) needs reader_shape (--reader-shape) > 0")
        if self.mapping_boost != 1:
            check_mapping_rate(self.mapping_boost, "mapping_boost (--mapping-boost)", self.model)
        check_int(self.mapping_boost_from, "mapping_boost_from (--mapping-boost-from)", minimum=0)
        if self.mapping_boost_from and self.mapping_boost == 1:
            raise ValueError(
                "mapping_boost_from (--mapping-boost-from) needs mapping_boost (--mapping-boost) != 1"
            )
        check_int(self.lr_decay_from, "lr_decay_from (--lr-decay-from)", minimum=0)
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay (--lr-decay) must be in (0, 1] (1: none), got {self.lr_decay}")
        if self.lr_decay != 1 and self.lr_decay_from >= self.steps:
            raise ValueError(
                f"lr_decay_from (--lr-decay-from) must be below steps (--steps) {self.steps}, "
                f"got {self.lr_decay_from}"
            )
        check_int(self.coord_res, "coord_res (--coord-res)", minimum=0)
        check_coord_res(self.coord_res, self.resolution, "coord_res (--coord-res)")
        check_int(self.rgb_kernel, "rgb_kernel (--rgb-kernel)", minimum=1)
        if self.rgb_kernel not in RGB_KERNELS or (self.rgb_kernel != 1 and self.model != "stylegan"):
            raise ValueError(
                f"rgb_kernel (--rgb-kernel) is the StyleGAN's and must be 1 or 3, got {self.rgb_kernel!r} "
                f"with model {self.model}"
            )
        if self.hue_turn and self.model != "stylegan":
            raise ValueError("hue_turn (--hue-turn) is for the StyleGAN")
        if self.d_warmup and not self.shape_aux:
            raise ValueError(
                "d_warmup (--d-warmup) trains D's shape head: it needs shape_aux (--shape-aux) > 0"
            )
        if self.generator_kwargs is None:
            self.generator_kwargs = copy.deepcopy(_STYLEGAN_KWARGS) if self.model == "stylegan" else {}
        if self.discriminator_kwargs is None:
            self.discriminator_kwargs = {}

    @property
    def n_classes(self) -> int:
        return len(SHAPES) if self.model == "biggan" or self.conditional else 0

    def generator_init(self) -> dict:
        if self.model == "biggan":
            size = {"z_dim": self.z_dim, "num_classes": self.n_classes}
        else:
            size = {"z_dim": self.z_dim, "w_dim": self.w_dim}
            if self.conditional:
                size["c_dim"] = self.n_classes
        kwargs = copy.deepcopy(self.generator_kwargs)
        if self.class_skip:
            kwargs.setdefault("mapping_kwargs", {})["class_skip"] = True
        if self.rgb_kernel != 1:
            kwargs.setdefault("synthesis_kwargs", {})["rgb_kernel"] = self.rgb_kernel
        if self.hue_turn:
            kwargs.setdefault("synthesis_kwargs", {})["hue_turn"] = True
        if self.warp_res or self.warp_image or self.coord_res:
            # arguments of the StyleGAN's synthesis network, or the BigGAN's
            target = kwargs.setdefault("synthesis_kwargs", {}) if self.model == "stylegan" else kwargs
            if self.coord_res:
                target["coord_res"] = self.coord_res
            if self.warp_res:
                target["warp_res"] = self.warp_res
            if self.warp_image:
                target["warp_image"] = True
            if self.warp_uniform:
                target["warp_uniform"] = True
        return {**size, "img_resolution": self.resolution, "img_channels": 3, **kwargs}


def _batch_rng(seed: int, step: int, stream: int) -> torch.Generator:
    return torch.Generator().manual_seed(
        int(np.random.SeedSequence([seed, step, stream]).generate_state(1)[0])
    )


def _shape_loss(logits: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    """G's auxiliary shape loss on D's class logits for its images.

    With the class ``c`` asked for (one-hot): cross-entropy to it (AC-GAN). Without: the mean
    entropy of each image's class distribution minus the entropy of the batch's mean one
    (CatGAN), i.e. every image one clear shape, and all shapes as often.
    """
    if c is not None:
        return F.cross_entropy(logits, c.argmax(1))
    p = logits.softmax(1)
    logp = logits.log_softmax(1)
    mean = p.mean(0)
    return -(p * logp).sum(1).mean() + (mean * mean.clamp_min(1e-12).log()).sum()


def _factor_bins(factors: dict) -> torch.Tensor:
    """Each ``_SPREAD`` factor's bin (of ``_BINS`` over its range) per image: [N, len(_SPREAD)]."""
    cols = [(np.asarray(factors[f.name]) - f.low) / (f.high - f.low) * _BINS for f in _SPREAD]
    return torch.from_numpy(np.clip(np.stack(cols, 1), 0, _BINS - 1).astype(np.int64))


def _factor_read_loss(logits: torch.Tensor, factors: dict, dev) -> torch.Tensor:
    """D's factor head on real images: cross-entropy to each factor's bin."""
    return F.cross_entropy(logits.reshape(-1, _BINS), _factor_bins(factors).flatten().to(dev))


def _per_class(x: torch.Tensor, c: torch.Tensor | None) -> list[torch.Tensor]:
    """The rows of ``x`` for each class of the one-hot ``c`` (all of them, unconditional)."""
    return [x] if c is None else [x[c.argmax(1) == k] for k in range(c.shape[1])]


def _factor_spread_loss(logits: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    """KL(uniform ‖ mean reading) per factor, over G's images of each class, averaged."""
    p = logits.reshape(len(logits), len(_SPREAD), _BINS).softmax(2)
    groups = _per_class(p, c)
    terms = [-(g.mean(0).clamp_min(1e-8).log().mean(1) + math.log(_BINS)) for g in groups if len(g)]
    return torch.cat(terms).mean()


def _image_warp_angle(G, z, c, ws) -> torch.Tensor:
    """The angle [N] by which G's image warp turns the images of this batch."""
    if ws is None:  # the BigGAN
        return G.image_warp(G.condition(z, c))[:, 0]
    return G.synthesis.image_warp(ws[:, -1])[:, 0]


def _warp_spread_loss(angle: torch.Tensor, c: torch.Tensor | None, target: float) -> torch.Tensor:
    """(target − std of the angle)₊ over the images of each class (or all), averaged."""
    terms = [(target - (g.var() + 1e-8).sqrt()).clamp_min(0) for g in _per_class(angle, c) if len(g) > 1]
    return torch.stack(terms).mean() if terms else angle.sum() * 0  # no class twice: nothing to spread


class FactorReader(nn.Module):
    """A small plain CNN for ``factor_reader``: images [N, 3, R, R] → ``_BINS`` logits for each of
    ``_SPREAD``'s factors, then one per shape (and one for "generated" with ``fakes``): [N, 64]
    or [N, 65] (not the probe's architecture: the probe measures G)."""

    def __init__(self, resolution: int = 32, width: int = 32, fakes: bool = False):
        super().__init__()
        layers, ch = [], 3
        for out in (width, width * 2, width * 4):  # three halvings
            layers += [nn.Conv2d(ch, out, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(out, out, 4, 2, 1)]
            layers += [nn.LeakyReLU(0.2)]
            ch = out
        side = resolution // 8
        self.net = nn.Sequential(
            *layers,
            nn.Flatten(),
            nn.Linear(ch * side * side, 256),
            nn.LeakyReLU(0.2),
            nn.Linear(256, len(_SPREAD) * _BINS + len(SHAPES) + int(fakes)),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


def _readings(logits: torch.Tensor) -> torch.Tensor:
    """The factor reader's expected readings [N, len(_SPREAD)] of every factor but the shape, in
    [0, 1] (the hues' as circular means), from its logits."""
    centres = (torch.arange(_BINS, device=logits.device, dtype=logits.dtype) + 0.5) / _BINS
    p = logits[:, : len(_SPREAD) * _BINS].reshape(len(logits), len(_SPREAD), _BINS).softmax(2)
    turn = 2 * math.pi * centres
    circular = torch.atan2((p * turn.sin()).sum(2), (p * turn.cos()).sum(2)) / (2 * math.pi) % 1
    return torch.where(_CIRCULAR.to(p.device), circular, (p * centres).sum(2))


def _sorted_w1(g: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """The 1-D Wasserstein distance [F] between the sorted samples ``g`` and ``r`` [n, F] of each
    factor; for the hues (`_CIRCULAR`) on the circle of circumference 1: the least mean distance
    over the cyclic shifts of the sorted pairing, each point paired with r, r − 1 or r + 1 (Rabin et
    al. 2011), so that hues near 0 and near 1 are near."""
    line = (g - r).abs().mean(0)
    n = len(g)
    lifted = torch.cat([r - 1, r, r + 1])  # [3n, F]
    shifts = torch.arange(n, device=g.device)[None] + torch.arange(2 * n + 1, device=g.device)[:, None]
    cyclic = (g[None] - lifted[shifts]).abs().mean(1).min(0).values
    return torch.where(_CIRCULAR.to(g.device), cyclic, line)


def _reader_loss(
    reader,
    fake: torch.Tensor,
    c: torch.Tensor | None,
    reference: torch.Tensor,
    ref_classes: torch.Tensor | None = None,
    shape_weight: float = 0.0,
) -> torch.Tensor:
    """W1 between the reader's readings (`_readings`) of G's images of each class and the
    ``reference`` readings of real images of that class (class indices ``ref_classes``; all of them
    where it is None or holds fewer than two), averaged (see ``TrainConfig.factor_reader``); plus
    ``shape_weight`` × the cross-entropy of the reader's shape logits to ``c``
    (``TrainConfig.reader_shape``). The reference should be large (the training loop keeps the
    last ``_READER_REFERENCE`` real images'): quantiles of a few samples lie inside the range, and
    pull G's extremes inwards."""
    logits = reader(fake)
    terms = []
    for k, g in enumerate(_per_class(_readings(logits), c)):
        if len(g) > 1:
            ref = reference[ref_classes == k] if ref_classes is not None and c is not None else reference
            ref = ref if len(ref) > 1 else reference
            q = (torch.arange(len(g), device=g.device, dtype=g.dtype) + 0.5) / len(g)
            terms.append(_sorted_w1(g.sort(0).values, torch.quantile(ref, q, dim=0)).mean())
    loss = torch.stack(terms).mean() if terms else fake.sum() * 0
    if shape_weight and c is not None:
        loss = loss + shape_weight * F.cross_entropy(logits[:, len(_SPREAD) * _BINS :], c.argmax(1))
    return loss


def _same_shapes(state: dict, saved: dict | None) -> bool:
    """Whether ``saved`` (None: absent) holds ``state``'s tensors with their shapes."""
    return saved is not None and {k: v.shape for k, v in state.items()} == {
        k: v.shape for k, v in saved.items()
    }


def _warm_up_reader(reader, opt, ds, cfg: TrainConfig, dev, progress: bool) -> None:
    for i in tqdm(range(_READER_WARMUP), desc="warm up reader", unit="step", disable=not progress):
        real, factors = ds.sample(64, [cfg.seed, i, 4])
        _reader_step(
            reader, opt, torch.from_numpy(real).to(dev), factors, _shape_labels(factors, cfg, dev)[0], dev
        )


def _reader_step(
    reader, opt, real: torch.Tensor, factors: dict, shape: torch.Tensor, dev, fake: torch.Tensor | None = None
) -> None:
    """One Adam step of the reader on real images (their factors and shapes) and, where given,
    G's images as the extra class "generated" (``TrainConfig.reader_fakes``)."""
    reader.requires_grad_(True)
    logits = reader(real)
    n_read = len(_SPREAD) * _BINS
    loss = _factor_read_loss(logits[:, :n_read], factors, dev) + F.cross_entropy(logits[:, n_read:], shape)
    if fake is not None:
        generated = torch.full((len(fake),), len(SHAPES), device=dev)
        loss = loss + F.cross_entropy(reader(fake)[:, n_read:], generated)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    reader.requires_grad_(False)


def _value(images: torch.Tensor) -> torch.Tensor:
    """The HSV value [N·H·W] of every pixel of ``images`` [N, 3, H, W] in [-1, 1]."""
    return ((images.clamp(-1, 1) + 1) / 2).amax(1).reshape(-1)


def _colour_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """W1 between the pixels' value in ``fake`` and in ``real`` (as many images; see
    ``TrainConfig.colour_match``)."""
    return (_value(fake).sort().values - _value(real).sort().values).abs().mean()


class PixelDiscriminator(nn.Module):
    """A discriminator of small patches for ``pixel_d``: images [N, 3, H, W] → a logit per pixel
    [N, 1, H, W] from its colour alone (``size`` 1: 1×1 convolutions), or from the ``size`` ×
    ``size`` patch around it (3: a 3×3 convolution first; 5: two)."""

    def __init__(self, channels: int = 3, width: int = 64, size: int = 1):
        super().__init__()
        assert size in PIXEL_D_SIZES, size
        n3 = size // 2  # the number of 3×3 convolutions
        layers = []
        for i in range(2):
            k = 3 if i < n3 else 1
            layers += [nn.Conv2d(channels if i == 0 else width, width, k, padding=k // 2), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers, nn.Conv2d(width, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


def _pixel_step(pixel_d, opt, real: torch.Tensor, fake: torch.Tensor) -> None:
    """One Adam step of the pixel discriminator: logistic loss over every pixel."""
    pixel_d.requires_grad_(True)
    loss = F.softplus(pixel_d(fake.detach())).mean() + F.softplus(-pixel_d(real)).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    pixel_d.requires_grad_(False)


def _mode_seeking_loss(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """1 / (image distance / latent distance) over the pairs (i, i + n // 2) (Mao et al. 2019)."""
    h = len(fake) // 2
    ratio = (fake[:h] - fake[h : 2 * h]).abs().mean() / (z[:h] - z[h : 2 * h]).abs().mean()
    return 1 / (ratio + 1e-5)


def _shape_labels(factors: dict, cfg: TrainConfig, dev) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Real images' shapes, and D's one-hot class input (None for the unconditional StyleGAN)."""
    shape = torch.from_numpy(factors["shape"]).long().to(dev)
    return shape, F.one_hot(shape, cfg.n_classes).float() if cfg.n_classes else None


def _real_batch(ds, n: int, seed, class_groups: bool):
    """``n`` renders and their factors; with ``class_groups`` images i, i + n/4, i + n/2, i + 3n/4
    (one of D's minibatch-std groups) show the same shape."""
    factors = ds.sample_factors(n, seed)
    if class_groups:
        factors["shape"] = np.tile(factors["shape"][: n // _GROUP], _GROUP)
    return ds.render(factors), factors


def _warm_up_discriminator(D, ds, cfg: TrainConfig, dev, progress: bool) -> None:
    """Train D's body and shape head as a plain classifier of real renders (seeded by step)."""
    opt = torch.optim.Adam(D.parameters(), lr=cfg.d_warmup_lr, betas=(0.9, 0.99))
    policy = check_policy(cfg.augment)
    for i in tqdm(range(cfg.d_warmup), desc="warm up D", unit="step", disable=not progress):
        real, factors = ds.sample(cfg.batch_size, [cfg.seed, i, 1])
        real = torch.from_numpy(real).to(dev)
        if policy:
            real = diff_augment(real, policy, _batch_rng(cfg.seed, i, 3))
        shape, c = _shape_labels(factors, cfg, dev)
        _, h = D.features(real, c)
        loss = F.cross_entropy(D.aux(h), shape)
        if cfg.factor_aux:  # and its factor head
            loss = loss + _factor_read_loss(D.factors(h), factors, dev)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


@torch.no_grad()
def _randomize_warp_angle(G, std: float, image: bool = False) -> None:
    """Draw the angle row of G's feature-map warp predictors, or with ``image`` of its image warp
    (see ``TrainConfig.warp_angle_init``)."""
    target = "image_warp" if image else "warp"
    warps = [m for name, m in G.named_modules() if name.split(".")[-1] == target]
    assert warps, "G has no warp"
    for m in warps:
        if hasattr(m, "amp"):  # a UniformWarp: uniform over ± amp, i.e. of standard deviation std
            m.amp[0] = std * 3**0.5
        else:
            m.weight[0].normal_(0, std / m.in_features**0.5)


def _ws_with_mixing(G, z, c, prob, gen) -> torch.Tensor:
    ws = G.mapping(z, c, update_emas=True)
    if prob > 0 and torch.rand((), generator=gen) < prob:  # the same class on both sides
        cutoff = int(torch.randint(1, ws.shape[1], (), generator=gen))
        z2 = torch.randn(z.shape, generator=gen).to(z.device)
        ws[:, cutoff:] = G.mapping(z2, c)[:, cutoff:]
    return ws


def _lr_factor(cfg: TrainConfig, step: int) -> float:
    """The learning rates' factor at ``step``: 1 before ``lr_decay_from``, then falling linearly to
    ``lr_decay`` at ``steps``."""
    if cfg.lr_decay == 1 or step < cfg.lr_decay_from:
        return 1.0
    done = min(1.0, (step - cfg.lr_decay_from) / (cfg.steps - cfg.lr_decay_from))
    return 1.0 - (1.0 - cfg.lr_decay) * done


def _param_groups(model: nn.Module, prefix: str | None) -> list[dict]:
    """The model's parameters as Adam groups, in ``model.parameters()`` order: one group, or (with
    ``prefix``) the runs of parameters whose names do and do not start with it, the former marked
    ``mapping``; a checkpoint's one-group state then maps onto them (``_regroup``)."""
    groups: list[dict] = []
    for name, param in model.named_parameters():
        inside = prefix is not None and name.startswith(prefix)
        if not groups or groups[-1]["mapping"] != inside:
            groups.append({"params": [], "mapping": inside})
        groups[-1]["params"].append(param)
    return groups


def _regroup(state: dict, groups: list[dict]) -> dict:
    """An optimizer state saved with one parameter group, split as ``groups`` (same parameter
    order), so that a run can resume with the mapping in a group of its own."""
    saved = state["param_groups"]
    if len(saved) == len(groups):
        return state
    assert len(saved) == 1, "a checkpoint's optimizer groups do not match this configuration's"
    ids, out, start = saved[0]["params"], [], 0
    for group in groups:
        n = len(group["params"])
        out.append({**saved[0], "params": ids[start : start + n], "mapping": group["mapping"]})
        start += n
    assert start == len(ids), "a checkpoint's optimizer holds another number of parameters"
    return {**state, "param_groups": out}


def train_gan(
    out_dir,
    config: TrainConfig | None = None,
    device="cpu",
    checkpoint_every: int = 250,
    sample_every: int = 1000,
    progress: bool = True,
    max_seconds: float | None = None,
    keep_every: int = 0,
) -> Path:
    """Train (or continue training) a GAN in ``out_dir``; returns the checkpoint path.

    ``max_seconds`` stops after that much wall time (saving first), so a long run can
    be done in chunks: call again to continue. ``keep_every > 0`` writes the EMA
    generator every that many steps to ``out_dir/snapshots/shapes-MODEL-STEP.pt``.
    """
    check_int(keep_every, "keep_every", minimum=0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dev = check_device(device)
    ckpt_path = out_dir / "checkpoint.pt"
    snapshots = out_dir / "snapshots"
    if keep_every:
        snapshots.mkdir(exist_ok=True)
    cfg = config or TrainConfig()
    build = _MODELS[cfg.model]

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)  # the same initial weights for the same seed
        G = build(**cfg.generator_init()).to(dev)
        if cfg.warp_angle_init:
            _randomize_warp_angle(G, cfg.warp_angle_init, image=cfg.warp_image)
        D = Discriminator(
            img_resolution=cfg.resolution,
            c_dim=cfg.n_classes,
            aux_classes=len(SHAPES) if cfg.shape_aux else 0,
            twin=cfg.twin_aux,
            factor_logits=len(_SPREAD) * _BINS if cfg.factor_aux else 0,
            **cfg.discriminator_kwargs,
        )
        D = D.to(dev)
        reader = opt_r = judge = opt_j = pixel_d = opt_p = None
        if cfg.factor_reader:
            reader = FactorReader(cfg.resolution).to(dev).requires_grad_(False)
            opt_r = torch.optim.Adam(reader.parameters(), lr=_READER_LR, betas=(0.9, 0.99))
        if cfg.reader_fakes:  # a second reader judges the shape, and learns G's images too
            judge = FactorReader(cfg.resolution, fakes=True).to(dev).requires_grad_(False)
            opt_j = torch.optim.Adam(judge.parameters(), lr=_READER_LR, betas=(0.9, 0.99))
        if cfg.pixel_d:
            pixel_d = PixelDiscriminator(size=cfg.pixel_d_size).to(dev).requires_grad_(False)
            opt_p = torch.optim.Adam(pixel_d.parameters(), lr=_PIXEL_D_LR, betas=(0.0, 0.99))
    G_ema = build(**cfg.generator_init()).to(dev).eval().requires_grad_(False)
    G_ema.load_state_dict(G.state_dict())
    r1_ratio = cfg.r1_every / (cfg.r1_every + 1)  # lazy regularisation: adjust Adam for D
    g_groups = _param_groups(G, "mapping." if cfg.mapping_boost != 1 else None)
    opt_g = torch.optim.Adam(g_groups, lr=cfg.lr, betas=(0.0, 0.99), eps=1e-8)
    d_lr = (cfg.d_lr or cfg.lr) * r1_ratio
    opt_d = torch.optim.Adam(D.parameters(), lr=d_lr, betas=(0.0, 0.99**r1_ratio), eps=1e-8)
    step, wall, log, reader_ready, judge_ready = 0, 0.0, [], False, False
    reference = ref_classes = None  # the latest real images' readings and classes, for the reader
    if ckpt_path.exists():
        ck = load_checked(ckpt_path, _CKPT_KIND, 1, fix="delete it to start over")
        saved = asdict(TrainConfig(**{**ck["config"], "steps": cfg.steps}))  # newer fields: defaults
        if saved != asdict(cfg):
            raise ValueError(
                f"{ckpt_path} was written with another configuration: delete it or use another --out"
            )
        G.load_state_dict(ck["G"])
        D.load_state_dict(ck["D"])
        G_ema.load_state_dict(ck["G_ema"])
        opt_g.load_state_dict(_regroup(ck["opt_g"], g_groups))
        opt_d.load_state_dict(ck["opt_d"])
        step, wall, log = ck["step"], ck["wall_seconds"], ck["log"]
        # a checkpoint from before the reader was switched on (or with an older reader, or without
        # the judge) has none we can use: they are warmed up in the loop (at reader_from)
        if reader is not None and _same_shapes(reader.state_dict(), ck.get("reader")):
            reader.load_state_dict(ck["reader"])
            opt_r.load_state_dict(ck["opt_r"])
            reader_ready = True
            if ck.get("reader_reference") is not None:  # (none before it was kept)
                reference, ref_classes = ck["reader_reference"].to(dev), ck["reader_ref_classes"].to(dev)
        if judge is not None and _same_shapes(judge.state_dict(), ck.get("judge")):
            judge.load_state_dict(ck["judge"])
            opt_j.load_state_dict(ck["opt_judge"])
            judge_ready = True
        if pixel_d is not None and ck.get("pixel_d") is not None:  # (none before pixel_d_from)
            pixel_d.load_state_dict(ck["pixel_d"])
            opt_p.load_state_dict(ck["opt_p"])

    ds = ShapesDataset(cfg.resolution)
    if step == 0 and cfg.d_warmup:
        _warm_up_discriminator(D, ds, cfg, dev, progress)

    def save():
        atomic_save(
            {
                "kind": _CKPT_KIND,
                "format_version": 1,
                "config": asdict(cfg),
                "step": step,
                "wall_seconds": wall,
                "log": log,
                "G": G.state_dict(),
                "D": D.state_dict(),
                "G_ema": G_ema.state_dict(),
                "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(),
                **(
                    {
                        "reader": reader.state_dict(),
                        "opt_r": opt_r.state_dict(),
                        "reader_reference": reference,
                        "reader_ref_classes": ref_classes,
                    }
                    if reader_ready
                    else {}
                ),
                **({"judge": judge.state_dict(), "opt_judge": opt_j.state_dict()} if judge_ready else {}),
                **(
                    {"pixel_d": pixel_d.state_dict(), "opt_p": opt_p.state_dict()}
                    if pixel_d is not None and step > cfg.pixel_d_from
                    else {}
                ),
            },
            ckpt_path,
        )

    bs = cfg.batch_size
    policy = check_policy(cfg.augment)
    aux = bool(cfg.shape_aux)  # D has a shape head
    start = time.perf_counter()
    bar = tqdm(total=cfg.steps, initial=step, desc="train-gan", unit="step", disable=not progress)
    rng_guard = torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else [])
    rng_guard.__enter__()  # the per-step seeding below leaves the caller's RNG alone
    old_term = _stop_on_sigterm()
    # the next step's real batch is rendered in a thread while this step trains (64 images take
    # ~28 ms on one core here: a large share of a GPU step); seeded by step, so nothing changes
    renderer = ThreadPoolExecutor(1)
    next_batch = renderer.submit(_real_batch, ds, bs, [cfg.seed, step], cfg.class_groups)
    try:
        while step < cfg.steps:
            if reader is not None and not reader_ready and step >= cfg.reader_from:
                _warm_up_reader(reader, opt_r, ds, cfg, dev, progress)
                reader_ready = True
            if judge is not None and not judge_ready and step >= cfg.reader_from:
                _warm_up_reader(judge, opt_j, ds, cfg, dev, progress)
                judge_ready = True
            if cfg.hue_turn:
                for g in (G, G_ema):
                    g.synthesis.hue_turn.active = step >= cfg.hue_turn_from
            t0 = time.perf_counter()
            gen = _batch_rng(cfg.seed, step, 0)
            torch.manual_seed(
                int(torch.randint(2**62, (), generator=_batch_rng(cfg.seed, step, 1)))
            )  # layer noise
            aug_gen = _batch_rng(cfg.seed, step, 2)

            def score(images, c, aug_gen=aug_gen):  # D behind the augmentation: (score, heads' logits)
                s, h = D.features(diff_augment(images, policy, aug_gen) if policy else images, c)
                heads = {k: getattr(D, k)(h) for k in ("aux", "twin", "factors") if hasattr(D, k)}
                return s, heads

            real, factors = next_batch.result()
            if step + 1 < cfg.steps:
                next_batch = renderer.submit(_real_batch, ds, bs, [cfg.seed, step + 1], cfg.class_groups)
            real = torch.from_numpy(real).to(dev)
            shape_real, c_real = _shape_labels(factors, cfg, dev)
            z = torch.randn(bs, cfg.z_dim, generator=gen).to(dev)
            c_fake = None
            if cfg.n_classes:  # class-conditional: the shape is the class
                k = torch.randint(cfg.n_classes, (bs,), generator=gen)
                if cfg.class_groups:  # as the real batch: one class per minibatch-std group
                    k = k[: bs // _GROUP].repeat(_GROUP)
                c_fake = F.one_hot(k, cfg.n_classes)
                c_fake = c_fake.float().to(dev)
                if cfg.mode_seeking:  # pairs (i, i + bs // 2) share their class
                    c_fake[bs // 2 : bs // 2 * 2] = c_fake[: bs // 2]

            # generator: non-saturating loss
            G.requires_grad_(True)
            D.requires_grad_(False)
            ws = None
            if cfg.model == "biggan":
                fake = G(z, c_fake)
            else:
                ws = _ws_with_mixing(G, z, c_fake, cfg.style_mixing, gen)
                fake = G.synthesis(ws)
            s_fake, heads = score(fake, c_fake)
            loss_g = F.softplus(-s_fake).mean()
            if aux and not (reader_ready and cfg.reader_shape):  # else the reader judges the shape
                loss_g = loss_g + cfg.shape_aux * _shape_loss(heads["aux"], c_fake)
                if cfg.twin_aux:  # with the AC term only: alone, it pays G for ambiguous shapes
                    loss_g = loss_g - cfg.shape_aux * F.cross_entropy(heads["twin"], c_fake.argmax(1))
            if cfg.factor_aux:
                loss_g = loss_g + cfg.factor_aux * _factor_spread_loss(heads["factors"], c_fake)
            if cfg.mode_seeking:
                loss_g = loss_g + cfg.mode_seeking * _mode_seeking_loss(fake, z)
            if reader_ready:
                with torch.no_grad():
                    latest = _readings(reader(real))
                if reference is None:
                    reference, ref_classes = latest, shape_real
                else:
                    reference = torch.cat([reference, latest])[-_READER_REFERENCE:]
                    ref_classes = torch.cat([ref_classes, shape_real])[-_READER_REFERENCE:]
                shape_weight = 0.0 if judge is not None else cfg.reader_shape / cfg.factor_reader
                read = _reader_loss(reader, fake, c_fake, reference, ref_classes, shape_weight)
                loss_g = loss_g + cfg.factor_reader * read
                if judge is not None:
                    judged = judge(fake)[:, len(_SPREAD) * _BINS :]
                    loss_g = loss_g + cfg.reader_shape * F.cross_entropy(judged, c_fake.argmax(1))
            if cfg.colour_match and step >= cfg.colour_match_from:
                loss_g = loss_g + cfg.colour_match * _colour_loss(fake, real)
            pixels_on = pixel_d is not None and step >= cfg.pixel_d_from
            if pixels_on:
                loss_g = loss_g + cfg.pixel_d * F.softplus(-pixel_d(fake)).mean()
            if cfg.warp_spread:
                angle = _image_warp_angle(G, z, c_fake, ws)
                loss_g = loss_g + _WARP_SPREAD_WEIGHT * _warp_spread_loss(angle, c_fake, cfg.warp_spread)
            # the mapping's group (if any) boosted from mapping_boost_from on; all decayed late
            decay = _lr_factor(cfg, step)
            boost = cfg.mapping_boost if step >= cfg.mapping_boost_from else 1.0
            for group in opt_g.param_groups:
                group["lr"] = cfg.lr * decay * (boost if group.get("mapping") else 1.0)
            for group in opt_d.param_groups:
                group["lr"] = d_lr * decay
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()

            # discriminator: logistic loss, lazy R1 on real images
            G.requires_grad_(False)
            D.requires_grad_(True)
            s_fake, heads = score(fake.detach(), c_fake)  # fake first: aug_gen's order
            loss_d = F.softplus(s_fake).mean()
            if cfg.twin_aux:  # the twin head learns which class G was asked for
                loss_d = loss_d + F.cross_entropy(heads["twin"], c_fake.argmax(1))
            s_real, heads = score(real, c_real)
            loss_d = loss_d + F.softplus(-s_real).mean()
            if aux:
                loss_d = loss_d + F.cross_entropy(heads["aux"], shape_real)
            if cfg.factor_aux:  # the factor head learns the real images' factors
                loss_d = loss_d + _factor_read_loss(heads["factors"], factors, dev)
            if cfg.r1_gamma > 0 and step % cfg.r1_every == 0:
                real_r = real.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(score(real_r, c_real)[0].sum(), real_r, create_graph=True)
                r1 = grad.square().sum(dim=[1, 2, 3]).mean()
                loss_d = loss_d + r1 * (cfg.r1_gamma / 2) * cfg.r1_every
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if reader_ready:  # the reader learns the real images' factors
                _reader_step(reader, opt_r, real, factors, shape_real, dev)
                if judge is not None:  # the judge learns G's images as "generated" too
                    _reader_step(judge, opt_j, real, factors, shape_real, dev, fake.detach())
            if pixels_on:
                _pixel_step(pixel_d, opt_p, real, fake)

            # EMA of G
            seen = (step + 1) * bs
            half_life = min(cfg.ema_images, seen * cfg.ema_rampup)
            beta = 0.5 ** (bs / max(half_life, 1e-8))
            with torch.no_grad():
                for p_ema, p in zip(G_ema.parameters(), G.parameters(), strict=True):
                    p_ema.lerp_(p, 1 - beta)
                for b_ema, b in zip(G_ema.buffers(), G.buffers(), strict=True):
                    b_ema.copy_(b)

            step += 1
            wall += time.perf_counter() - t0
            if step % 50 == 0 or step == cfg.steps:
                lg, ld = float(loss_g.detach()), float(loss_d.detach())
                log.append({"step": step, "loss_g": lg, "loss_d": ld, "wall_s": wall})
                bar.set_postfix(g=f"{lg:.3f}", d=f"{ld:.3f}")
            bar.update()
            if sample_every and step % sample_every == 0:
                _save_grid(_adapter(G_ema, cfg.model), out_dir / f"samples-{step:06d}.png", cfg.seed)
            if keep_every and step % keep_every == 0:  # before the checkpoint: never skipped on resume
                name = f"shapes-{cfg.model}"
                _write_generator(G_ema, cfg, step, wall, snapshots / f"{name}-{step:06d}.pt", name)
            if step % checkpoint_every == 0 or step == cfg.steps:
                save()
            if max_seconds is not None and time.perf_counter() - start > max_seconds:
                save()
                break
    except KeyboardInterrupt:
        save()
        raise
    finally:
        renderer.shutdown(cancel_futures=True)
        bar.close()
        rng_guard.__exit__(None, None, None)
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    return ckpt_path


def _stop_on_sigterm():
    """Make SIGTERM (``kill``, a job scheduler) stop training like Ctrl-C: saved first."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, stop)


def _adapter(G, model: str):
    device = next(G.parameters()).device
    if model == "biggan":
        return BigGANAdapter(G, name="G_ema", device=device, class_names=SHAPES)
    return StyleGANAdapter(G, name="G_ema", device=device, class_names=SHAPES if G.c_dim else None)


def _save_grid(g, path: Path, seed: int, n: int = 64) -> None:
    """An 8×8 grid of samples (for a class-conditional model: one class per column)."""
    save_png(image_grid(sample_images(g, n, seed + 12345), 8), path)


def sample_images(g, n: int, seed: int) -> np.ndarray:
    """``n`` generated images, NHWC uint8 (for a class-conditional model the classes take turns)."""
    if isinstance(g, BigGANAdapter):
        return g.to_uint8(g.synthesize(g.sample(n, space="z", seed=seed), class_=np.arange(n) % g.c_dim))
    classes = np.arange(n) % g.c_dim if g.c_dim else None
    return g.to_uint8(g.synthesize(g.sample(n, seed=seed, class_=classes)))


def export_generator(checkpoint, path, name: str, extra: dict | None = None) -> Path:
    """Write the checkpoint's ``G_ema`` as a shippable weights-only file plus a card."""
    ck = load_checked(checkpoint, _CKPT_KIND, 1, fix="train again")
    cfg = TrainConfig(**ck["config"])
    G = _MODELS[cfg.model](**cfg.generator_init())
    G.load_state_dict(ck["G_ema"])
    return _write_generator(G, cfg, ck["step"], ck["wall_seconds"], path, name, extra)


def _hardware(device: torch.device) -> str:
    cpu = f"{platform.machine()}, {torch.get_num_threads()} torch threads"
    return f"{torch.cuda.get_device_name(device)} ({cpu})" if device.type == "cuda" else cpu


def _write_generator(G, cfg: TrainConfig, step: int, wall: float, path, name: str, extra=None) -> Path:
    described = {
        "stylegan": "StyleGAN2-style (sfvq_lib.gan.stylegan.Generator)",
        "biggan": "BigGAN-style, class-conditional on the shape (sfvq_lib.gan.biggan.BigGAN)",
    }
    card = {
        "name": name,
        "architecture": described[cfg.model],
        "config": asdict(cfg),
        "steps": step,
        "wall_seconds": round(wall, 1),
        "hardware": _hardware(next(G.parameters()).device),
        "parameters": sum(p.numel() for p in G.parameters()),
        **(extra or {}),
    }
    extra = {"card": json.dumps(card)}
    if cfg.n_classes:
        extra["class_names"] = list(SHAPES)
    return save_builtin(G, cfg.generator_init(), path, architecture=cfg.model, extra=extra)
