"""Files we write: ``torch.save`` dicts read back with ``weights_only=True``.

Every file holds a ``kind`` and a ``format_version`` next to its payload, so a file of
another kind or version is refused with a message rather than misread. Writes go to a
temporary file in the same folder and are renamed into place (``os.replace``), so an
interrupted save never leaves a half-written file under the target name.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import torch

__all__ = ["atomic_save", "atomic_write_text", "load_checked"]


def _atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then rename it
    into place."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise FileNotFoundError(f"cannot save to {path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_save(obj: dict, path: str | os.PathLike) -> Path:
    """Write ``obj`` with ``torch.save`` to ``path`` atomically; return the path."""
    return _atomic_write(path, lambda f: torch.save(obj, f))


def atomic_write_text(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    return _atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def load_checked(
    path: str | os.PathLike, kind: str, format_version: int, fix: str = "write it again"
) -> dict:
    """Read a file written by `atomic_save` and check its kind and version.

    ``fix`` is what the error messages tell the user to do about a bad file.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is truncated, corrupt, not one of ours, of another kind, or of
        another format version. The message names the file and what to do.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a {kind} file")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Detected pickle protocol 4"
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a damaged or foreign file can fail in many ways
        raise ValueError(
            f"{path} is not a readable {kind} file (truncated, corrupt or not written by "
            f"sfvq_lib; {type(e).__name__}): {fix}"
        ) from None
    if not isinstance(obj, dict) or "format_version" not in obj or "kind" not in obj:
        raise ValueError(f"{path} is not a {kind} file written by sfvq_lib: {fix}")
    if obj["kind"] != kind:
        raise ValueError(f"{path} holds a {obj['kind']!r}, not a {kind!r}")
    if obj["format_version"] != format_version:
        raise ValueError(
            f"{path} is a {kind} file of format version {obj['format_version']}, this "
            f"sfvq_lib reads version {format_version}: {fix} with this version (or use "
            "the sfvq_lib version that wrote it)"
        )
    return obj
