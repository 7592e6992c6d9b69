"""Checks of user input that raise one clear message naming the argument and the fix."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch
from torch import Tensor

_FINITE_CHUNK = 1 << 16


class NumpyRows:
    """Row access to a numpy array (possibly memory-mapped) as float32 tensors.

    ``rows[idx]`` with an index tensor or a slice returns a CPU float32 tensor of
    just those rows, so a large or read-only array is never copied whole.
    """

    device = torch.device("cpu")

    def __init__(self, array: np.ndarray):
        self.array = array
        self.shape = array.shape

    def __len__(self) -> int:
        return len(self.array)

    def as_tensor(self):
        """A zero-copy tensor view of the array where torch can share its memory.

        Row gathers on a tensor are much faster than numpy fancy indexing plus a
        copy per batch. Read-only arrays (e.g. memory maps) are shared too: we only
        ever read them. Returns ``self`` for dtypes torch cannot share.
        """
        if self.array.dtype not in (np.float16, np.float32, np.float64):
            return self
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "The given NumPy array is not writable"
            return torch.from_numpy(self.array)

    def __getitem__(self, idx) -> Tensor:
        if isinstance(idx, Tensor):
            idx = idx.cpu().numpy()
        return torch.from_numpy(np.array(self.array[idx], dtype=np.float32))  # a writable copy


def check_int(value, name: str, minimum: int, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}{hint}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}{hint}")
    return int(value)


def check_device(device) -> torch.device:
    """A usable torch device: ``cpu`` or ``cuda[:index]`` on a machine that has it."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"device={device!r} is not a torch device ({e}); use 'cpu' or 'cuda'") from None
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r} is not supported: use 'cpu' or 'cuda[:index]'")
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device={device!r} but this machine has no usable CUDA GPU; use device 'cpu'")
        if dev.index is not None and dev.index >= count:
            raise ValueError(
                f"device={device!r} but this machine has {count} CUDA GPU(s): use cuda:0..cuda:{count - 1}"
            )
    return dev


def device_available(device) -> bool:
    try:
        check_device(device)
    except ValueError:
        return False
    return True


def check_matrix(X, name: str = "X", n_features: int | None = None):
    """Validate a 2-D finite numeric matrix without copying it.

    Returns
    -------
    rows : Tensor or NumpyRows
        Something indexable by rows that yields float tensors.
    """
    if isinstance(X, Tensor):
        arr = X.detach()
        if arr.is_complex() or not (arr.is_floating_point() or arr.dtype in _INT_DTYPES):
            raise TypeError(f"{name} must hold real numbers, got a tensor of dtype {arr.dtype}")
        if not arr.is_floating_point():
            arr = arr.float()
    else:
        try:
            arr = np.asarray(X)
        except Exception as e:  # ragged lists and the like
            raise TypeError(f"{name} must be a 2-D array of numbers ({e})") from None
        if arr.dtype.kind not in "fiu" or arr.dtype.kind == "b":
            raise TypeError(f"{name} must hold real numbers, got an array of dtype {arr.dtype}")
    if arr.ndim != 2:
        hint = " (X.reshape(-1, 1) for one feature, X.reshape(1, -1) for one sample)" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {tuple(arr.shape)}{hint}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: got shape {tuple(arr.shape)}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(
            f"{name} has {arr.shape[1]} features, but the curve was fitted on "
            f"{n_features}: pass data from the same latent space"
        )
    for a in range(0, arr.shape[0], _FINITE_CHUNK):
        block = arr[a : a + _FINITE_CHUNK]
        ok = torch.isfinite(block).all() if isinstance(block, Tensor) else np.isfinite(block).all()
        if not ok:
            rows = (
                block if isinstance(block, Tensor) else torch.from_numpy(np.asarray(block, dtype=np.float64))
            )
            bad = a + int(torch.nonzero(~torch.isfinite(rows).all(1))[0, 0])
            raise ValueError(f"{name} contains NaN or inf (first in row {bad}): remove or fix those rows")
    if isinstance(arr, Tensor):
        return arr
    return NumpyRows(arr)


_INT_DTYPES = {torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8}
