"""The quantitative verdict: SFVQ's directions against GANSpace, SeFa, random ones and
a supervised bound, measured on the known factors of our shapes GANs.

For every seed (new latent samples and new fits; the GAN stays fixed), every method
gives K directions (its own ranking; the first 16 of 32 are its top 16):

- ``sfvq``: lines of the curves at 2 … ``bits`` bits, chosen *without labels*: among
  the lines that hold at least a median share of samples, those whose edit changes
  the decoded images most (a line's length in W does not say whether the image
  changes), skipping a line within 25° of one already chosen;
- ``ganspace``: top principal components of the latents;
- ``sefa``: top eigenvectors of the style-affine weights;
- ``random``: random unit directions (the floor);
- ``supervised``: one direction per factor, fitted on latents with the probe's
  reading of their images (InterFaceGAN-style: a linear SVM normal for the shape, a
  ridge-regression direction for the others): the bound, with K = the factors.

Every direction is applied at ±σ (half the samples each way) in units of the
latents' standard deviation along it, on all layers and on its suggested layer range
(measured without labels, `directions.suggest_layers`; StyleGAN only). The probe reads
the images before and after; `sfvq_lib.disentanglement` turns that into the measures.
The panoptic part fits SFVQ and k-means at every bitrate and measures the normalized
mutual information between their index and each factor (and the same adjusted for
chance, which the coarse-to-fine reading uses).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.linear_model import Ridge
from sklearn.svm import LinearSVC
from tqdm import tqdm

from . import __version__, curve
from . import disentanglement as dis
from .augmentation import mean_ci
from .baselines import GANSpace, KMeansVQ, SeFa, _unit_rows, random_directions
from .data import FACTORS, SHAPES, ShapesDataset
from .directions import direction_scale, layer_effect, pick_lines, suggest_layers
from .io import atomic_write_text
from .sfvq import SFVQ

__all__ = [
    "METHODS",
    "BenchmarkConfig",
    "CLAIMS",
    "RULES",
    "check_shapes_gan",
    "default_view",
    "emergence_records",
    "factor_image_change",
    "format_ci",
    "matched_share_records",
    "run_benchmark",
    "summary",
    "verdicts",
]

METHODS = ("sfvq", "ganspace", "sefa", "random", "supervised")
METRICS = ("disentanglement", "completeness", "coverage", "fidelity")


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig:
    """What one benchmark run measures (defaults: ≈ 15–20 min per GAN on 2 CPU cores)."""

    n_samples: int = 500  # sampled latents every direction is applied to
    k: tuple[int, ...] = (16, 32)  # directions per method (each a prefix of the longest)
    sigma: float = 2.0  # edit size, in units of the latents' std along the direction
    seeds: tuple[int, ...] = (0, 1, 2)
    bits: int = 8  # the curves and k-means go from 2 to this many bits
    n_fit: int = 10000  # latents the curve, k-means and PCA are fitted on
    n_epochs: int = 2  # SFVQ epochs per stage
    n_labeled: int = 2000  # latents read by the probe: supervised fits and the panoptic NMI
    n_layer: int = 8  # samples that measure a direction's effect per layer
    n_score: int = 16  # samples that score a curve line's image change
    truncation_psi: float = 1.0

    @classmethod
    def quick(cls, **overrides) -> BenchmarkConfig:
        """Small settings for CI: every code path, seconds instead of minutes."""
        small = dict(
            k=(4, 8), n_samples=48, bits=4, n_fit=600, n_epochs=1, n_labeled=200, n_layer=4, n_score=4
        )
        return cls(**{**small, **overrides})

    def __post_init__(self):
        for name in ("n_samples", "bits", "n_fit", "n_epochs", "n_labeled", "n_layer", "n_score"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not self.k or any(not isinstance(k, int) or k < 1 for k in self.k):
            raise ValueError(f"k must be positive ints, got {self.k!r}")
        if len(self.seeds) < 2:
            raise ValueError(f"confidence intervals need at least 2 seeds, got {self.seeds!r}")
        if self.bits < 2 or self.n_fit < 2**self.bits:
            raise ValueError(
                f"bits={self.bits} needs 2 <= bits and n_fit >= {2**self.bits} (n_fit={self.n_fit})"
            )
        if not self.sigma > 0:
            raise ValueError(f"sigma must be positive, got {self.sigma!r}")
        if self.n_samples < 2 or self.n_labeled < 2 * len(SHAPES):
            raise ValueError("n_samples and n_labeled are too small to measure anything")


def _seed(seed: int, stream: int) -> int:
    return int(np.random.SeedSequence([seed, stream]).generate_state(1)[0] % (2**31))


def factor_image_change(resolution: int = 32, n: int = 500, seed: int = 0) -> dict[str, float]:
    """Mean |pixel change| when one factor alone is redrawn in the renderer: how much
    of the image each factor decides (large = a coarse factor, small = a fine one)."""
    ds = ShapesDataset(resolution)
    base = ds.sample_factors(n, seed=[seed, 0])
    other = ds.sample_factors(n, seed=[seed, 1])
    images = ds.render(base)
    return {
        f.name: float(np.abs(ds.render({**base, f.name: other[f.name]}) - images).mean()) for f in FACTORS
    }


class _Scene:
    """A generator, its latent space and the probe: images and readings of latents."""

    def __init__(self, g, probe, truncation_psi: float):
        from .probe import classes_are_shapes, read_factors

        self.g, self.probe, self.psi, self._read = g, probe, truncation_psi, read_factors
        self.space = g.default_space
        # the class goes in beside the latent (BigGAN); a StyleGAN's w holds it, so there the
        # shape is one of the factors of the latent space
        self.conditional = self.space == "z" and classes_are_shapes(g)
        self.factors = [f.name for f in FACTORS if not (self.conditional and f.name == "shape")]
        self.modes = ("all", "layers") if g.num_ws else ("all",)

    def classes(self, n: int, seed: int):
        return np.random.default_rng(seed).integers(len(SHAPES), size=n) if self.conditional else None

    def sample(self, n: int, seed: int) -> np.ndarray:
        return self.g.sample(n, space=self.space, truncation_psi=self.psi, seed=seed)

    def images(self, latents, classes) -> np.ndarray:
        if self.space == "z":
            return self.g.synthesize(latents, space="z", truncation_psi=self.psi, class_=classes)
        return self.g.synthesize(latents, space="w")

    def read(self, latents, classes) -> dict:
        return self._read(self.probe, np.clip(self.images(latents, classes), -1, 1))

    def edit(self, latents, direction, layers, step) -> np.ndarray:
        if self.space == "z":
            return self.g.edit(latents, direction, sigma=step)
        return self.g.edit(latents, direction, layers=layers, sigma=step)


def _sfvq_lines(scene, q, X, W, classes, cfg, k) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The ``k`` used curve lines (over all bitrates) whose edit changes the images
    most, at least 25° apart where there are enough; returns (directions, [(bits, line), ...])."""
    cands, names = [], []
    for b in range(2, cfg.bits + 1):
        cb = q.codebooks_[b]
        lines = pick_lines(cb, q.transform(X, bits=b), len(cb) - 1)
        cands.append(curve.line_directions(cb)[lines])
        names += [(b, int(i)) for i in lines]
    D = np.concatenate(cands).astype(np.float32)
    if len(D) < k:
        raise ValueError(
            f"the curves at 2…{cfg.bits} bits have only {len(D)} used lines, fewer than k={k}: "
            "raise bits or lower k"
        )
    base = scene.images(W, classes)
    change = np.empty(len(D))
    per_call = max(1, 256 // len(W))  # candidates per synthesis call: full batches
    for a in range(0, len(D), per_call):
        block = D[a : a + per_call]
        edited = [scene.edit(W, d, None, cfg.sigma * direction_scale(X, d)) for d in block]
        cls = None if classes is None else np.tile(classes, len(block))
        images = scene.images(np.concatenate(edited), cls).reshape(len(block), *base.shape)
        change[a : a + len(block)] = np.abs(images - base).reshape(len(block), -1).mean(1)
    order = [int(j) for j in np.argsort(-change, kind="stable")]
    chosen: list[int] = []
    for j in order:
        if len(chosen) < k and all(abs(float(D[j] @ D[i])) < np.cos(np.radians(25)) for i in chosen):
            chosen.append(j)
    chosen += [j for j in order if j not in chosen][: k - len(chosen)]  # too few far apart: the rest
    return D[chosen], [names[j] for j in chosen]


def _supervised(X, reading, factors, seed) -> np.ndarray:
    """One unit direction per factor from labelled latents (see the module docstring)."""
    kinds = dis.factor_kinds(factors)
    out = []
    for name in factors:
        y = np.asarray(reading[name])
        if np.ptp(y) == 0:  # the generator never varies it: no direction (edits do nothing)
            d = np.zeros(X.shape[1])
        elif kinds[name] == "categorical":
            svm = LinearSVC(C=1.0, random_state=seed).fit(X, y)
            binary = len(svm.classes_) == 2  # one normal, for the second class
            normals, classes = (svm.coef_, svm.classes_) if not binary else (svm.coef_[:1], svm.classes_[1:])
            # the class the SVM separates best from the rest
            acc = [
                np.mean((X @ n + b > 0) == (y == c))
                for n, b, c in zip(normals, svm.intercept_, classes, strict=True)
            ]
            d = normals[int(np.argmax(acc))]
        elif kinds[name] == "circular":
            targets = (np.cos(2 * np.pi * y), np.sin(2 * np.pi * y))
            fits = [Ridge(alpha=1.0).fit(X, t) for t in targets]
            d = fits[int(np.argmax([m.score(X, t) for m, t in zip(fits, targets, strict=True)]))].coef_
        else:
            d = Ridge(alpha=1.0).fit(X, y).coef_
        out.append(np.asarray(d, dtype=np.float64).reshape(-1))
    return _unit_rows(np.array(out))


def _frechet(features, real_features, max_rows: int = 2000, seed: int = 0) -> float:
    from .probe import frechet_distance

    if len(features) > max_rows:
        features = features[np.random.default_rng(seed).choice(len(features), max_rows, replace=False)]
    return frechet_distance(features, real_features)


def _measure(scene, D, steps, W, classes, base, units, mode, cfg) -> tuple[np.ndarray, np.ndarray, list]:
    """Effect matrix (K, F), the probe features of all edited images and the layer
    ranges used, for directions ``D`` applied at ``±steps`` in ``mode``."""
    sign = np.where(np.arange(len(W)) % 2 == 0, 1.0, -1.0).astype(np.float32)
    rows, feats, ranges = [], [], []
    for d, step in zip(D, steps, strict=True):
        layers = None
        if mode == "layers":
            layers = suggest_layers(layer_effect(scene.g, W[: cfg.n_layer], d, step))
        ranges.append(layers)
        edited = np.concatenate(
            [scene.edit(W[sign > 0], d, layers, step), scene.edit(W[sign < 0], d, layers, -step)]
        )
        order = np.concatenate([np.flatnonzero(sign > 0), np.flatnonzero(sign < 0)])
        cls = None if classes is None else classes[order]
        after = scene.read(edited, cls)
        before = {k: np.asarray(v)[order] for k, v in base.items()}
        rows.append(dis.effect_row(before, after, units))
        feats.append(after["features"])
    return np.array(rows), np.concatenate(feats), ranges


def _scores(E: np.ndarray, factors, features, real_features, seed: int) -> dict[str, float]:
    """The summary measures, then per factor its completeness and the share of its
    matched direction's effect (``completeness.x``, ``matched_share.x``)."""
    cov = dis.coverage(E)
    per_factor, total = dis.completeness(E)
    out = {
        "disentanglement": dis.disentanglement(E)[1],
        "completeness": total,
        "coverage": float(cov["covered"]),
        "fidelity": _frechet(features, real_features, seed=seed),
    }
    for f, c, share in zip(factors, per_factor, cov["share"], strict=True):
        out[f"completeness.{f}"], out[f"matched_share.{f}"] = float(c), float(share)
    return out


def _run_seed(scene, cfg: BenchmarkConfig, seed: int, progress: bool) -> dict:
    """Everything measured with one seed (see `run_benchmark` for the layout)."""
    from .probe import read_factors

    ds = ShapesDataset(scene.probe.resolution)
    X = scene.sample(cfg.n_fit, _seed(seed, 1))
    W = scene.sample(cfg.n_samples, _seed(seed, 2))
    W_cls = scene.classes(cfg.n_samples, _seed(seed, 3))
    L = scene.sample(cfg.n_labeled, _seed(seed, 4))
    L_cls = scene.classes(cfg.n_labeled, _seed(seed, 5))
    n_real = max(cfg.n_samples, 500)
    real_a = read_factors(scene.probe, ds.sample(n_real, seed=[seed, 6])[0])
    real_b = read_factors(scene.probe, ds.sample(n_real, seed=[seed, 7])[0])
    units = dis.redraw_units(real_a, real_b, scene.factors)
    base = scene.read(W, W_cls)
    labeled = scene.read(L, L_cls)
    k_max = max(cfg.k)

    q = SFVQ(bits=cfg.bits, n_epochs=cfg.n_epochs, random_state=seed, progress=False).fit(X)
    sfvq_D, sfvq_lines = _sfvq_lines(
        scene, q, X, W[: cfg.n_score], None if W_cls is None else W_cls[: cfg.n_score], cfg, k_max
    )
    found = {
        "sfvq": sfvq_D,
        "ganspace": GANSpace(n_components=k_max, random_state=seed).fit(X).directions(),
        "sefa": SeFa(n_components=k_max).fit(scene.g.style_affine_weights()).directions(),
        "random": random_directions(k_max, X.shape[1], random_state=seed),
        "supervised": _supervised(L, labeled, scene.factors, seed),
    }
    out = {"methods": {}, "effects": {}, "layers": {}, "sfvq_lines": sfvq_lines}
    jobs = [(m, mode) for m in METHODS for mode in scene.modes]
    for method, mode in tqdm(jobs, desc=f"seed {seed}", disable=not progress, leave=False):
        D = found[method]
        steps = np.array([cfg.sigma * direction_scale(X, d) if d.any() else 0.0 for d in D])
        E, feats, ranges = _measure(scene, D, steps, W, W_cls, base, units, mode, cfg)
        out["effects"].setdefault(method, {})[mode] = E.tolist()
        out["layers"].setdefault(method, {})[mode] = [None if r is None else list(r) for r in ranges]
        ks = [len(D)] if method == "supervised" else cfg.k  # every other method has max(k)
        for k in ks:
            n_edited = k * len(W)
            for metric, value in _scores(
                E[:k], scene.factors, feats[:n_edited], real_a["features"], seed
            ).items():
                out["methods"].setdefault(method, {})[f"k{k}.{mode}.{metric}"] = value

    out["nmi"], out["ami"] = {"sfvq": {}, "kmeans": {}}, {"sfvq": {}, "kmeans": {}}
    for b in range(2, cfg.bits + 1):
        km = KMeansVQ(bits=b, random_state=seed).fit(X)
        for name, index in (("sfvq", q.predict(L, bits=b)), ("kmeans", km.predict(L))):
            out["nmi"][name][b] = dis.index_nmi(index, labeled, scene.factors)
            out["ami"][name][b] = dis.index_nmi(index, labeled, scene.factors, adjusted=True)
    out["reference"] = {
        "frechet_unedited": _frechet(base["features"], real_a["features"]),
        "frechet_real_floor": _frechet(real_b["features"], real_a["features"]),
    }
    return out


def _emergence(mi_by_bits: dict, factors) -> dict[str, int]:
    """Per factor, the first bitrate where its (adjusted) mutual information with the
    index reaches half of its highest."""
    bits = sorted(mi_by_bits, key=int)
    out = {}
    for f in factors:
        v = np.array([mi_by_bits[b][f] for b in bits])
        out[f] = int(bits[int(np.argmax(v >= 0.5 * v.max()))] if v.max() > 0 else bits[-1])
    return out


def _coarse_to_fine(mi_by_bits: dict, weight: dict) -> float:
    """Spearman correlation between a factor's emergence bitrate and how much of the
    image it decides: negative = coarse factors appear first (the paper's claim);
    0 when every factor appears at the same bitrate."""
    em = _emergence(mi_by_bits, list(weight))
    if len(set(em.values())) < 2:  # every factor appears at once: no order at all
        return 0.0
    rho = stats.spearmanr([em[f] for f in weight], [weight[f] for f in weight]).statistic
    return float(rho) if np.isfinite(rho) else 0.0


def _cache_key(spec: str, cfg: BenchmarkConfig, seed: int) -> str:
    from .study import inputs_digest

    fields = {**dataclasses.asdict(cfg), "seeds": None}
    blob = json.dumps([spec, fields, seed, inputs_digest(spec)], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def check_shapes_gan(spec: str, g, probe=None) -> None:
    """Raise ``ValueError`` unless ``g`` is a generator of our shapes dataset that the
    probe can read (the benchmark measures known factors)."""
    if not spec.startswith("builtin:"):
        raise ValueError(
            f"the benchmark measures the known factors of our shapes dataset; {spec} is not one of our "
            "shapes GANs (builtin:NAME, e.g. builtin:shapes-stylegan)"
        )
    if probe is not None and g.img_resolution != probe.resolution:
        raise ValueError(f"{spec} makes {g.img_resolution}-px images; the probe reads {probe.resolution}-px")


def run_benchmark(
    g, probe, spec: str, config: BenchmarkConfig | None = None, cache_dir=None, progress: bool = True
) -> dict:
    """Measure every method on generator ``g`` (an adapter of one of our shapes GANs)
    with the factor probe; returns the JSON-ready result.

    Layout: ``methods`` → {method → {"k16.all.disentanglement": [per-seed values], …}}
    (metrics ``disentanglement``, ``completeness``, ``coverage``, ``fidelity``, and
    per factor ``completeness.F`` and ``matched_share.F``; modes ``all`` and, for
    StyleGAN, ``layers``); ``nmi_by_bits`` and ``ami_by_bits`` (the same adjusted for
    chance) → {"sfvq"|"kmeans" → {factor → {bits → [per-seed values]}}};
    ``coarse_to_fine`` → {"sfvq"|"kmeans" → [per-seed Spearman ρ]}; ``effects`` →
    {method → {mode → [per-seed K × F]}}; ``reference`` (unedited and real-floor
    Fréchet per seed), ``factors``, ``factor_image_change``, ``sfvq_lines``, ``layers``
    and ``config``.

    ``cache_dir``: every finished seed is saved there and reused by the same call
    later (keyed by the settings, the library source, the generator's and the probe's
    files), so an interrupted run loses at most the seed in progress.
    """
    cfg = config or BenchmarkConfig()
    check_shapes_gan(spec, g, probe)
    scene = _Scene(g, probe, cfg.truncation_psi)
    weight = factor_image_change(probe.resolution)
    weight = {f: weight[f] for f in scene.factors}
    per_seed = []
    for seed in tqdm(cfg.seeds, desc="benchmark seeds", disable=not progress):
        path = None
        if cache_dir is not None:
            path = Path(cache_dir) / f"seed{seed}-{_cache_key(spec, cfg, seed)}.json"
            if path.exists():
                per_seed.append(json.loads(path.read_text()))
                continue
        result = _run_seed(scene, cfg, seed, progress)
        result = json.loads(json.dumps(result))  # the same types as a cached seed (str keys)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(json.dumps(result), path)
        per_seed.append(result)

    methods: dict = {}
    for r in per_seed:
        for m, metrics in r["methods"].items():
            for key, value in metrics.items():
                methods.setdefault(m, {}).setdefault(key, []).append(value)

    def by_bits(key):
        return {
            name: {
                f: {b: [r[key][name][b][f] for r in per_seed] for b in per_seed[0][key][name]}
                for f in scene.factors
            }
            for name in ("sfvq", "kmeans")
        }

    return {
        "gan": spec,
        "version": __version__,
        "config": dataclasses.asdict(cfg),
        "factors": scene.factors,
        "modes": list(scene.modes),
        "methods": methods,
        "nmi_by_bits": by_bits("nmi"),
        "ami_by_bits": by_bits("ami"),
        "coarse_to_fine": {
            name: [_coarse_to_fine(r["ami"][name], weight) for r in per_seed] for name in ("sfvq", "kmeans")
        },
        "factor_image_change": weight,
        "effects": {
            m: {mode: [r["effects"][m][mode] for r in per_seed] for mode in scene.modes} for m in METHODS
        },
        "layers": {
            m: {mode: [r["layers"][m][mode] for r in per_seed] for mode in scene.modes} for m in METHODS
        },
        "sfvq_lines": [r["sfvq_lines"] for r in per_seed],
        "reference": {key: [r["reference"][key] for r in per_seed] for key in per_seed[0]["reference"]},
    }


def _ci(values) -> tuple[float, float]:
    m, h = mean_ci(values)
    return m, (0.0 if not np.isfinite(h) else h)


def format_ci(values, digits: int = 2) -> str:
    """``mean ± 95 % interval half-width`` of per-seed values."""
    m, h = _ci(values)
    return f"{m:.{digits}f} ± {h:.{digits}f}"


def default_view(result: dict) -> tuple[int, str]:
    """The K and mode the verdict is read at: the smallest K, on the suggested layer
    ranges where the generator has layers (as the paper edits)."""
    return min(result["config"]["k"]), "layers" if "layers" in result["modes"] else "all"


def _values(result, method, k, mode, metric) -> list[float]:
    if method == "supervised":
        k = len(result["factors"])
    return result["methods"][method][f"k{k}.{mode}.{metric}"]


def summary(result: dict, k: int, mode: str) -> list[dict]:
    """One record per method: every metric as "mean ± 95 % CI half-width" over seeds."""
    rows = []
    for method in METHODS:
        kk = len(result["factors"]) if method == "supervised" else k
        row = {"method": method, "K": kk}
        for metric in METRICS:
            row[metric] = format_ci(
                _values(result, method, k, mode, metric), 1 if metric == "fidelity" else 2
            )
        rows.append(row)
    return rows


CLAIMS = {
    "one_factor": "A curve line is an interpretable direction: it changes one factor rather than many.",
    "coverage": "The curve's lines find the generative factors: many factors get a direction of their own.",
    "coarse_to_fine": "Coarse to fine: factors that decide much of the image appear at low bitrates, "
    "fine ones later.",
    "fidelity": "Edits along curve lines stay realistic.",
    "map": "The curve is a map of the latent space: its index tells the factors as well as k-means' does.",
}
RULES = {
    "one_factor": "holds: SFVQ's disentanglement above random's (95 % intervals apart) and at least the "
    "best of GANSpace and SeFa; partly: above random only",
    "coverage": "holds: SFVQ covers more factors than random and at least as many as the best of "
    "GANSpace and SeFa; partly: more than random only",
    "coarse_to_fine": "holds: ρ < 0 with its 95 % interval below 0; partly: mean ρ < 0",
    "fidelity": "holds: SFVQ's edited images at most as far from real renders as GANSpace's and "
    "SeFa's; partly: closer than one of them",
    "map": "holds: SFVQ's mean adjusted mutual information ≥ 0.9 × k-means'; partly: ≥ 0.7 ×; "
    "neither when k-means' is below 0.01 (no factor information to compare)",
}


def verdicts(result: dict, k: int | None = None, mode: str | None = None) -> list[dict]:
    """The paper's claims, each judged on the numbers by the rule stated with it
    (`RULES`). Returns records ``{"claim", "verdict" ("holds" | "partly" |
    "does not hold"), "evidence", "rule"}`` in the order of `CLAIMS`.
    """
    dk, dmode = default_view(result)
    k, mode = k or dk, mode or dmode

    def vals(method, metric):
        return _values(result, method, k, mode, metric)

    def mean(method, metric):
        return _ci(vals(method, metric))[0]

    def listing(methods, metric, digits=2):
        return ", ".join(f"{m} {format_ci(vals(m, metric), digits)}" for m in methods)

    judged = {}
    s, r = _ci(vals("sfvq", "disentanglement")), _ci(vals("random", "disentanglement"))
    above = s[0] - s[1] > r[0] + r[1]
    best = max(("ganspace", "sefa"), key=lambda m: mean(m, "disentanglement"))
    judged["one_factor"] = (
        above and s[0] >= mean(best, "disentanglement"),
        above,
        "disentanglement: " + listing(METHODS, "disentanglement"),
    )
    cov = {m: mean(m, "coverage") for m in METHODS}
    judged["coverage"] = (
        cov["sfvq"] > cov["random"] and cov["sfvq"] >= max(cov["ganspace"], cov["sefa"]),
        cov["sfvq"] > cov["random"],
        f"factors covered (of {len(result['factors'])}): " + listing(METHODS, "coverage", 1),
    )
    rho = _ci(result["coarse_to_fine"]["sfvq"])
    judged["coarse_to_fine"] = (
        rho[0] + rho[1] < 0,
        rho[0] < 0,
        "Spearman ρ between a factor's emergence bitrate and its share of the image: "
        f"SFVQ {format_ci(result['coarse_to_fine']['sfvq'])}, "
        f"k-means {format_ci(result['coarse_to_fine']['kmeans'])}",
    )
    fid = {m: mean(m, "fidelity") for m in ("sfvq", "ganspace", "sefa")}
    judged["fidelity"] = (
        fid["sfvq"] <= min(fid["ganspace"], fid["sefa"]),
        fid["sfvq"] <= max(fid["ganspace"], fid["sefa"]),
        "probe-feature Fréchet distance of edited images to real renders: "
        + listing(("sfvq", "ganspace", "sefa"), "fidelity", 1)
        + f" (unedited: {format_ci(result['reference']['frechet_unedited'], 1)})",
    )
    top = max(next(iter(result["ami_by_bits"]["sfvq"].values())), key=int)
    nmi = {
        name: float(np.mean([np.mean(result["ami_by_bits"][name][f][top]) for f in result["factors"]]))
        for name in ("sfvq", "kmeans")
    }
    ratio = nmi["sfvq"] / nmi["kmeans"] if nmi["kmeans"] > 0 else 0.0
    informative = nmi["kmeans"] >= 0.01  # below: a ratio of two noise levels
    judged["map"] = (
        informative and ratio >= 0.9,
        informative and ratio >= 0.7,
        f"mean adjusted mutual information of index and factor at {top} bits: SFVQ {nmi['sfvq']:.3f}, "
        f"k-means {nmi['kmeans']:.3f} (ratio {ratio:.2f})"
        + ("" if informative else "; neither index tells the factors"),
    )
    return [
        {
            "claim": CLAIMS[key],
            "verdict": "holds" if holds else "partly" if partly else "does not hold",
            "evidence": evidence,
            "rule": RULES[key],
        }
        for key, (holds, partly, evidence) in judged.items()
    ]


def emergence_records(result: dict) -> list[dict]:
    """Per factor, heaviest first: how much of the image it decides and the bitrate at
    which it emerges on the curve and in k-means, per seed (the coarse-to-fine table)."""
    nmi = result["ami_by_bits"]
    n_seeds = len(result["config"]["seeds"])
    rows = []
    for f in result["factors"]:
        row = {"factor": f, "weight (mean |Δpixel|)": result["factor_image_change"][f]}
        for name in ("sfvq", "kmeans"):
            by_bits = nmi[name][f]
            seeds = [_emergence({b: {f: v[i]} for b, v in by_bits.items()}, [f])[f] for i in range(n_seeds)]
            row[f"emerges at (bits), {name}"] = ", ".join(map(str, seeds))
        rows.append(row)
    return sorted(rows, key=lambda r: -r["weight (mean |Δpixel|)"])


def matched_share_records(result: dict, k: int, mode: str) -> list[dict]:
    """Per factor: the share of effect its matched direction puts on it, per method
    (mean over seeds; the coverage table)."""
    rows = []
    for f in result["factors"]:
        row = {"factor": f}
        for method in METHODS:
            row[method] = _ci(_values(result, method, k, mode, f"matched_share.{f}"))[0]
        rows.append(row)
    return rows
