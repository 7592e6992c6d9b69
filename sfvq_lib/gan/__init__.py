"""Generators: our small StyleGAN2-architecture GAN and adapters for users' GANs."""

from .adapter import StyleGANAdapter, load_generator, save_builtin
from .stylegan import Discriminator, Generator

__all__ = ["Discriminator", "Generator", "StyleGANAdapter", "load_generator", "save_builtin"]
