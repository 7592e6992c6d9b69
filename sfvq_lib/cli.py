"""The ``sfvq`` command line.

    sfvq fit LATENTS.npy --bits B [--n-epochs E --batch-size S --seed N --device D] -o CURVE
    sfvq project CURVE LATENTS.npy -o INDEX.npy
    sfvq info CURVE
    sfvq sample --gan SPEC -n N --space z|w|w+ --truncation PSI [--class K] --seed S -o OUT.npy
    sfvq render --gan SPEC LATENTS.npy -o GRID.png
    sfvq train-gan --model stylegan --steps N --seed S --out DIR
    sfvq train-probe -o PROBE.pt;  sfvq probe-eval --gan SPEC --n 2000 --json
    sfvq benchmark [--gan SPEC] [--quick] --json OUT.json
    sfvq study [--gan SPEC ...] [--quick] [--out DIR]

A user mistake ends with one line ``sfvq: error: …`` and exit status 2, never a
traceback. ``sfvq fit`` keeps its training state in ``CURVE.partial`` while it runs,
so an interrupted fit resumes when the same command is run again.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.exceptions import NotFittedError

from ._validation import check_matrix

__all__ = ["main"]


def _load_latents(path: str, ndim=(2,)) -> np.ndarray:
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{p} is a folder: pass a .npy file of latent vectors")
    if not p.is_file():
        raise FileNotFoundError(f"no such latents file: {p}")
    try:
        X = np.load(p, mmap_mode="r", allow_pickle=False)
    except ValueError as e:
        raise ValueError(
            f"{p} is not a plain numeric .npy array ({e}); save latents with numpy.save(path, array)"
        ) from None
    except (OSError, EOFError) as e:
        raise ValueError(f"{p} is not a readable .npy file ({e}); save latents with numpy.save") from None
    if isinstance(X, np.lib.npyio.NpzFile):
        raise ValueError(f"{p} is an .npz archive; pass one array saved with numpy.save")
    if X.ndim == 3 and 3 in ndim:  # W+ codes
        check_matrix(X.reshape(len(X), -1), "LATENTS")
    else:
        check_matrix(X, "LATENTS")
    return X


def _check_out(path: str) -> Path:
    """Fail before any work if ``path`` cannot be written."""
    out = Path(path)
    if out.is_dir():
        raise ValueError(f"output {out} is a folder: give a file name, e.g. {out / 'out'}")
    if not out.parent.exists():
        raise FileNotFoundError(f"output folder {out.parent} does not exist: create it first")
    if not os.access(out.parent, os.W_OK):
        raise ValueError(f"output folder {out.parent} is not writable: choose another output path")
    return out


def _cmd_fit(args) -> int:
    from .sfvq import SFVQ

    out = _check_out(args.output)
    X = _load_latents(args.latents)
    partial = out.with_name(out.name + ".partial")
    q = SFVQ(
        bits=args.bits,
        n_epochs=args.n_epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        expansion_eps=args.expansion_eps,
        shuffle=not args.no_shuffle,
        device=args.device,
        random_state=args.seed,
        progress=not args.quiet,
        checkpoint=partial,
    )
    if partial.exists() and not args.quiet:
        print(f"resuming from {partial}", file=sys.stderr)
    q.fit(X)
    q.save(out)
    partial.unlink(missing_ok=True)
    if not args.quiet:
        print(f"wrote {out}: {2**q.bits} corner points in {q.n_features_in_}-D, MSE {-q.score(X):.6g}")
    return 0


def _cmd_project(args) -> int:
    from . import curve
    from ._validation import check_device
    from .sfvq import SFVQ

    out = _check_out(args.output)
    q = SFVQ.load(args.curve, device=args.device)
    X = _load_latents(args.latents)
    if X.shape[1] != q.n_features_in_:
        raise ValueError(
            f"LATENTS has {X.shape[1]} features, but the curve was fitted on {q.n_features_in_}: "
            "pass latents from the same space"
        )
    bits = q.bits if args.bits is None else args.bits
    if bits not in q.codebooks_:
        raise ValueError(
            f"--bits {bits} is not a fitted bitrate of {args.curve}; choose one of {sorted(q.codebooks_)}"
        )
    import torch

    codebook = torch.from_numpy(q.codebooks_[bits]).to(check_device(q.device))
    t, sq = curve.project(X, codebook, progress=not args.quiet)
    with open(out, "wb") as f:  # np.save(path) would append ".npy" to other names
        np.save(f, t)
    if not args.quiet:
        print(f"wrote {out}: {len(t)} curve indices in [0, {2**bits - 1}], MSE {sq.mean() / X.shape[1]:.6g}")
    return 0


def _cmd_study(args) -> int:
    from .gan import load_generator
    from .study import DEFAULT_GANS, build_book, run_study, write_toc

    gans = args.gan or list(DEFAULT_GANS)
    for spec in gans:  # fail before any notebook runs
        load_generator(spec, nvidia_repo=args.nvidia_repo)
    if args.nvidia_repo:
        os.environ["SFVQ_NVIDIA_REPO"] = str(Path(args.nvidia_repo).resolve())  # for the notebooks' kernels
    given = {
        "seed": args.seed,
        "device": args.device,
        "n_samples": args.n_samples,
        "bits": args.bits,
        "truncation_psi": args.truncation,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    executed = run_study(gans, out=args.out, quick=args.quick, progress=not args.quiet, **overrides)
    toc = write_toc(executed, args.out, gans)
    if args.no_book:
        print(f"executed {len(executed)} notebooks into {args.out}; book contents in {toc}", file=sys.stderr)
        return 0
    html = build_book(toc, args.out)
    print(f"the book is in {html}", file=sys.stderr)
    return 0


def _cmd_info(args) -> int:
    from .sfvq import SFVQ

    q = SFVQ.load(args.curve)
    print(f"{args.curve}: SFVQ curve, {q.n_features_in_} features, bits 2..{q.bits}")
    print(f"parameters: {q.get_params()}")
    last = {}
    for h in q.history_:
        last[h["bits"]] = h
    for b in sorted(last):
        h = last[b]
        print(f"  {b:2d} bits  {2**b:6d} corners  loss {h['loss']:.6g}  perplexity {h['perplexity']:.1f}")
    return 0


def _cmd_sample(args) -> int:
    from .gan import load_generator

    out = _check_out(args.output)
    g = load_generator(args.gan, device=args.device, nvidia_repo=args.nvidia_repo)
    space = args.space or g.default_space
    X = g.sample(args.n, space=space, truncation_psi=args.truncation, class_=args.class_, seed=args.seed)
    with open(out, "wb") as f:
        np.save(f, X)
    if not args.quiet:
        print(f"wrote {out}: {X.shape[0]} {space} latents of {g.name}, shape {X.shape}")
    return 0


def _cmd_render(args) -> int:
    from .gan import load_generator
    from .images import image_grid, save_png

    out = _check_out(args.output)
    g = load_generator(args.gan, device=args.device, nvidia_repo=args.nvidia_repo)
    X = _load_latents(args.latents, ndim=(2, 3))
    X = np.asarray(X[: args.max_images], dtype=np.float32)
    kwargs = {"truncation_psi": args.truncation}
    if args.class_ is not None or g.w_dim is None:  # a BigGAN needs the class with z
        kwargs["class_"] = args.class_
    images = g.to_uint8(g.synthesize(X, space=args.space or g.default_space, **kwargs))  # (n, H, W, C)
    save_png(image_grid(images, args.columns), out)
    n, cols = len(images), min(args.columns, len(images))
    rows = -(-n // cols)
    if not args.quiet:
        print(f"wrote {out}: {n} images in a {rows} x {cols} grid")
    return 0


def _cmd_train_gan(args) -> int:
    from .gan.train import TrainConfig, check_mapping_rate, export_generator, train_gan

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file: give a folder")
    recipe = {
        k: v for k, v in (("lr", args.lr), ("d_lr", args.d_lr), ("r1_gamma", args.r1_gamma)) if v is not None
    }
    for k, v in recipe.items():
        if not v > 0:
            raise ValueError(f"--{k.replace('_', '-')} must be > 0, got {v}")
    if args.keep_every < 0:
        raise ValueError(f"--keep-every must be >= 0 (0: no snapshots), got {args.keep_every}")
    if args.augment is not None:
        recipe["augment"] = args.augment
    numbers = (
        "shape_aux",
        "d_warmup",
        "mode_seeking",
        "warp_res",
        "warp_angle_init",
        "warp_spread",
        "factor_aux",
        "factor_reader",
        "reader_shape",
        "reader_from",
        "mapping_boost",
        "mapping_boost_from",
        "coord_res",
        "rgb_kernel",
        "lr_decay",
        "lr_decay_from",
        "colour_match",
        "colour_match_from",
        "pixel_d",
        "pixel_d_from",
        "pixel_d_size",
        "hue_turn_from",
    )
    for k in numbers:  # checked by TrainConfig
        if getattr(args, k) is not None:
            recipe[k] = getattr(args, k)
    flags = (
        "twin_aux",
        "conditional",
        "class_skip",
        "class_groups",
        "warp_image",
        "warp_uniform",
        "reader_fakes",
        "hue_turn",
    )
    recipe.update({k: True for k in flags if getattr(args, k)})
    mult = args.mapping_lr_mult
    if mult is not None:
        check_mapping_rate(mult, "--mapping-lr-mult", args.model)
    cfg = TrainConfig(
        model=args.model,
        steps=args.steps,
        seed=args.seed,
        batch_size=args.batch_size,
        resolution=args.resolution,
        **recipe,
    )
    if mult is not None:  # the recipe's generator arguments, with this one set
        cfg.generator_kwargs.setdefault("mapping_kwargs", {})["lr_multiplier"] = mult
    if (out / "checkpoint.pt").exists() and not args.quiet:
        print(f"resuming from {out / 'checkpoint.pt'}", file=sys.stderr)
    ckpt = train_gan(
        out,
        cfg,
        device=args.device,
        progress=not args.quiet,
        max_seconds=args.max_minutes * 60 if args.max_minutes else None,
        keep_every=args.keep_every,
    )
    weights = export_generator(ckpt, out / f"shapes-{args.model}.pt", name=f"shapes-{args.model}")
    if not args.quiet:
        print(f"checkpoint {ckpt}; generator weights {weights}")
    return 0


def _cmd_train_probe(args) -> int:
    from .probe import probe_accuracy, save_probe, train_probe

    out = _check_out(args.output)
    probe = train_probe(
        args.resolution,
        steps=args.steps,
        seed=args.seed,
        device=args.device,
        progress=not args.quiet,
        jitter=args.jitter,
    )
    acc = probe_accuracy(probe)
    extra = {"steps": args.steps, "seed": args.seed, "jitter": args.jitter, "accuracy": acc}
    save_probe(probe, out, extra=extra)
    if not args.quiet:
        print(f"wrote {out}; held-out accuracy " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()))
    return 0


def _cmd_probe_eval(args) -> int:
    import json

    from .gan import load_generator
    from .probe import evaluate_generator, load_probe

    if args.card:
        card_path = _check_out(args.card)
        if card_path.suffix != ".json":
            raise ValueError(f"--card {card_path} must end in .json (the .md and .png go beside it)")
    g = load_generator(args.gan, device=args.device, nvidia_repo=args.nvidia_repo)
    probe = load_probe(args.probe, resolution=g.img_resolution, device=args.device)
    result = evaluate_generator(g, probe, n=args.n, seed=args.seed, truncation_psi=args.truncation)
    if args.card:
        from .gan.adapter import read_card
        from .gan.card import write_model_card

        md = write_model_card(g, read_card(args.gan) | {"evaluation": result}, card_path)
        print(f"wrote {card_path}, {md} and {card_path.with_suffix('.png')}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{g.name}: Fréchet {result['frechet']:.4g} (real floor {result['frechet_real_floor']:.4g}), "
            f"confident shapes {result['shape_confident_share']:.1%}"
        )
        if "shape_confident_by_class" in result:
            by_class = ", ".join(f"{k} {v:.1%}" for k, v in result["shape_confident_by_class"].items())
            print(f"  confident, by the class asked for: {by_class}")
        for k, v in result["tv"].items():
            print(f"  TV {k:9s} {v:.3f}")
    return 0


def _cmd_benchmark(args) -> int:
    import json

    from .benchmark import BenchmarkConfig, check_shapes_gan, default_view, run_benchmark, summary, verdicts
    from .gan import load_generator
    from .io import atomic_write_text
    from .probe import load_probe
    from .study import markdown_table

    out = _check_out(args.json)
    overrides = {"seeds": tuple(range(args.seeds))} if args.seeds is not None else {}
    if args.n_samples is not None:
        overrides["n_samples"] = args.n_samples
    cfg = BenchmarkConfig.quick(**overrides) if args.quick else BenchmarkConfig(**overrides)
    g = load_generator(args.gan, device=args.device, nvidia_repo=args.nvidia_repo)
    check_shapes_gan(args.gan, g)
    probe = load_probe(resolution=g.img_resolution, device=args.device)
    seeds_dir = out.with_name(out.name + ".seeds")
    result = run_benchmark(g, probe, args.gan, cfg, cache_dir=seeds_dir, progress=not args.quiet)
    result["verdicts"] = verdicts(result)
    atomic_write_text(json.dumps(result, indent=1), out)
    if not args.quiet:
        k, mode = default_view(result)
        print(f"{args.gan}: K = {k}, layers = {mode} (mean ± 95 % CI over {len(cfg.seeds)} seeds)")
        print(markdown_table(summary(result, k, mode)))
        for v in result["verdicts"]:
            print(f"- {v['verdict']}: {v['claim']} ({v['evidence']})")
        print(f"wrote {out} (finished seeds are kept in {seeds_dir})", file=sys.stderr)
    return 0


def _add_gan_args(p) -> None:
    p.add_argument(
        "--gan", default="builtin:shapes-stylegan", help="generator spec (default builtin:shapes-stylegan)"
    )
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument(
        "--nvidia-repo", default=None, help="folder of your NVIDIA stylegan clone (for nvidia: specs)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sfvq",
        description="Space-filling vector quantization of GAN latent spaces.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "fit",
        help="fit an SFVQ curve to latent vectors",
        description="Fit an SFVQ curve (2**bits corner points) to an (n_samples, n_features) "
        ".npy array and save it. Interrupted fits resume from OUTPUT.partial.",
    )
    p.add_argument("latents", metavar="LATENTS.npy", help="latent vectors, shape (n_samples, n_features)")
    p.add_argument("--bits", type=int, required=True, help="final bitrate: 2**bits corner points (>= 2)")
    p.add_argument("--n-epochs", type=int, default=1, help="epochs per bitrate stage (default 1)")
    p.add_argument("--batch-size", type=int, default=64, help="samples per step (default 64)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument(
        "--expansion-eps", type=float, default=0.01, help="doubling offset along a line (default 0.01)"
    )
    p.add_argument("--no-shuffle", action="store_true", help="visit samples in file order")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 ... (default cpu)")
    p.add_argument("-o", "--output", required=True, metavar="CURVE", help="file to write the curve to")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser(
        "project",
        help="map latent vectors to fractional curve indices",
        description="Project every row of LATENTS.npy onto the nearest point of the curve "
        "(exact, over all lines) and save its fractional index as a float64 .npy array.",
    )
    p.add_argument("curve", metavar="CURVE", help="a curve written by 'sfvq fit'")
    p.add_argument("latents", metavar="LATENTS.npy", help="latent vectors, shape (n_samples, n_features)")
    p.add_argument(
        "--bits", type=int, default=None, help="use the curve at this bitrate (default: the final one)"
    )
    p.add_argument("--device", default=None, help="torch device (default: the one the curve was fitted on)")
    p.add_argument("-o", "--output", required=True, metavar="INDEX.npy", help="where to write the indices")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=_cmd_project)

    p = sub.add_parser(
        "sample",
        help="sample latent vectors of a GAN",
        description="Sample latents (z, w or w+) of a generator and save them as .npy. Specs: "
        "builtin:NAME, nvidia:PATH.pkl (needs --nvidia-repo; unpickling runs code from the file), "
        "biggan:DIR, python:MODULE:CALLABLE.",
    )
    _add_gan_args(p)
    p.add_argument("-n", type=int, default=1000, help="number of latents (default 1000)")
    p.add_argument(
        "--space", choices=["z", "w", "w+"], default=None, help="latent space (default w; z for a BigGAN)"
    )
    p.add_argument("--truncation", type=float, default=1.0, help="truncation psi in [0, 1] (default 1)")
    p.add_argument("--class", dest="class_", type=int, default=None, help="class index (conditional GANs)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.npy", help="where to write the latents")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser(
        "render",
        help="render latent vectors to an image grid",
        description="Decode latents with a generator and save the images as one PNG grid.",
    )
    _add_gan_args(p)
    p.add_argument(
        "latents", metavar="LATENTS.npy", help="(n, w_dim), (n, num_ws, w_dim) or, with --space z, (n, z_dim)"
    )
    p.add_argument(
        "--space", choices=["z", "w"], default=None, help="what the latents are (default w; z for a BigGAN)"
    )
    p.add_argument(
        "--truncation", type=float, default=1.0, help="truncation psi used with z latents (default 1)"
    )
    p.add_argument("--class", dest="class_", type=int, default=None, help="class index (conditional GANs)")
    p.add_argument("--columns", type=int, default=16, help="images per row (default 16)")
    p.add_argument("--max-images", type=int, default=256, help="render at most this many (default 256)")
    p.add_argument("-o", "--output", required=True, metavar="GRID.png", help="where to write the grid")
    p.set_defaults(func=_cmd_render)

    p = sub.add_parser(
        "train-gan",
        help="train one of the project's small GANs on the shapes dataset",
        description="Train a GAN on the procedural shapes dataset. Checkpoints go to OUT/checkpoint.pt; "
        "running the same command again resumes. At the end the EMA generator is written to "
        "OUT/shapes-MODEL.pt (copy it to data/gans/ to make it builtin:shapes-MODEL).",
    )
    p.add_argument("--model", choices=["stylegan", "biggan"], default="stylegan", help="architecture")
    p.add_argument("--steps", type=int, default=20000, help="total training steps (default 20000)")
    p.add_argument("--batch-size", type=int, default=32, help="images per step (default 32)")
    p.add_argument("--resolution", type=int, default=32, help="image size, 32 or 64 (default 32)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: the recipe's)")
    p.add_argument("--d-lr", type=float, default=None, help="discriminator's learning rate (default: --lr's)")
    p.add_argument("--r1-gamma", type=float, default=None, help="R1 weight (default: the recipe's)")
    p.add_argument(
        "--shape-aux",
        type=float,
        default=None,
        help="weight of G's auxiliary shape loss from a classifier head on D (default: the recipe's)",
    )
    p.add_argument(
        "--d-warmup",
        type=int,
        default=None,
        help="first train D's shape head on real renders for this many steps (needs --shape-aux)",
    )
    p.add_argument(
        "--mode-seeking",
        type=float,
        default=None,
        help="weight of G's mode-seeking term: different z, different images (default: the recipe's)",
    )
    p.add_argument(
        "--warp-res",
        type=int,
        default=None,
        metavar="R",
        help="G rotates and shifts its feature map entering resolution R by a learned amount (default: none)",
    )
    p.add_argument(
        "--coord-res",
        type=int,
        default=None,
        metavar="R",
        help="G's blocks from resolution R on also read each pixel's coordinates (CoordConv; default: none)",
    )
    p.add_argument(
        "--rgb-kernel",
        type=int,
        default=None,
        metavar="K",
        help="the StyleGAN's RGB output's kernel size, 1 or 3 (default: 1, NVIDIA's)",
    )
    p.add_argument(
        "--warp-angle-init",
        type=float,
        default=None,
        metavar="RAD",
        help="the warp's angle starts random with this spread, not 0 (needs --warp-res or --warp-image; "
        "with --warp-image, that warp's)",
    )
    p.add_argument(
        "--warp-image",
        action="store_true",
        help="G rotates and shifts its finished image by a learned amount",
    )
    p.add_argument(
        "--warp-uniform",
        action="store_true",
        help="the BigGAN's warps spread their angle and shift uniformly over z, not normally (needs "
        "--warp-res or --warp-image)",
    )
    p.add_argument(
        "--warp-spread",
        type=float,
        default=None,
        metavar="RAD",
        help="G pays when its image warp's angle spreads less than this over a class (needs "
        "--warp-image and --warp-angle-init)",
    )
    p.add_argument(
        "--factor-aux",
        type=float,
        default=None,
        help="weight of G's factor-spread loss from a factor head on D (default: none)",
    )
    p.add_argument(
        "--factor-reader",
        type=float,
        default=None,
        help="weight of G's loss from a separate factor reader: its readings of every factor but the "
        "shape over G's images of each class against the real images' of that class (default: none)",
    )
    p.add_argument(
        "--reader-shape",
        type=float,
        default=None,
        help="weight of G's loss from that reader's shape reading against the class asked for "
        "(needs --factor-reader and a class-conditional model; default: none)",
    )
    p.add_argument(
        "--reader-from",
        type=int,
        default=None,
        metavar="STEP",
        help="the factor reader counts from this step on (default: 0, from the start)",
    )
    p.add_argument(
        "--reader-fakes",
        action="store_true",
        help="the shape is judged by a second reader that also learns G's images, as one more class "
        "('generated') (needs --reader-shape)",
    )
    p.add_argument(
        "--colour-match",
        type=float,
        default=None,
        metavar="W",
        help="weight of G's loss for its pixels' value (HSV) against the real images' "
        "(W1 of the sorted pixels; default: none)",
    )
    p.add_argument(
        "--colour-match-from",
        type=int,
        default=None,
        metavar="STEP",
        help="--colour-match counts from this step on (default: 0, from the start)",
    )
    p.add_argument(
        "--pixel-d",
        type=float,
        default=None,
        metavar="W",
        help="weight of G's loss from a discriminator that sees one pixel (its colour) at a time "
        "(default: none)",
    )
    p.add_argument(
        "--pixel-d-from",
        type=int,
        default=None,
        metavar="STEP",
        help="--pixel-d learns and counts from this step on (default: 0, from the start)",
    )
    p.add_argument(
        "--pixel-d-size",
        type=int,
        default=None,
        metavar="PX",
        help="--pixel-d sees the PX x PX patch around each pixel: 1 (its colour only; default), 3 or 5",
    )
    p.add_argument(
        "--hue-turn",
        action="store_true",
        help="the StyleGAN turns its finished image's hue by a learned function of its last style "
        "(it can wrap round the circle)",
    )
    p.add_argument(
        "--hue-turn-from",
        type=int,
        default=None,
        metavar="STEP",
        help="--hue-turn is skipped, and learns nothing, before this step (default: 0, from the start)",
    )
    p.add_argument(
        "--twin-aux",
        action="store_true",
        help="a twin shape head on D learns G's classes; G is paid its loss (TAC-GAN; needs "
        "--shape-aux and a class-conditional model)",
    )
    p.add_argument(
        "--conditional",
        action="store_true",
        help="StyleGAN: condition G and D on the shape (the BigGAN always is)",
    )
    p.add_argument(
        "--class-skip",
        action="store_true",
        help="conditional StyleGAN: w also gets a learned vector per class, past the mapping's layers",
    )
    p.add_argument(
        "--mapping-lr-mult",
        type=float,
        default=None,
        metavar="M",
        help="StyleGAN: the mapping network learns at M times the learning rate (default: NVIDIA's 0.01)",
    )
    p.add_argument(
        "--mapping-boost",
        type=float,
        default=None,
        metavar="B",
        help="StyleGAN: from --mapping-boost-from on, the mapping network learns B times faster",
    )
    p.add_argument(
        "--mapping-boost-from",
        type=int,
        default=None,
        metavar="STEP",
        help="the step from which --mapping-boost applies (default: 0)",
    )
    p.add_argument(
        "--lr-decay",
        type=float,
        default=None,
        metavar="F",
        help="from --lr-decay-from on, G's and D's learning rates fall linearly to F times theirs at "
        "--steps (default: 1, none)",
    )
    p.add_argument(
        "--lr-decay-from",
        type=int,
        default=None,
        metavar="STEP",
        help="the step from which --lr-decay applies (default: 0)",
    )
    p.add_argument(
        "--class-groups",
        action="store_true",
        help="D's minibatch-std groups hold one class each (class-conditional models)",
    )
    p.add_argument(
        "--augment",
        default=None,
        help="DiffAugment of D's input, e.g. translation,cutout (default: the recipe's)",
    )
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument(
        "--max-minutes", type=float, default=None, help="stop (and save) after this long; rerun to go on"
    )
    p.add_argument(
        "--keep-every",
        type=int,
        default=0,
        metavar="N",
        help="also write the generator every N steps to OUT/snapshots/ (measure one with "
        "sfvq probe-eval --gan builtin:PATH.pt); default: only at the end",
    )
    p.add_argument("--out", required=True, help="folder for checkpoints, sample grids and the weights")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train_gan)

    p = sub.add_parser(
        "train-probe",
        help="train the factor probe on rendered shapes",
        description="Train the CNN that reads a shapes image's factors and save it (weights only).",
    )
    p.add_argument("--resolution", type=int, default=32, help="image size (default 32)")
    p.add_argument("--steps", type=int, default=2000, help="training steps of 128 images (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument(
        "--jitter",
        action="store_true",
        help="jitter half of each batch's saturation and brightness, so that the probe does not read "
        "brightness as part of the shape",
    )
    p.add_argument("-o", "--output", required=True, metavar="PROBE.pt", help="where to write the probe")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train_probe)

    p = sub.add_parser(
        "probe-eval",
        help="measure a shapes GAN with the factor probe",
        description="Fréchet distance of probe features to real renders (with the real-vs-real floor), "
        "share of confidently classified shapes, per-factor total-variation distance, probe accuracy.",
    )
    _add_gan_args(p)
    p.add_argument("--n", type=int, default=2000, help="images per set (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--truncation", type=float, default=1.0, help="truncation psi (default 1)")
    p.add_argument("--probe", default=None, help="probe file (default: the shipped one)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--card",
        default=None,
        metavar="CARD.json",
        help="also write a model card (training facts + this evaluation): CARD.json, CARD.md, CARD.png",
    )
    p.set_defaults(func=_cmd_probe_eval)

    p = sub.add_parser(
        "benchmark",
        help="measure SFVQ's directions against GANSpace, SeFa, random and supervised ones",
        description="On one of our shapes GANs: the direction-factor effect matrix, disentanglement, "
        "completeness, coverage and fidelity of each method's directions, and the normalized mutual "
        "information between curve / k-means index and each factor per bitrate, over several seeds. "
        "Writes every method x metric x seed to --json; finished seeds are kept in JSON.seeds/ so an "
        "interrupted run resumes.",
    )
    _add_gan_args(p)
    p.add_argument("--json", required=True, metavar="OUT.json", help="where to write the results")
    p.add_argument("--quick", action="store_true", help="small sizes, same code path (CI)")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds, at least 2 (default 3)")
    p.add_argument("--n-samples", type=int, default=None, help="latents every direction is applied to")
    p.set_defaults(func=_cmd_benchmark)

    p = sub.add_parser(
        "study",
        help="run every experiment notebook and build the book",
        description="Execute the study's notebooks with papermill (into OUT, never over book/), for each "
        "--gan (default: the bundled GANs), then build the HTML book from the executed copies. "
        "Unchanged chapters are not re-executed; an interrupted study resumes.",
    )
    p.add_argument(
        "--gan", action="append", default=None, metavar="SPEC", help="a generator spec (repeatable)"
    )
    p.add_argument("--nvidia-repo", default=None, help="folder of NVIDIA's repository, for nvidia: specs")
    p.add_argument("--quick", action="store_true", help="small sizes, same code path (CI)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument("--n-samples", type=int, default=None, help="latent samples (default 20000)")
    p.add_argument("--bits", type=int, default=None, help="highest curve bitrate (default 8)")
    p.add_argument("--truncation", type=float, default=None, help="truncation psi of the samples (default 1)")
    p.add_argument("--device", default=None, help="torch device (default cpu)")
    p.add_argument("--out", default="build/study", help="folder for executed notebooks and artifacts")
    p.add_argument("--no-book", action="store_true", help="execute the notebooks only")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_study)

    p = sub.add_parser(
        "info",
        help="describe a saved curve",
        description="Print a saved curve's parameters and per-stage loss.",
    )
    p.add_argument("curve", metavar="CURVE")
    p.set_defaults(func=_cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .study import StudyError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, NotFittedError, StudyError) as e:
        # OSError: permission denied, disk full, a folder where a file was expected ...
        msg = str(e) if not isinstance(e, OSError) or not e.strerror else f"{e.strerror}: {e.filename}"
        print(f"sfvq: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sfvq: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
