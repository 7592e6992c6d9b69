"""Model cards for our GANs: training facts, probe measurements, and a look at samples.

`write_model_card` writes three files side by side: ``NAME.json`` (everything, for
code), ``NAME.md`` (the same for people, with each measurement against its target)
and ``NAME.png`` (generated images above real renders of the procedural dataset).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..data import ShapesDataset
from ..images import image_grid, save_png

__all__ = ["TARGETS", "meets_targets", "write_model_card"]

# what issue 3 asks of our GANs: (key, comparison, bound)
TARGETS = {
    "shape_confident_share": (">=", 0.90),
    "tv": ("<=", 0.15),  # every factor
    "probe_accuracy.shape": (">=", 0.95),
}


def _get(evaluation: dict, key: str):
    value = evaluation
    for part in key.split("."):
        value = value[part]
    return value


def meets_targets(evaluation: dict) -> dict[str, bool]:
    """Which targets an `~sfvq_lib.probe.evaluate_generator` result meets."""
    out = {}
    for key, (op, bound) in TARGETS.items():
        value = _get(evaluation, key)
        values = value.values() if isinstance(value, dict) else [value]
        out[key] = all(v >= bound if op == ">=" else v <= bound for v in values)
    return out


def _rows(evaluation: dict) -> list[tuple[str, str, str, str]]:
    def verdict(ok):
        return "yes" if ok else "**no**"

    rows = [
        ("Fréchet distance of probe features to real renders", f"{evaluation['frechet']:.4g}", "—", "—"),
        ("the same between two real sets (floor)", f"{evaluation['frechet_real_floor']:.4g}", "—", "—"),
    ]
    share = evaluation["shape_confident_share"]
    rows.append(
        ("images whose shape the probe names with p ≥ 0.9", f"{share:.1%}", "≥ 90 %", verdict(share >= 0.9))
    )
    for name, tv in evaluation["tv"].items():
        rows.append((f"total-variation distance, {name}", f"{tv:.3f}", "≤ 0.15", verdict(tv <= 0.15)))
    if "class_agreement" in evaluation:
        rows.append(("images showing the class asked for", f"{evaluation['class_agreement']:.1%}", "—", "—"))
    for name, share in evaluation.get("shape_confident_by_class", {}).items():
        rows.append((f"the same p ≥ 0.9, of the images of class {name}", f"{share:.1%}", "—", "—"))
    acc = evaluation["probe_accuracy"]
    rows.append(
        (
            "probe accuracy on held-out renders, shape",
            f"{acc['shape']:.3f}",
            "≥ 0.95",
            verdict(acc["shape"] >= 0.95),
        )
    )
    return rows


def write_model_card(g, card: dict, path, n_images: int = 32, seed: int = 0) -> Path:
    """Write ``card`` (training facts + ``card["evaluation"]``) as JSON, Markdown and PNG.

    ``g`` is the adapter of the generator the card describes; ``path`` the JSON file.
    Returns the Markdown file.
    """
    from .train import sample_images

    path = Path(path)
    path.write_text(json.dumps(card, indent=2) + "\n")
    fake = sample_images(g, n_images, seed)
    real = g.to_uint8(ShapesDataset(fake.shape[1]).sample(n_images, seed=[seed, 3])[0])
    top, bottom = image_grid(fake, 16, pad=1), image_grid(real, 16, pad=1)
    gap = np.full((4, top.shape[1], 3), 255, np.uint8)
    save_png(np.concatenate([top, gap, bottom]), path.with_suffix(".png"))

    ev = card.get("evaluation", {})
    lines = [f"# {card.get('name', g.name)}", ""]
    facts = [
        ("architecture", card.get("architecture")),
        ("parameters", card.get("parameters")),
        ("training steps", card.get("steps")),
        ("images seen", card["steps"] * card["config"]["batch_size"] if "config" in card else None),
        ("wall time", f"{card['wall_seconds'] / 60:.0f} min" if "wall_seconds" in card else None),
        ("hardware", card.get("hardware")),
        ("seed", card.get("config", {}).get("seed")),
        ("chosen", card.get("selection")),  # how the shipped step was picked, if it was
        ("trained with", f"`{card['command']}`" if "command" in card else None),
        ("how it ran", card.get("stages")),  # when the command ran in parts, or not as one
    ]
    lines += [f"- {k}: {v}" for k, v in facts if v is not None]
    lines += ["", f"![samples]({path.with_suffix('.png').name})", ""]
    lines += ["Top: generated (truncation ψ = 1). Bottom: real renders of the procedural dataset.", ""]
    if ev:
        lines += [
            f"## Measured by the factor probe (`sfvq probe-eval`, {ev['n']} images, seed {ev['seed']})",
            "",
            "| measure | value | target | met |",
            "|---|---|---|---|",
            *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in _rows(ev)],
            "",
        ]
    if "config" in card:
        lines += ["## Training configuration", "", "```json", json.dumps(card["config"], indent=2), "```", ""]
    md = path.with_suffix(".md")
    md.write_text("\n".join(lines))
    return md
