"""The space-filling vector quantizer as a scikit-learn-style estimator.

Reference: M. H. Vali and T. Bäckström, "Unsupervised Panoptic Interpretation of
Latent Spaces in GANs Using Space-Filling Vector Quantization", TMLR 2025
(arXiv:2410.20573); the algorithm follows their published code, with two fixes:
the first 4 corner points come from the data (means of 4 norm-sorted chunks) and
the projection onto the curve is exact over all lines.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from torch import Tensor
from tqdm import tqdm

from . import curve
from ._validation import NumpyRows, check_device, check_int, check_matrix, device_available
from .io import atomic_save, load_checked
from .training import train_stage

__all__ = ["SFVQ"]

FORMAT_VERSION = 1
_KIND = "sfvq_lib.SFVQ"
_CHECKPOINT_KIND = "sfvq_lib.SFVQ.checkpoint"


class SFVQ(TransformerMixin, BaseEstimator):
    """Space-filling vector quantizer: a piece-wise linear curve that fills the data.

    Training starts from 4 corner points and doubles them before every new stage
    (2, 3, …, ``bits`` bits). At each step one random point per line is the
    quantization target ("dithering"); the loss is the MSE. To put SFVQ inside a
    network trained end to end, use `SFVQLayer` (noise substitution, NSVQ).

    Parameters
    ----------
    bits : int, default 6
        Final bitrate; the curve has ``2**bits`` corner points. At least 2.
    n_epochs : int, default 1
        Passes over the data at every stage.
    batch_size : int, default 64
        Samples per Adam step.
    lr : float, default 1e-3
        Adam learning rate at the start of each stage (halved at 60 % and 80 % of
        the stage's epochs).
    expansion_eps : float, default 0.01
        Where a doubled corner point's copy sits along its line, as a fraction.
    shuffle : bool, default True
        Visit the samples in a new random order every epoch (the reference code
        uses contiguous batches in data order: ``shuffle=False``).
    device : str or torch.device, default "cpu"
        Where training and projection run ("cpu", "cuda", "cuda:1", ...).
    random_state : int, numpy RandomState or None
        Seed for shuffling and dithering. The same int gives a bit-identical
        ``codebook_`` on CPU.
    progress : bool, default True
        Show a tqdm progress bar during `fit`.
    checkpoint : str or path, optional
        File to save the training state to after every epoch. If it exists when
        `fit` starts and was written for the same parameters and data (hashed in
        full), training resumes from it and ends exactly as an uninterrupted run
        would; a checkpoint of a finished fit makes the same fit return at once.
        Needs ``random_state`` to be an int or None.

    Attributes
    ----------
    codebook_ : ndarray, shape (2**bits, n_features), float32
        Corner points in curve order.
    codebooks_ : dict[int, ndarray]
        The curve at every bitrate ``b = 2 … bits``, shape ``(2**b, n_features)``.
    history_ : list of dict
        One entry per stage and epoch: ``bits, epoch, loss, perplexity, lr`` and
        ``usage`` (samples assigned to each line during the epoch).
    n_features_in_ : int
    """

    def __init__(
        self,
        bits: int = 6,
        n_epochs: int = 1,
        batch_size: int = 64,
        lr: float = 1e-3,
        expansion_eps: float = 0.01,
        shuffle: bool = True,
        device="cpu",
        random_state=None,
        progress: bool = True,
        checkpoint=None,
    ):
        self.bits = bits
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.expansion_eps = expansion_eps
        self.shuffle = shuffle
        self.device = device
        self.random_state = random_state
        self.progress = progress
        self.checkpoint = checkpoint

    # ------------------------------------------------------------------ fit
    def _check_params(self) -> torch.device:
        check_int(self.bits, "bits", 2, " (the curve starts from 4 = 2**2 corner points)")
        if self.bits > 20:
            raise ValueError(f"bits={self.bits} gives {2**self.bits} corner points; use bits <= 20")
        check_int(self.n_epochs, "n_epochs", 1)
        check_int(self.batch_size, "batch_size", 1)
        if not isinstance(self.lr, (int, float)) or not 0 < self.lr < float("inf"):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if not isinstance(self.expansion_eps, (int, float)) or not 0 < self.expansion_eps < 0.5:
            raise ValueError(f"expansion_eps must lie in (0, 0.5), got {self.expansion_eps!r}")
        return check_device(self.device)

    def fit(self, X, y=None):
        """Train the curve on ``X`` (n_samples, n_features); returns self."""
        device = self._check_params()
        rows = check_matrix(X)
        n, d = rows.shape
        n_corners = 2**self.bits
        if n < n_corners:
            fix = (
                f"use bits <= {int(np.log2(n))} or pass more samples" if n >= 4 else "pass at least 4 samples"
            )
            raise ValueError(
                f"bits={self.bits} needs at least {n_corners} samples (one per corner point), got {n}: {fix}"
            )
        if self.checkpoint is not None and not (
            self.random_state is None or isinstance(self.random_state, int)
        ):
            raise TypeError(
                "a checkpoint needs random_state to be an int or None, got a "
                f"{type(self.random_state).__name__}: pass an int seed"
            )
        if isinstance(rows, NumpyRows):
            rows = rows.as_tensor()
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        generator = torch.Generator().manual_seed(seed)
        fingerprint = _fingerprint(rows) if self.checkpoint is not None else None

        state = self._load_checkpoint(fingerprint)
        if state is None:
            codebook = curve.initial_corners(rows).to(device)
            state = {"bits": 2, "epoch": 0, "codebook": codebook, "codebooks": {}, "history": []}
        else:
            generator.set_state(state["generator"])
        codebooks = {b: c.to(device) for b, c in state["codebooks"].items()}
        history = list(state["history"])

        steps_per_epoch = -(-n // self.batch_size)
        total = (self.bits - 1) * self.n_epochs * steps_per_epoch
        done = ((state["bits"] - 2) * self.n_epochs + state["epoch"]) * steps_per_epoch
        bar = tqdm(
            total=total, initial=done, desc="SFVQ", unit="step", disable=not self.progress, leave=False
        )
        try:
            codebook = state["codebook"].to(device)
            resume = state.get("stage_state")
            for bits in range(state["bits"], self.bits + 1):
                if bits > 2 and resume is None:
                    codebook = curve.expand(codebook, self.expansion_eps)
                bar.set_postfix(bits=bits)

                def on_epoch(stage_state, log, bits=bits):
                    history.append(log.as_dict())
                    bar.set_postfix(bits=bits, loss=f"{log.loss:.4g}")
                    if stage_state["epoch"] == self.n_epochs:  # the stage is done
                        codebooks[bits] = stage_state["codebook"]
                        self._save_checkpoint(fingerprint, bits + 1, None, codebooks, history, generator)
                    else:
                        self._save_checkpoint(fingerprint, bits, stage_state, codebooks, history, generator)

                codebook, _ = train_stage(
                    codebook,
                    rows,
                    bits=bits,
                    n_epochs=self.n_epochs,
                    batch_size=self.batch_size,
                    lr=self.lr,
                    shuffle=self.shuffle,
                    generator=generator,
                    on_step=lambda _loss: bar.update(),
                    on_epoch=on_epoch,
                    resume=resume,
                )
                resume = None
                codebooks[bits] = codebook.detach().clone()
        finally:
            bar.close()

        self.codebooks_ = {b: c.detach().cpu().numpy().astype(np.float32) for b, c in codebooks.items()}
        self.codebook_ = self.codebooks_[self.bits]
        self.history_ = history
        self.n_features_in_ = d
        return self

    # ----------------------------------------------------------- checkpoints
    def _checkpoint_params(self) -> dict:
        keys = ("bits", "n_epochs", "batch_size", "lr", "expansion_eps", "shuffle")
        params = {k: getattr(self, k) for k in keys}
        rs = self.random_state
        params["random_state"] = int(rs) if isinstance(rs, (int, np.integer)) else None
        return params

    def _save_checkpoint(self, fingerprint, bits, stage_state, codebooks, history, generator):
        if self.checkpoint is None:
            return
        atomic_save(
            {
                "kind": _CHECKPOINT_KIND,
                "format_version": FORMAT_VERSION,
                "params": self._checkpoint_params(),
                "fingerprint": fingerprint,
                "bits": bits,
                "stage_state": stage_state,
                "codebooks": {b: c.detach().cpu() for b, c in codebooks.items()},
                "history": history,
                "generator": generator.get_state(),
            },
            self.checkpoint,
        )

    def _load_checkpoint(self, fingerprint):
        if self.checkpoint is None or not Path(self.checkpoint).exists():
            return None
        ck = load_checked(self.checkpoint, _CHECKPOINT_KIND, FORMAT_VERSION, fix="delete it to start over")
        if ck["params"] != self._checkpoint_params() or ck["fingerprint"] != fingerprint:
            raise ValueError(
                f"checkpoint {self.checkpoint} was written for other parameters or other "
                "data: delete it to start over"
            )
        stage_state, bits = ck["stage_state"], ck["bits"]
        return {
            "bits": bits,
            # stage_state None: stage `bits - 1` (or the whole fit) had finished
            "epoch": 0 if stage_state is None else stage_state["epoch"],
            "codebook": ck["codebooks"][bits - 1] if stage_state is None else stage_state["codebook"],
            "codebooks": ck["codebooks"],
            "history": ck["history"],
            "generator": ck["generator"],
            "stage_state": stage_state,
        }

    # ------------------------------------------------------------ inference
    def _fitted_codebook(self, bits) -> Tensor:
        if not hasattr(self, "codebook_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit first.")
        if bits is None:
            bits = self.bits
        if bits not in self.codebooks_:
            raise ValueError(
                f"bits={bits!r} is not a fitted bitrate; choose one of {sorted(self.codebooks_)}"
            )
        return torch.from_numpy(self.codebooks_[bits]).to(check_device(self.device))

    def _project(self, X, bits):
        c = self._fitted_codebook(bits)
        rows = check_matrix(X, n_features=self.n_features_in_)
        src = rows.array if isinstance(rows, NumpyRows) else rows
        return curve.project(src, c)

    def transform(self, X, bits: int | None = None):
        """Fractional curve index of the nearest point on the curve.

        Parameters
        ----------
        X : array or tensor, shape (n, n_features)
        bits : int, optional
            Project onto the curve of this bitrate (default: the final one).

        Returns
        -------
        t : array or tensor, shape (n,), float64 in ``[0, 2**bits - 1]``
        """
        return self._project(X, bits)[0]

    def inverse_transform(self, t, bits: int | None = None):
        """Points on the curve at fractional indices ``t``: shape (n, n_features)."""
        c = self._fitted_codebook(bits)
        if not isinstance(t, Tensor):
            t = np.asarray(t)
            if t.dtype.kind not in "fiu":
                raise TypeError(f"t must hold numbers, got an array of dtype {t.dtype}")
        out = curve.interpolate(c, t)
        return out.to(t.device) if isinstance(t, Tensor) else out.cpu().numpy()

    def quantize(self, X, bits: int | None = None):
        """The nearest point on the curve for every row of ``X``."""
        t, _ = self._project(X, bits)
        return self.inverse_transform(t, bits)

    def predict(self, X, bits: int | None = None):
        """Index of the nearest corner point, shape (n,), int64."""
        c = self._fitted_codebook(bits)
        rows = check_matrix(X, n_features=self.n_features_in_)  # rows[a:b] is a tensor either way
        out, block = [], max(1, (1 << 22) // len(c))
        for a in range(0, len(rows), block):
            out.append(torch.cdist(rows[a : a + block].to(c.device, torch.float32), c).argmin(1))
        idx = torch.cat(out)
        return idx.to(X.device) if isinstance(X, Tensor) else idx.cpu().numpy()

    def score(self, X, y=None, bits: int | None = None) -> float:
        """Negative mean squared error (per feature) of quantizing ``X`` onto the curve."""
        _, sq = self._project(X, bits)
        sq = sq if isinstance(sq, Tensor) else torch.from_numpy(sq)
        return -float(sq.double().mean()) / self.n_features_in_

    # ------------------------------------------------------------------- io
    def save(self, path) -> Path:
        """Write the fitted curve, its parameters and training history to one file.

        The write is atomic. Read it back with `SFVQ.load` (``weights_only`` torch
        loading: no code is unpickled).
        """
        self._fitted_codebook(None)
        from . import __version__

        return atomic_save(
            {
                "kind": _KIND,
                "format_version": FORMAT_VERSION,
                "sfvq_lib_version": __version__,
                "params": self._checkpoint_params()
                | {"device": str(self.device), "progress": bool(self.progress)},
                "codebooks": {b: torch.from_numpy(c.copy()) for b, c in self.codebooks_.items()},
                "history": self.history_,
                "n_features_in": int(self.n_features_in_),
            },
            path,
        )

    @classmethod
    def load(cls, path, device=None) -> SFVQ:
        """Read a file written by `save`.

        ``device`` overrides the saved device; without it, a curve fitted on a GPU is
        loaded onto the CPU (with a warning) where no GPU is available.
        """
        obj = load_checked(path, _KIND, FORMAT_VERSION, fix="fit and save the curve again")
        try:
            params = dict(obj["params"])
            if device is not None:
                params["device"] = device
            elif not device_available(params["device"]):
                warnings.warn(
                    f"{path} was fitted on {params['device']!r}, which this machine lacks; using 'cpu'",
                    stacklevel=2,
                )
                params["device"] = "cpu"
            q = cls(**params)
            codebooks = {int(b): c for b, c in obj["codebooks"].items()}
            d = int(obj["n_features_in"])
            for b in range(2, q.bits + 1):
                c = codebooks[b]
                if not isinstance(c, Tensor) or tuple(c.shape) != (2**b, d) or not torch.isfinite(c).all():
                    raise ValueError(f"codebook at {b} bits is malformed")
            history = list(obj["history"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(
                f"{path} is a damaged {_KIND} file ({e}); fit and save the curve again"
            ) from None
        q.codebooks_ = {b: codebooks[b].numpy().astype(np.float32) for b in range(2, q.bits + 1)}
        q.codebook_ = q.codebooks_[q.bits]
        q.history_ = history
        q.n_features_in_ = d
        return q


def _fingerprint(rows) -> str:
    """A hash of the data's shape and every value (streamed in blocks)."""
    h = hashlib.blake2b(f"{tuple(rows.shape)}".encode(), digest_size=16)
    for a in range(0, len(rows), 65536):
        block = rows[a : a + 65536]
        h.update(block.detach().cpu().float().numpy().tobytes())
    return h.hexdigest()
