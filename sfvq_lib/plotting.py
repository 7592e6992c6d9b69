"""Figures for the book: every function returns a matplotlib ``Figure``.

Notebooks never call ``plt.savefig``: they show figures with MyST-NB's ``glue`` and,
where a file is wanted, call `save_figure`. One style for all figures
(`use_style`), seaborn's colour palette, no titles inside the figure when the book
gives a caption.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["image_grid_figure", "norm_histograms", "pca_spectra", "save_figure", "use_style"]


def use_style() -> None:
    """The book's figure style (call once per notebook)."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="deep")
    mpl.rcParams.update({"figure.dpi": 100, "savefig.dpi": 150, "figure.autolayout": True})


def _figure(width: float, height: float, ncols: int = 1):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width, height), squeeze=False)
    plt.close(fig)  # shown through glue, not by pyplot's inline display
    return fig, axes[0]


def image_grid_figure(images: np.ndarray, columns: int = 16, labels=None, width: float = 10.0):
    """NHWC uint8 images in a grid; ``labels`` (one per row) go on the left."""
    from .images import image_grid

    grid = image_grid(images, columns, pad=1)
    rows = -(-len(images) // max(1, min(columns, len(images))))
    fig, (ax,) = _figure(width, width * grid.shape[0] / grid.shape[1])
    ax.imshow(grid, interpolation="nearest")
    ax.set_xticks([])
    ax.grid(False)
    if labels is not None:
        h = images.shape[1] + 1
        ax.set_yticks([(r + 0.5) * h for r in range(rows)], labels=list(labels)[:rows])
    else:
        ax.set_yticks([])
    return fig


def norm_histograms(samples: dict, bins: int = 60):
    """Histograms of the distance of each sample to its set's mean, one panel per set.

    ``samples``: name → (n, d) array. Distances are divided by √d so spaces of other
    sizes compare.
    """
    fig, axes = _figure(4.0 * len(samples), 3.0, ncols=len(samples))
    for ax, (name, X) in zip(axes, samples.items(), strict=True):
        X = np.asarray(X, dtype=np.float64)
        r = np.linalg.norm(X - X.mean(0), axis=1) / np.sqrt(X.shape[1])
        ax.hist(r, bins=bins, color="C0", alpha=0.8)
        ax.set_xlabel(f"‖{name} − mean‖ / √{X.shape[1]}")
        ax.set_ylabel("samples")
    return fig


def pca_spectra(spectra: dict, max_components: int | None = None):
    """Cumulative explained variance against the number of principal components.

    ``spectra``: name → explained-variance ratios (descending), e.g.
    ``sklearn.decomposition.PCA().fit(X).explained_variance_ratio_``.
    """
    fig, (ax,) = _figure(6.0, 3.6)
    for i, (name, ratio) in enumerate(spectra.items()):
        ratio = np.asarray(ratio)[:max_components]
        ax.plot(np.arange(1, len(ratio) + 1), np.cumsum(ratio), color=f"C{i}", label=name)
    ax.axhline(0.9, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("principal components")
    ax.set_ylabel("cumulative explained variance")
    ax.set_ylim(0, 1.01)
    ax.legend()
    return fig


def save_figure(fig, name: str, folder) -> Path:
    """Write ``fig`` as ``folder/name.png`` (for use outside the book)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, bbox_inches="tight")
    return path
