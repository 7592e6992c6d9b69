"""One interface over StyleGAN-family generators, ours or the user's.

`load_generator(spec)` returns a `StyleGANAdapter`: latents in, images out, edits in
W+. Any module with NVIDIA's ``G_ema`` interface works (``z_dim, c_dim, w_dim,
num_ws, img_resolution, img_channels``, ``mapping(z, c, truncation_psi,
truncation_cutoff)``, ``synthesis(ws, noise_mode=...)``, ``mapping.w_avg``).

Specs:

- ``builtin:NAME`` — one of this project's GANs, from ``data/gans/NAME.pt``
  (weights-only file: state dict + constructor kwargs + format version);
  ``builtin:PATH.pt`` reads such a file from anywhere (e.g. a training snapshot).
- ``nvidia:PATH.pkl`` — an NVIDIA StyleGAN2-ADA / StyleGAN3 network pickle (its
  ``G_ema``). Unpickling runs code stored in the file: load only files you trust.
  Needs NVIDIA's ``dnnlib`` and ``torch_utils`` packages: pass the folder of your
  clone of their repository as ``nvidia_repo`` (or set ``SFVQ_NVIDIA_REPO``).
- ``biggan:DIR`` — a pytorch-pretrained-BigGAN folder (``config.json`` +
  ``pytorch_model.bin``), read locally with that package; gives a `BigGANAdapter`.
- ``python:MODULE:CALLABLE`` — ``CALLABLE()`` returns a module with the NVIDIA API
  (or a BigGAN-shaped one: ``G(z, one_hot, truncation)`` with ``embeddings``).

Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .._validation import check_device, check_int
from ..io import atomic_save, load_checked

# Images per forward pass. On 2 CPU cores 64 was faster than 128 (2,048 images, medians of 4:
# conditional StyleGAN 541-613 against 442-479 images/s, unconditional 659-735 against 468-581),
# as the 32-px activations of 128 images (16 MiB a tensor) no longer fit the caches.
BATCH_SIZE = 64

__all__ = ["BUILTIN_DIR", "GeneratorAdapter", "StyleGANAdapter", "load_generator", "save_builtin"]

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "data" / "gans"
_KIND = "sfvq_lib.gan"
_FORMAT_VERSION = 1
_SPEC_KINDS = ("builtin", "nvidia", "biggan", "python")
_SPEC_HELP = "use builtin:NAME, builtin:PATH.pt, nvidia:PATH.pkl, biggan:DIR or python:MODULE:CALLABLE"


def _as_float_tensor(x) -> Tensor:
    """A float32 tensor from an array or tensor (read-only arrays, e.g. memory maps, copied)."""
    if isinstance(x, Tensor):
        return x.float()
    return torch.from_numpy(np.array(x, dtype=np.float32))


class GeneratorAdapter:
    """What every adapter shares: class labels and the uint8 conversion."""

    name: str
    c_dim: int
    class_names: list[str]

    def _set_class_names(self, class_names) -> None:
        """``class_names`` checked against ``c_dim`` (default: the classes' numbers)."""
        self.class_names = list(class_names) if class_names else [str(k) for k in range(self.c_dim)]
        if len(self.class_names) != self.c_dim:
            raise ValueError(f"class_names has {len(self.class_names)} names for {self.c_dim} classes")

    def _labels(self, n: int, class_, generator: torch.Generator) -> Tensor | None:
        """One-hot labels [n, c_dim]: ``class_`` an int, n ints, or None (drawn at random)."""
        if self.c_dim == 0:
            if class_ is not None:
                raise ValueError(f"{self.name} is unconditional: leave class_ out")
            return None
        if class_ is None:
            idx = torch.randint(self.c_dim, (n,), generator=generator)
        elif np.ndim(class_) == 0:
            idx = torch.full((n,), check_int(class_, "class_", 0))
        else:
            idx = torch.as_tensor(np.asarray(class_))
            if idx.shape != (n,) or idx.dtype.is_floating_point or idx.dtype == torch.bool:
                raise ValueError(f"class_ must be one int or {n} ints, got shape {tuple(idx.shape)}")
        if len(idx) and not 0 <= int(idx.min()) <= int(idx.max()) < self.c_dim:
            raise ValueError(f"class_ must lie in 0..{self.c_dim - 1} for {self.name}")
        return torch.nn.functional.one_hot(idx.long(), self.c_dim).float()

    @property
    def default_space(self) -> str:
        """The space latents are studied in: ``"w"`` where there is one, else ``"z"``
        (BigGAN-family generators have only z)."""
        return "w" if self.w_dim else "z"

    @staticmethod
    def to_uint8(images) -> np.ndarray:
        """NCHW images in [-1, 1] → NHWC uint8 (NVIDIA's conversion)."""
        x = torch.as_tensor(np.asarray(images) if not isinstance(images, Tensor) else images)
        return (x.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8).cpu().numpy()


class StyleGANAdapter(GeneratorAdapter):
    """A StyleGAN-family generator behind one interface.

    Parameters
    ----------
    G : torch.nn.Module
        A generator with NVIDIA's ``G_ema`` interface.
    name : str
        The spec it was loaded from (for messages and figures).
    device : str or torch.device
    batch_size : int, default BATCH_SIZE (64)
        Images synthesized per forward pass (on a GPU, more is faster).
    class_names : list of str, optional
        Names of the classes of a conditional generator (default: their numbers).
    """

    spaces = ("z", "w", "w+")

    def __init__(
        self, G, name: str = "generator", device="cpu", batch_size: int = BATCH_SIZE, class_names=None
    ):
        missing = [a for a in ("z_dim", "w_dim", "num_ws", "mapping", "synthesis") if not hasattr(G, a)]
        if missing:
            raise TypeError(f"{name} lacks {missing}: it needs NVIDIA's G_ema interface")
        self.device = check_device(device)
        self.G = G.eval().requires_grad_(False).to(self.device)
        self.name = name
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.z_dim, self.w_dim, self.num_ws = int(G.z_dim), int(G.w_dim), int(G.num_ws)
        self.c_dim = int(getattr(G, "c_dim", 0))
        self.img_resolution = int(getattr(G, "img_resolution", 0))
        self.img_channels = int(getattr(G, "img_channels", 3))
        self._set_class_names(class_names)

    def __repr__(self) -> str:
        return (
            f"StyleGANAdapter({self.name!r}, z_dim={self.z_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}, "
            f"c_dim={self.c_dim}, img_resolution={self.img_resolution})"
        )

    # -------------------------------------------------------------- latents
    @torch.no_grad()
    def sample(
        self, n: int, space: str = "w", truncation_psi: float = 1.0, class_=None, seed=0
    ) -> np.ndarray:
        """Random latents.

        Returns
        -------
        ndarray, float32: (n, z_dim) for ``"z"``, (n, w_dim) for ``"w"``,
        (n, num_ws, w_dim) for ``"w+"`` (the same w on every layer).
        """
        n = check_int(n, "n", 1)
        if space not in self.spaces:
            raise ValueError(f"space={space!r} is not one of {self.spaces}")
        if not 0 <= truncation_psi <= 1:
            raise ValueError(f"truncation_psi must lie in [0, 1], got {truncation_psi}")
        gen = torch.Generator().manual_seed(int(seed))
        z = torch.randn(n, self.z_dim, generator=gen)
        c = self._labels(n, class_, gen)
        if space == "z":
            return z.numpy()
        out = []
        for a in range(0, n, self.batch_size):
            cb = None if c is None else c[a : a + self.batch_size].to(self.device)
            ws = self.G.mapping(z[a : a + self.batch_size].to(self.device), cb, truncation_psi=truncation_psi)
            out.append(ws.float().cpu())
        ws = torch.cat(out)
        return (ws[:, 0] if space == "w" else ws).numpy()

    def _as_wplus(self, latents, space: str) -> Tensor:
        x = _as_float_tensor(latents)
        if space == "z":
            if x.ndim != 2 or x.shape[1] != self.z_dim:
                raise ValueError(f"z latents must have shape (n, {self.z_dim}), got {tuple(x.shape)}")
            return x
        if x.ndim == 2 and x.shape[1] == self.w_dim:
            return x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if x.ndim == 3 and x.shape[1:] == (self.num_ws, self.w_dim):
            return x
        raise ValueError(
            f"w latents must have shape (n, {self.w_dim}) or (n, {self.num_ws}, {self.w_dim}), "
            f"got {tuple(x.shape)}"
        )

    @torch.no_grad()
    def synthesize(self, latents, space: str = "w", truncation_psi: float = 1.0, class_=None) -> np.ndarray:
        """Images for latents: NCHW float32, about [-1, 1] (not clamped).

        ``space="w"`` takes (n, w_dim) or W+ (n, num_ws, w_dim); ``space="z"`` maps
        (n, z_dim) through the mapping network first.
        """
        if space not in self.spaces:
            raise ValueError(f"space={space!r} is not one of {self.spaces}")
        x = self._as_wplus(latents, "z" if space == "z" else "w")
        c = self._labels(len(x), class_, torch.Generator().manual_seed(0)) if space == "z" else None
        out = []
        for a in range(0, len(x), self.batch_size):
            xb = x[a : a + self.batch_size].to(self.device)
            if space == "z":
                cb = None if c is None else c[a : a + self.batch_size].to(self.device)
                xb = self.G.mapping(xb, cb, truncation_psi=truncation_psi)
            out.append(self.G.synthesis(xb, noise_mode="const").float().cpu().contiguous())
        return torch.cat(out).numpy() if out else np.zeros((0, self.img_channels, 1, 1), np.float32)

    def edit(self, w, direction, layers=None, sigma: float = 1.0) -> np.ndarray:
        """Add ``sigma * direction`` to the W+ layers ``layers = (l0, l1)`` (inclusive).

        ``w``: (n, w_dim) or (n, num_ws, w_dim); ``direction``: (w_dim,), used as
        given (pass a unit vector for σ in W units). ``layers`` may also be a list
        of ranges (a joint edit on several ranges); default all layers.
        Returns W+ codes (n, num_ws, w_dim), float32.
        """
        ws = self._as_wplus(w, "w").clone()
        d = torch.as_tensor(np.asarray(direction, dtype=np.float32)).reshape(-1)
        if d.numel() != self.w_dim:
            raise ValueError(f"direction must have {self.w_dim} values, got {d.numel()}")
        ranges = [(0, self.num_ws - 1)] if layers is None else layers
        if len(ranges) == 2 and all(isinstance(v, (int, np.integer)) for v in ranges):
            ranges = [tuple(ranges)]
        for lo, hi in ranges:
            if not 0 <= lo <= hi < self.num_ws:
                raise ValueError(f"layers ({lo}, {hi}) must satisfy 0 <= l0 <= l1 <= {self.num_ws - 1}")
            ws[:, lo : hi + 1] += float(sigma) * d
        return ws.numpy()

    def style_affine_weights(self, layers=None) -> list[np.ndarray]:
        """The style-affine weight matrices (out, w_dim) of the synthesis layers, for SeFa.

        Found as every ``affine`` submodule of ``G.synthesis`` in order (NVIDIA's and
        ours); ``layers`` picks some of them by position.
        """
        mats = [
            m.affine.weight.detach().float().cpu().numpy()
            for _, m in self.G.synthesis.named_modules()
            if hasattr(m, "affine") and hasattr(m.affine, "weight")
        ]
        if not mats:
            raise ValueError(f"{self.name} has no style-affine layers in G.synthesis")
        if layers is None:
            return mats
        return [mats[i] for i in layers]


# ------------------------------------------------------------------ loading
def save_builtin(
    G, init_kwargs: dict, path, architecture: str = "stylegan", extra: dict | None = None
) -> Path:
    """Save one of our generators as a weights-only file (see `load_generator`)."""
    return atomic_save(
        {
            "kind": _KIND,
            "format_version": _FORMAT_VERSION,
            "architecture": architecture,
            "init_kwargs": init_kwargs,
            "G_ema": {k: v.detach().cpu() for k, v in G.state_dict().items()},
            "extra": extra or {},
        },
        path,
    )


def read_card(spec: str) -> dict:
    """The training facts stored in a builtin GAN's weights file (empty for others)."""
    import json

    kind, rest = parse_spec(spec)
    if kind != "builtin":
        return {"name": spec}
    obj = load_checked(_builtin_path(rest), _KIND, _FORMAT_VERSION)
    card = obj.get("extra", {}).get("card")
    return json.loads(card) if card else {"name": spec}


def parse_spec(spec: str) -> tuple[str, str]:
    """``(kind, rest)`` of a generator spec ``KIND:REST``; a clear error for an unknown kind."""
    kind, sep, rest = spec.partition(":") if isinstance(spec, str) else ("", "", "")
    if not sep or kind not in _SPEC_KINDS:
        raise ValueError(f"unknown GAN spec {spec!r}: {_SPEC_HELP}")
    return kind, rest


def spec_source(spec: str) -> Path | None:
    """The file (``builtin``, ``nvidia``) or folder (``biggan``) a spec's generator is read
    from; None for a ``python:`` spec, which is code."""
    kind, rest = parse_spec(spec)
    if kind == "builtin":
        return builtin_file(rest)
    return None if kind == "python" else Path(rest).expanduser()


def builtin_file(rest: str) -> Path:
    """The weights file of ``builtin:REST``: data/gans/NAME.pt for a NAME, else the PATH.pt given."""
    return Path(rest).expanduser() if rest.endswith(".pt") else BUILTIN_DIR / f"{rest}.pt"


def _builtin_path(rest: str) -> Path:
    """`builtin_file`, checked: a clear error when there is no such file."""
    path = builtin_file(rest)
    if path.is_file():
        return path
    if rest.endswith(".pt"):
        raise ValueError(f"no weights file {path} (builtin:PATH.pt names one written by sfvq train-gan)")
    known = sorted(p.stem for p in BUILTIN_DIR.glob("*.pt")) if BUILTIN_DIR.is_dir() else []
    raise ValueError(
        f"no built-in GAN {rest!r} (its weights would be {path}); available: {known or 'none yet'}"
    )


def _load_builtin_file(path: Path):
    """(generator module, architecture, extra) from one of our weights files."""
    from .biggan import BigGAN
    from .stylegan import Generator

    obj = load_checked(path, _KIND, _FORMAT_VERSION, fix="retrain or restore the file")
    builders = {"stylegan": Generator, "biggan": BigGAN}
    arch = obj.get("architecture")
    if arch not in builders:
        raise ValueError(f"{path} holds a {arch!r} generator, which this version cannot build")
    try:
        G = builders[arch](**obj["init_kwargs"])
        G.load_state_dict(obj["G_ema"])
    except (TypeError, RuntimeError, KeyError) as e:
        raise ValueError(f"{path} does not fit the generator it names ({str(e)[:200]}): retrain it") from None
    return G, arch, obj.get("extra", {})


def _load_nvidia(path: Path, nvidia_repo):
    repo = nvidia_repo or os.environ.get("SFVQ_NVIDIA_REPO")
    if repo:
        if not Path(repo).is_dir():
            raise FileNotFoundError(f"NVIDIA repository folder {repo} does not exist")
        if str(repo) not in sys.path:
            sys.path.insert(0, str(repo))
    try:
        importlib.import_module("dnnlib")
        importlib.import_module("torch_utils")
    except ImportError:
        raise ValueError(
            "loading an NVIDIA pickle needs NVIDIA's dnnlib and torch_utils: clone NVlabs/stylegan3 "
            "(or stylegan2-ada-pytorch) and pass its folder as --nvidia-repo DIR or SFVQ_NVIDIA_REPO=DIR"
        ) from None
    if not path.is_file():
        raise FileNotFoundError(f"no such NVIDIA pickle: {path}")
    import pickle

    try:
        with open(path, "rb") as f:
            data = pickle.load(f)  # runs code from the file: the user named it explicitly
    except Exception as e:
        raise ValueError(
            f"{path} is not a readable NVIDIA network pickle ({type(e).__name__}: {e})"
        ) from None
    if not isinstance(data, dict) or "G_ema" not in data:
        raise ValueError(f"{path} has no 'G_ema' entry: is it a StyleGAN2-ADA / StyleGAN3 network pickle?")
    return data["G_ema"]


def _load_python(target: str):
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ValueError(f"python spec must be python:MODULE:CALLABLE, got python:{target}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f"cannot import {module_name!r} ({e}): put it on PYTHONPATH") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ValueError(f"{module_name} has no callable {attr!r}")
    return fn()


def load_generator(
    spec: str, device="cpu", nvidia_repo=None, batch_size: int = BATCH_SIZE
) -> GeneratorAdapter:
    """Load a generator from a spec (see the module docstring) and wrap it.

    StyleGAN-family models give a `StyleGANAdapter`, BigGAN-family models a
    `BigGANAdapter` (z space only, class-conditional).
    """
    from .biggan_adapter import BigGANAdapter, load_biggan_dir

    kind, rest = parse_spec(spec)
    if kind == "builtin":
        G, arch, extra = _load_builtin_file(_builtin_path(rest))
        adapter = BigGANAdapter if arch == "biggan" else StyleGANAdapter
        return adapter(
            G, name=spec, device=device, batch_size=batch_size, class_names=extra.get("class_names")
        )
    elif kind == "biggan":
        return BigGANAdapter(
            load_biggan_dir(spec_source(spec)), name=spec, device=device, batch_size=batch_size
        )
    elif kind == "nvidia":
        G = _load_nvidia(spec_source(spec), nvidia_repo)
    else:  # python
        G = _load_python(rest)
        if not hasattr(G, "mapping") and hasattr(G, "embeddings"):  # BigGAN-shaped
            return BigGANAdapter(G, name=spec, device=device, batch_size=batch_size)
    return StyleGANAdapter(G, name=spec, device=device, batch_size=batch_size)
