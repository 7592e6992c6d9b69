"""Generators: our small StyleGAN2- and BigGAN-style GANs and adapters for users' GANs."""

from .adapter import GeneratorAdapter, StyleGANAdapter, load_generator, save_builtin
from .biggan import BigGAN
from .biggan_adapter import BigGANAdapter
from .stylegan import Discriminator, Generator

__all__ = [
    "BigGAN",
    "BigGANAdapter",
    "Discriminator",
    "Generator",
    "GeneratorAdapter",
    "StyleGANAdapter",
    "load_generator",
    "save_builtin",
]
