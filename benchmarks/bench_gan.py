"""Sampling + decoding speed of a generator (issue 3, §5): target >= 500 images/s at
32 px on 2 CPU cores with builtin:shapes-stylegan.

    python benchmarks/bench_gan.py [--gan SPEC] [--n 2048] [--repeats 5]

Baseline in the same run: the same generator with the per-sample grouped convolution
(the textbook form of a modulated convolution) instead of our shared-convolution form.
The two take turns, ``--repeats`` timings each; the medians are compared (one timing on
these shared machines swung from 490 to 606 images/s within ten minutes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from sfvq_lib.gan import Generator, StyleGANAdapter, load_generator
from sfvq_lib.gan import stylegan as stylegan_module

TARGET = 500.0


def grouped_modulated_conv2d(x, weight, styles, demodulate=True, fixed=None, fixed_style=1.0):
    if fixed is not None:  # as extra input channels of every sample
        x = torch.cat([x, fixed.expand(len(x), -1, -1, -1)], dim=1)
        styles = torch.cat([styles, styles.new_full((len(x), fixed.shape[1]), fixed_style)], dim=1)
    n, i, h, w = x.shape
    o, _, k, _ = weight.shape
    wgt = weight.unsqueeze(0) * styles.reshape(n, 1, i, 1, 1)
    if demodulate:
        wgt = wgt * (wgt.square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt()
    out = F.conv2d(x.reshape(1, n * i, h, w), wgt.reshape(n * o, i, k, k), padding=k // 2, groups=n)
    return out.reshape(n, o, h, w)


def images_per_second(g: StyleGANAdapter, n: int) -> float:
    t0 = time.perf_counter()
    g.synthesize(g.sample(n, seed=0))
    return n / (time.perf_counter() - t0)


def grouped_images_per_second(g: StyleGANAdapter, n: int) -> float:
    """`images_per_second` with the grouped convolution in place of ours."""
    real = stylegan_module.modulated_conv2d
    stylegan_module.modulated_conv2d = grouped_modulated_conv2d
    try:
        return images_per_second(g, n)
    finally:
        stylegan_module.modulated_conv2d = real


def _summary(rates: list[float]) -> str:
    return (
        f"{statistics.median(rates):.0f} images/s (median of {len(rates)}: {min(rates):.0f}-{max(rates):.0f})"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gan", default="builtin:shapes-stylegan")
    parser.add_argument("--n", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=5, help="timings of each form (default 5)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeats < 1:
        parser.error("--n and --repeats must be >= 1")
    try:
        g = load_generator(args.gan)
    except ValueError as e:  # no shipped weights yet: time the architecture itself
        print(f"({e}; timing a randomly initialised builtin-sized generator instead)")
        g = StyleGANAdapter(Generator(), name="Generator() (random weights)")
    g.synthesize(g.sample(64, seed=1))  # warm-up
    rates = {"ours": [], "grouped": []}
    for _ in range(args.repeats):  # taking turns, so that a slow spell of the machine hits both
        rates["ours"].append(images_per_second(g, args.n))
        rates["grouped"].append(grouped_images_per_second(g, args.n))
    ours, grouped = (statistics.median(rates[k]) for k in ("ours", "grouped"))
    print(
        f"{g.name}: sample + decode {args.n} images at {g.img_resolution} px: {_summary(rates['ours'])} "
        f"(target >= {TARGET:.0f}); grouped per-sample convolution, same run: {_summary(rates['grouped'])} "
        f"(ratio {ours / grouped:.1f}x)"
    )
    return 0 if ours >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
