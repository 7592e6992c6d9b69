"""SFVQ's training loop: one bitrate stage of dithered MSE training.

The estimator (`sfvq_lib.sfvq.SFVQ`) calls `train_stage` once per bitrate, doubling
the corner points in between with `sfvq_lib.curve.expand`. Nothing here does I/O.

At each step one uniform random point is drawn on every line ("dithering", Vali &
Bäckström 2023/2025), every sample in the batch is assigned to its nearest such
point, and the MSE between the samples and their points is minimised with Adam.
Gradients reach both corner points of a line through the interpolation weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = [
    "EpochLog",
    "dithered_mse_grad",
    "dithered_points",
    "nearest_rows",
    "noise_substitution",
    "stage_lr",
    "train_stage",
]


@dataclass
class EpochLog:
    """What one epoch of one stage measured."""

    bits: int
    epoch: int
    loss: float  # mean MSE over the epoch's batches (per feature)
    perplexity: float  # exp(entropy) of the line usage; at most n_lines
    lr: float  # learning rate at the start of the epoch
    usage: list[int] = field(default_factory=list)  # samples assigned to each line

    def as_dict(self) -> dict:
        return {
            "bits": self.bits,
            "epoch": self.epoch,
            "loss": self.loss,
            "perplexity": self.perplexity,
            "lr": self.lr,
            "usage": list(self.usage),
        }


def dithered_points(codebook: Tensor, r: Tensor) -> Tensor:
    """One point per line at fraction ``r``: ``(1 - r_j) c_j + r_j c_{j+1}``.

    codebook: (k, d); r: (k - 1,) in [0, 1) → (k - 1, d). Differentiable in ``codebook``.
    """
    return torch.lerp(codebook[:-1], codebook[1:], r.unsqueeze(1))


def nearest_rows(x: Tensor, points: Tensor) -> Tensor:
    """Index of the nearest row of ``points`` for every row of ``x``.

    x: (n, d); points: (m, d) → (n,) long. ``|x|²`` is constant per row, so the
    argmin of ``|p|² - 2 x·p`` is one matrix product, with no (n, d, m) tensor.
    Both are shifted by the points' mean first, so the terms do not cancel in
    float32 when the data sit far from the origin.
    """
    shift = points.mean(0)  # (d,)
    p = points - shift  # (m, d)
    pp = (p * p).sum(1)  # (m,)
    return torch.addmm(pp, x.to(p.dtype) - shift, p.T, alpha=-2.0).argmin(1)


def noise_substitution(x: Tensor, q: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """NSVQ: replace quantization by noise of the same magnitude.

    Returns ``x + (|x - q| / |v|) v`` with ``v ~ N(0, I)`` per row (Vali & Bäckström,
    IEEE Access 2022). It has the quantization error's norm, is differentiable in
    ``x`` and, through ``|x - q|``, in the codebook, so SFVQ can sit inside a network
    without a straight-through estimator.

    x, q: (n, d) → (n, d).
    """
    if generator is not None and generator.device != x.device:
        raise ValueError(
            f"generator is on {generator.device} but x is on {x.device}: use a generator on x's device"
        )
    v = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    err = torch.linalg.vector_norm(x - q, dim=1, keepdim=True)  # (n, 1)
    vn = torch.linalg.vector_norm(v, dim=1, keepdim=True)
    return x + err / (vn + 1e-12) * v


def dithered_mse_grad(codebook: Tensor, x: Tensor, r: Tensor) -> tuple[tuple[Tensor, Tensor], Tensor]:
    """One dithered SFVQ step: loss, assignments and the loss's gradient.

    The loss is ``mean((p_{j(x)} - x)²)`` over the batch and features, with ``p`` the
    dithered points at fractions ``r`` and ``j(x)`` the nearest one. Its gradient is
    written out rather than traced by autograd (a third faster per step on a CPU):
    ``∂L/∂p_j = 2/(b·d) Σ_{x: j(x)=j} (p_j - x)``, and line ``j`` hands ``(1 - r_j)`` of
    it to ``c_j`` and ``r_j`` to ``c_{j+1}``. A test checks it against autograd.

    codebook: (k, d); x: (b, d); r: (k - 1,) → ((loss, j), grad (k, d)).
    """
    p = dithered_points(codebook, r)  # (k-1, d)
    j = nearest_rows(x, p)  # (b,)
    diff = p[j] - x  # (b, d)
    loss = (diff * diff).mean()
    g_p = torch.zeros_like(p).index_add_(0, j, diff, alpha=2.0 / diff.numel())  # (k-1, d)
    grad = torch.empty_like(codebook)
    torch.mul(g_p, (1.0 - r).unsqueeze(1), out=grad[:-1])
    grad[-1].zero_()
    grad[1:].addcmul_(g_p, r.unsqueeze(1))
    return (loss, j), grad


def stage_lr(lr: float, step: int, total_steps: int) -> float:
    """The step schedule of a stage: ``lr``, halved at 60 % and again at 80 % of it.

    Counted in steps, so a 1-epoch stage is annealed too. For a number of epochs that
    is a multiple of 5 this is the reference code's per-epoch ``MultiStepLR`` exactly;
    with 1 epoch, that code's milestones both fall on epoch 0 and its whole stage runs
    at ``lr / 4``.
    """
    return lr * 0.5 ** ((step >= 0.6 * total_steps) + (step >= 0.8 * total_steps))


# Dithering draws are made in blocks of about this many numbers (one host-to-device
# copy per block rather than per step on a GPU).
_DITHER_BLOCK = 1 << 20


def train_stage(
    codebook: Tensor,
    X,
    *,
    bits: int,
    n_epochs: int,
    batch_size: int,
    lr: float,
    shuffle: bool,
    generator: torch.Generator,
    on_step: Callable[[Tensor], None] | None = None,
    on_epoch: Callable[[dict, EpochLog], None] | None = None,
    resume: dict | None = None,
) -> tuple[Tensor, list[EpochLog]]:
    """Train one bitrate stage and return the trained corner points.

    Parameters
    ----------
    codebook : tensor, shape (k, d)
        The stage's starting corner points, on the training device.
    X : tensor or row accessor, shape (n, d)
        Training data; ``X[idx]`` gives rows, moved to the codebook's device.
    bits : int
        The stage's bitrate, for the logs.
    n_epochs, batch_size, lr, shuffle
        As in `SFVQ`. A fresh Adam is made here, with the `stage_lr` schedule
        (halved at 60 % and 80 % of the stage's steps).
    generator : torch.Generator
        CPU generator for the shuffling order and the dithering draws.
    on_step : callable, optional
        Called after every step with the batch loss (for progress bars).
    on_epoch : callable, optional
        Called after every epoch with the stage state (what `resume` takes) and
        the epoch's log.
    resume : dict, optional
        A stage state given to ``on_epoch`` earlier: training goes on from it.

    Returns
    -------
    codebook : tensor, shape (k, d), float32
    logs : list of EpochLog, one per epoch run by this call
    """
    device = codebook.device
    param = torch.nn.Parameter(codebook.detach().clone().float())
    opt = torch.optim.Adam([param], lr=lr, fused=device.type in ("cpu", "cuda"))
    first_epoch = 0
    if resume is not None:
        with torch.no_grad():
            param.copy_(resume["codebook"].to(device))
        opt.load_state_dict(resume["optimizer"])
        first_epoch = resume["epoch"]
    n, n_lines = len(X), len(param) - 1
    n_steps = -(-n // batch_size)
    logs = []
    total_steps = n_epochs * n_steps
    block = max(1, _DITHER_BLOCK // n_lines)
    for epoch in range(first_epoch, n_epochs):
        order = torch.randperm(n, generator=generator) if shuffle else None
        usage = torch.zeros(n_lines, dtype=torch.long, device=device)
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        lr_start = stage_lr(lr, epoch * n_steps, total_steps)
        for step in range(n_steps):
            if step % block == 0:
                rs = torch.rand(min(block, n_steps - step), n_lines, generator=generator).to(device)
            lr_now = stage_lr(lr, epoch * n_steps + step, total_steps)
            if opt.param_groups[0]["lr"] != lr_now:
                opt.param_groups[0]["lr"] = lr_now
            a = step * batch_size
            rows = order[a : a + batch_size] if order is not None else slice(a, a + batch_size)
            x = X[rows].to(device=device, dtype=torch.float32, non_blocking=True)  # (b, d)
            r = rs[step % block]  # (k-1,)
            with torch.no_grad():
                (loss, j), param.grad = dithered_mse_grad(param.detach(), x, r)
            opt.step()
            usage += torch.bincount(j, minlength=n_lines)
            loss_sum += loss
            if on_step is not None:
                on_step(loss)
        prob = usage.double() / usage.sum()
        entropy = -(prob * torch.log(prob.clamp_min(1e-300))).sum()
        log = EpochLog(
            bits=bits,
            epoch=epoch,
            loss=float(loss_sum) / n_steps,
            perplexity=float(torch.exp(entropy)),
            lr=lr_start,
            usage=usage.cpu().tolist(),
        )
        logs.append(log)
        if on_epoch is not None:
            state = {
                "epoch": epoch + 1,
                "codebook": param.detach().cpu().clone(),
                "optimizer": _cpu_state(opt.state_dict()),
            }
            on_epoch(state, log)
    return param.detach(), logs


def _cpu_state(state):
    if isinstance(state, Tensor):
        return state.detach().cpu().clone()
    if isinstance(state, dict):
        return {k: _cpu_state(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cpu_state(v) for v in state)
    return state
