"""BigGAN-family generators behind the adapter interface: z space, one class per image.

Serves our `~sfvq_lib.gan.biggan.BigGAN` and huggingface's pytorch-pretrained-BigGAN
(``biggan:DIR`` specs: a folder with ``config.json`` and ``pytorch_model.bin``, read
locally — ``BigGAN.from_pretrained`` with a model name would download, which we never
do). Both are called as ``G(z, class_label_one_hot, truncation)``.

BigGAN has no W space: latents are z, and truncation is BigGAN's trick, z drawn from
``truncation * truncnorm(-2, 2)``; pretrained BigGANs also take ``truncation`` as a
model input (it picks their batch-norm statistics), so pass the same
``truncation_psi`` to `BigGANAdapter.sample` and `BigGANAdapter.synthesize`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .._validation import check_device, check_int
from .adapter import BATCH_SIZE, GeneratorAdapter, _as_float_tensor

__all__ = ["BigGANAdapter", "load_biggan_dir", "truncated_normal"]


def truncated_normal(n: int, dim: int, truncation: float, generator: torch.Generator) -> Tensor:
    """``truncation * truncnorm(-2, 2)`` samples [n, dim] (out-of-range values redrawn)."""
    z = torch.randn(n, dim, generator=generator)
    while True:
        bad = z.abs() > 2
        if not bad.any():
            return z * truncation
        z[bad] = torch.randn(int(bad.sum()), generator=generator)


def _check_psi(truncation_psi) -> float:
    psi = float(truncation_psi)
    if not 0 < psi <= 1:
        raise ValueError(f"truncation_psi must lie in (0, 1] for a BigGAN, got {truncation_psi}")
    return psi


class BigGANAdapter(GeneratorAdapter):
    """A class-conditional BigGAN-family generator behind one interface.

    Parameters
    ----------
    G : torch.nn.Module
        Called as ``G(z, one_hot, truncation)``; sizes read from ``G.config``
        (pytorch-pretrained-BigGAN) or from ``G.z_dim, G.num_classes, G.img_resolution``.
    name : str
        The spec it was loaded from (for messages and figures).
    device : str or torch.device
    batch_size : int, default BATCH_SIZE (64)
        Images synthesized per forward pass.
    class_names : list of str, optional
        Names of the classes (default: their numbers).
    """

    spaces = ("z",)
    w_dim = None  # no W space
    num_ws = None  # no per-layer styles

    def __init__(
        self, G, name: str = "generator", device="cpu", batch_size: int = BATCH_SIZE, class_names=None
    ):
        cfg = getattr(G, "config", G)
        missing = [a for a in ("z_dim", "num_classes") if not hasattr(cfg, a)]
        if missing or not hasattr(G, "embeddings"):
            raise TypeError(f"{name} is not BigGAN-shaped: it lacks {missing or ['embeddings']}")
        self.device = check_device(device)
        self.G = G.eval().requires_grad_(False).to(self.device)
        self.name = name
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.z_dim, self.c_dim = int(cfg.z_dim), int(cfg.num_classes)
        self.img_resolution = int(getattr(cfg, "output_dim", None) or getattr(G, "img_resolution", 0))
        self.img_channels = 3
        self._set_class_names(class_names)

    def __repr__(self) -> str:
        return (
            f"BigGANAdapter({self.name!r}, z_dim={self.z_dim}, classes={self.c_dim}, "
            f"img_resolution={self.img_resolution})"
        )

    def sample(
        self, n: int, space: str = "z", truncation_psi: float = 1.0, class_=None, seed=0
    ) -> np.ndarray:
        """Random z, (n, z_dim) float32: ``truncation_psi * truncnorm(-2, 2)``.

        z does not depend on the class; ``class_`` is only checked here and is given
        to `synthesize`.
        """
        n = check_int(n, "n", 1)
        if space != "z":
            raise ValueError(f"{self.name} is BigGAN-family: it has only the z space, not {space!r}")
        psi = _check_psi(truncation_psi)
        gen = torch.Generator().manual_seed(int(seed))
        self._labels(n, class_, torch.Generator().manual_seed(0))  # validates class_
        return truncated_normal(n, self.z_dim, psi, gen).numpy()

    @torch.no_grad()
    def synthesize(self, latents, space: str = "z", truncation_psi: float = 1.0, class_=None) -> np.ndarray:
        """Images for z (n, z_dim) of class ``class_`` (one int, n ints, or None =
        random classes drawn with seed 0): NCHW float32 in [-1, 1]."""
        if space != "z":
            raise ValueError(f"{self.name} is BigGAN-family: it has only the z space, not {space!r}")
        psi = _check_psi(truncation_psi)
        z = _as_float_tensor(latents)
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z latents must have shape (n, {self.z_dim}), got {tuple(z.shape)}")
        c = self._labels(len(z), class_, torch.Generator().manual_seed(0))
        out = [
            self.G(
                z[a : a + self.batch_size].to(self.device), c[a : a + self.batch_size].to(self.device), psi
            )
            .float()
            .cpu()
            for a in range(0, len(z), self.batch_size)
        ]
        return (
            torch.cat(out).numpy()
            if out
            else np.zeros((0, 3, self.img_resolution, self.img_resolution), np.float32)
        )

    def edit(self, z, direction, layers=None, sigma: float = 1.0) -> np.ndarray:
        """``z + sigma * direction`` (BigGAN has no layers to choose: leave ``layers`` out)."""
        if layers is not None:
            raise ValueError(f"{self.name} is BigGAN-family: z feeds every block, so leave layers out")
        z = np.asarray(z, dtype=np.float32)
        d = np.asarray(direction, dtype=np.float32).reshape(-1)
        if z.ndim != 2 or z.shape[1] != self.z_dim or d.size != self.z_dim:
            raise ValueError(
                f"z must be (n, {self.z_dim}) and direction ({self.z_dim},), got {z.shape} and {d.shape}"
            )
        return z + np.float32(sigma) * d

    def style_affine_weights(self, layers=None) -> list[np.ndarray]:
        """The z-columns (out, z_dim) of every layer reading the condition vector
        ``cat(z, class embedding)``, in order: what SeFa factorizes for a BigGAN."""
        cond_dim = self.z_dim + self.G.embeddings.weight.shape[0]
        mats = []
        for module in self.G.modules():
            weight = _effective_weight(module)
            if weight is not None and weight.ndim == 2 and weight.shape[1] == cond_dim:
                mats.append(weight[:, : self.z_dim].float().cpu().numpy())
        if not mats:
            raise ValueError(f"{self.name} has no layer reading the condition vector")
        return mats if layers is None else [mats[i] for i in layers]


def _effective_weight(module) -> Tensor | None:
    """The weight a linear layer applies: spectral-normalised, equalized-lr or plain."""
    if hasattr(module, "weight_orig") and hasattr(module, "weight_u") and hasattr(module, "weight_v"):
        w = module.weight_orig.detach()  # torch.nn.utils.spectral_norm, as at inference
        sigma = module.weight_u.detach() @ w.reshape(len(w), -1) @ module.weight_v.detach()
        return w / sigma
    w = getattr(module, "weight", None)
    if not isinstance(w, Tensor) or isinstance(module, torch.nn.Embedding):
        return None
    return w.detach() * getattr(module, "weight_gain", 1.0)


def load_biggan_dir(folder: Path):
    """A pytorch-pretrained-BigGAN model from ``folder`` (config.json + pytorch_model.bin)."""
    try:
        from pytorch_pretrained_biggan import BigGAN, BigGANConfig
    except ImportError:
        raise ValueError(
            "reading a biggan:DIR folder needs huggingface's package: "
            "pip install pytorch-pretrained-biggan==0.1.1"
        ) from None
    folder = Path(folder)
    missing = [f for f in ("config.json", "pytorch_model.bin") if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder} lacks {missing}: a biggan:DIR folder holds config.json and pytorch_model.bin"
        )
    try:
        model = BigGAN(BigGANConfig.from_json_file(str(folder / "config.json")))
        model.load_state_dict(torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True))
    except (ValueError, TypeError, KeyError, RuntimeError) as e:
        raise ValueError(f"{folder} is not a readable BigGAN ({type(e).__name__}: {str(e)[:200]})") from None
    return model
