"""A tiny untrained BigGAN-shaped generator for tests (``python:tests.fake_biggan:make``)."""

import torch

from sfvq_lib.gan import BigGAN


def make():
    torch.manual_seed(0)
    return BigGAN(z_dim=8, num_classes=3, embed_dim=4, img_resolution=8, channels={4: 8, 8: 8})
