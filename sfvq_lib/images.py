"""Image grids: many small images tiled into one picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["image_grid", "save_png"]


def image_grid(images: np.ndarray, columns: int, pad: int = 0, fill: int = 255) -> np.ndarray:
    """Tile NHWC uint8 images row by row, ``columns`` per row → (rows·h, columns·w, c).

    ``pad`` pixels of ``fill`` separate the images; missing cells stay ``fill``.
    """
    n, h, w, c = images.shape
    cols = max(1, min(columns, n))
    rows = -(-n // cols)
    grid = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, c), fill, np.uint8)
    for i, img in enumerate(images):
        r, q = divmod(i, cols)
        grid[r * (h + pad) : r * (h + pad) + h, q * (w + pad) : q * (w + pad) + w] = img
    return grid


def save_png(grid: np.ndarray, path) -> Path:
    """Write an (H, W, C) uint8 array as a PNG (grey for one channel)."""
    from PIL import Image

    path = Path(path)
    Image.fromarray(grid.squeeze(-1) if grid.shape[-1] == 1 else grid).save(path, format="PNG")
    return path
