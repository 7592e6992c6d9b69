"""Figures for the book: every function returns a matplotlib ``Figure``.

Notebooks never call ``plt.savefig``: they show figures with MyST-NB's ``glue`` and,
where a file is wanted, call `save_figure`. One style for all figures
(`use_style`), seaborn's colour palette, no titles inside the figure when the book
gives a caption.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "by_bits",
    "heatmap",
    "sweep_figure",
    "codebook_strips",
    "effect_heatmaps",
    "nmi_by_bits",
    "message_figure",
    "factors_along_curve",
    "index_histograms",
    "image_grid_figure",
    "line_usage",
    "norm_histograms",
    "pca_spectra",
    "save_figure",
    "stage_curves",
    "use_style",
]


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


def stage_curves(history: list[dict]):
    """SFVQ training per epoch, stages side by side: loss, and perplexity of the line
    usage against its ceiling (the number of lines)."""
    fig, (ax_loss, ax_ppl) = _figure(10.0, 3.4, ncols=2)
    x = np.arange(1, len(history) + 1)
    bits = np.array([h["bits"] for h in history])
    for i, b in enumerate(sorted(set(bits))):
        m = bits == b
        ax_loss.plot(
            x[m], [h["loss"] for h, k in zip(history, m, strict=True) if k], "o-", ms=3, color=f"C{i % 10}"
        )
        ax_ppl.plot(
            x[m],
            [h["perplexity"] for h, k in zip(history, m, strict=True) if k],
            "o-",
            ms=3,
            color=f"C{i % 10}",
            label=f"{b} bits",
        )
        ax_ppl.hlines(2**b - 1, x[m][0] - 0.4, x[m][-1] + 0.4, color=f"C{i % 10}", ls=":", lw=1)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch (all stages)")
    ax_loss.set_ylabel("dithered MSE")
    ax_ppl.set_yscale("log", base=2)
    ax_ppl.set_xlabel("epoch (all stages)")
    ax_ppl.set_ylabel("perplexity of line usage")
    ax_ppl.legend(fontsize="small", ncols=2)
    return fig


def line_usage(history: list[dict], columns: int = 4):
    """Per stage, the share of samples assigned to each line in its last epoch."""
    last = {}
    for h in history:
        last[h["bits"]] = h
    stages = sorted(last)
    rows = -(-len(stages) // columns)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.0 * rows), squeeze=False)
    plt.close(fig)
    for ax, b in zip(axes.flat, stages, strict=False):
        usage = np.asarray(last[b]["usage"], dtype=np.float64)
        ax.bar(np.arange(len(usage)), usage / usage.sum(), width=1.0, color="C0")
        ax.axhline(1 / len(usage), color="grey", lw=0.8, ls="--")
        ax.set_title(f"{b} bits", fontsize="small")
        ax.set_xticks([])
    for ax in axes.flat[len(stages) :]:
        ax.set_visible(False)
    fig.supxlabel("line (curve order)", fontsize="small")
    fig.supylabel("share of samples", fontsize="small")
    return fig


def by_bits(series: dict, ylabel: str, logy: bool = False):
    """One line per method over the bitrate: ``series`` name → {bits: value}."""
    fig, (ax,) = _figure(6.0, 3.6)
    for i, (name, values) in enumerate(series.items()):
        b = sorted(values)
        ax.plot(b, [values[k] for k in b], "o-", color=f"C{i}", label=name)
    ax.set_xlabel("bits (2^bits points)")
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if len(series) > 1:
        ax.legend()
    return fig


def codebook_strips(images_by_bits: dict, columns: int = 16, width: float = 10.0):
    """Decoded corner points in curve order, one block of rows per bitrate.

    ``images_by_bits``: bits → NHWC uint8 images of the ``2**bits`` corner points.
    Each row is labelled with its bitrate and the numbers (from 1) of its points.
    """
    blocks, labels = [], []
    for b, images in sorted(images_by_bits.items()):
        n = len(images)
        rows = -(-n // columns)
        pad = np.full((rows * columns - n, *images.shape[1:]), 255, np.uint8)
        blocks.append(np.concatenate([images, pad]))
        labels += [f"{b} bits  {r * columns + 1}–{min(n, (r + 1) * columns)}" for r in range(rows)]
    return image_grid_figure(np.concatenate(blocks), columns=columns, labels=labels, width=width)


def sweep_figure(images: np.ndarray, sigmas, row_labels=None, width: float = 7.0):
    """Rows of edits (one per sample), columns = σ; the σ = 0 column is framed.

    ``images``: (rows · len(sigmas), H, W, C) uint8, row-major.
    """
    from matplotlib.patches import Rectangle

    n_cols = len(sigmas)
    fig = image_grid_figure(images, columns=n_cols, labels=row_labels, width=width)
    ax = fig.axes[0]
    h, w = images.shape[1] + 1, images.shape[2] + 1
    rows = len(images) // n_cols
    if 0 in list(sigmas):
        c = list(sigmas).index(0)
        ax.add_patch(Rectangle((c * w - 1, -1), w, rows * h, fill=False, ec="C3", lw=2))
    ax.set_xticks([(c + 0.5) * w for c in range(n_cols)], labels=[f"σ = {s:+g}" for s in sigmas])
    return fig


def heatmap(matrix, row_labels, col_labels, cbar_label: str = "", fmt: str = ".2f"):
    """A labelled heat map (seaborn), e.g. lines × layers or directions × factors."""
    import seaborn as sns

    m = np.asarray(matrix, dtype=np.float64)
    fig, (ax,) = _figure(1.0 + 0.6 * m.shape[1], 0.8 + 0.4 * m.shape[0])
    sns.heatmap(
        m,
        ax=ax,
        annot=m.size <= 200,
        fmt=fmt,
        cmap="viridis",
        cbar_kws={"label": cbar_label},
        xticklabels=list(col_labels),
        yticklabels=list(row_labels),
    )
    ax.tick_params(axis="y", rotation=0)
    return fig


def effect_heatmaps(effects: dict, factors, vmax: float | None = None):
    """Side-by-side direction × factor heat maps, one per method (``effects``: name →
    (K, F) matrix), on one colour scale."""
    import seaborn as sns

    mats = {k: np.asarray(v, dtype=np.float64) for k, v in effects.items()}
    top = vmax or max(float(m.max()) for m in mats.values()) or 1.0
    rows = max(len(m) for m in mats.values())
    fig, axes = _figure(2.2 * len(mats) + 1.0, 1.2 + 0.28 * rows, ncols=len(mats))
    for i, (ax, (name, m)) in enumerate(zip(axes, mats.items(), strict=True)):
        last = i == len(mats) - 1
        sns.heatmap(
            m,
            ax=ax,
            vmin=0,
            vmax=top,
            cmap="viridis",
            cbar=last,
            cbar_kws={"label": "effect (1 = a redraw)"} if last else None,
            xticklabels=list(factors),
            yticklabels=[str(j + 1) for j in range(len(m))] if i == 0 else False,
        )
        ax.set_title(name)
        ax.tick_params(axis="x", rotation=90)
    axes[0].set_ylabel("direction (method's rank)")
    return fig


def nmi_by_bits(nmi: dict, factors, reference: dict | None = None, ylabel: str = "NMI(index, factor)"):
    """(Normalized) mutual information of index and factor over the bitrate: one line
    per factor (mean over seeds, band = min…max), solid for ``nmi`` (name → factor →
    {bits: [per seed]}), dashed for ``reference`` (the same, e.g. k-means)."""
    fig, (ax,) = _figure(6.8, 3.8)
    for style, series in (("-", nmi), ("--", reference or {})):
        for i, f in enumerate(factors):
            b = sorted(series[f], key=int)
            v = np.array([series[f][k] for k in b], dtype=np.float64)
            x = [int(k) for k in b]
            ax.plot(
                x,
                v.mean(1),
                style,
                marker="o" if style == "-" else None,
                color=f"C{i}",
                label=f if style == "-" else None,
            )
            if style == "-":
                ax.fill_between(x, v.min(1), v.max(1), color=f"C{i}", alpha=0.15, linewidth=0)
    ax.set_xlabel("bits (2^bits points)")
    ax.set_ylabel(ylabel)
    ax.legend(ncol=2, fontsize="small")
    return fig


def message_figure(text: str):
    """A small figure that only says ``text`` (where a measurement does not apply)."""
    fig, (ax,) = _figure(6.0, 1.0)
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return fig


def factors_along_curve(readings: dict, shapes=None):
    """The probe's reading of each corner point, against its index on the curve.

    ``readings``: `sfvq_lib.probe.read_factors` of the decoded corner points, in curve
    order. Top: shape probabilities (stacked); then hues (dots in their own colour),
    scale, rotation and position.
    """
    import matplotlib.pyplot as plt

    from .data import FACTORS, SHAPES, hsv_to_rgb

    shapes = shapes or SHAPES
    k = len(readings["shape_prob"])
    idx = np.arange(1, k + 1)
    names = [f.name for f in FACTORS[1:]]
    fig, axes = plt.subplots(1 + len(names), 1, figsize=(10, 1.2 * (1 + len(names)) + 0.6), sharex=True)
    plt.close(fig)
    axes[0].stackplot(
        idx, readings["shape_prob"].T, labels=shapes, colors=[f"C{i}" for i in range(len(shapes))]
    )
    axes[0].set_ylabel("shape", rotation=0, ha="right")
    axes[0].set_ylim(0, 1)
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    for ax, f in zip(axes[1:], FACTORS[1:], strict=True):
        v = readings[f.name]
        if f.kind == "circular":
            sv = (0.9, 0.9) if f.name == "obj_hue" else (0.45, 0.45)
            ax.scatter(idx, v, c=hsv_to_rgb(v, *sv), s=10)
        else:
            ax.plot(idx, v, ".", ms=4, color="C0")
        ax.set_ylim(f.low, f.high)
        ax.set_ylabel(f.name, rotation=0, ha="right")
    axes[-1].set_xlabel("corner point (curve order, from 1)")
    return fig


def index_histograms(indices: dict, columns: int = 4):
    """Histogram of the samples' curve indices, one panel per bitrate: ``bits`` → t."""
    import matplotlib.pyplot as plt

    rows = -(-len(indices) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.0 * rows), squeeze=False)
    plt.close(fig)
    for ax, (b, t) in zip(axes.flat, sorted(indices.items()), strict=False):
        ax.hist(np.asarray(t) + 1, bins=np.arange(1, 2**b + 1, max(1, 2**b // 64)), color="C0")
        ax.set_title(f"{b} bits", fontsize="small")
    for ax in axes.flat[len(indices) :]:
        ax.set_visible(False)
    fig.supxlabel("curve index (from 1)", fontsize="small")
    fig.supylabel("samples", fontsize="small")
    return fig


def save_figure(fig, name: str, folder) -> Path:
    """Write ``fig`` as ``folder/name.png`` (for use outside the book)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, bbox_inches="tight")
    return path
