"""SFVQ as a layer inside a network, trained end to end with NSVQ.

In training mode the layer quantizes each input onto a dithered point of its curve
and passes gradients on with noise substitution (`training.noise_substitution`), so
no straight-through estimator or codebook loss is needed. In eval mode it returns
the exact nearest point on the curve. The standalone estimator `SFVQ` is what the
study uses; this layer is for users who put the quantizer inside a model.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from . import curve
from .training import dithered_points, nearest_rows, noise_substitution

__all__ = ["SFVQLayer"]


class SFVQLayer(nn.Module):
    """Space-filling vector quantization with noise-substitution gradients.

    Parameters
    ----------
    n_features : int
        Size of the vectors to quantize.
    bits : int, default 2
        The curve starts with ``2**bits`` corner points; `expand` doubles them.
    initial_codebook : tensor, shape (2**bits, n_features), optional
        Starting corner points (e.g. `curve.initial_corners` of a data batch).
        Default: small Gaussian noise.
    """

    def __init__(self, n_features: int, bits: int = 2, initial_codebook: Tensor | None = None):
        super().__init__()
        if bits < 1:
            raise ValueError(f"bits must be >= 1, got {bits}")
        if initial_codebook is None:
            initial_codebook = 0.01 * torch.randn(2**bits, n_features)
        if tuple(initial_codebook.shape) != (2**bits, n_features):
            raise ValueError(
                f"initial_codebook must have shape {(2**bits, n_features)}, "
                f"got {tuple(initial_codebook.shape)}"
            )
        self.n_features = n_features
        self.codebook = nn.Parameter(initial_codebook.detach().clone().float())

    @property
    def bits(self) -> int:
        return int(len(self.codebook)).bit_length() - 1

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Quantize ``x`` (n, n_features).

        Returns
        -------
        x_hat : tensor, shape (n, n_features)
            Training: ``x`` plus noise with the norm of the dithered quantization
            error (differentiable in ``x`` and the codebook). Eval: the nearest point
            on the curve.
        t : tensor, shape (n,), float64
            Fractional curve index of the point used.
        """
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"x must have shape (n, {self.n_features}), got {tuple(x.shape)}")
        if self.training:
            r = torch.rand(len(self.codebook) - 1, device=x.device)
            p = dithered_points(self.codebook, r)  # (k-1, d)
            j = nearest_rows(x.detach(), p.detach())  # (n,)
            t = j.to(torch.float64) + r[j].to(torch.float64)
            return noise_substitution(x, p[j].to(x.dtype)), t
        t, _ = curve.project(x.detach(), self.codebook.detach())
        return curve._decode(self.codebook, t).to(x.dtype), t

    @torch.no_grad()
    def expand(self, eps: float = 0.01) -> None:
        """Double the corner points in place, keeping the curve's shape.

        The parameter is replaced: build a new optimizer afterwards.
        """
        self.codebook = nn.Parameter(curve.expand(self.codebook.detach(), eps))
