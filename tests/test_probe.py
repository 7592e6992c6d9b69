import json

import numpy as np
import pytest
import torch

from sfvq_lib.cli import main
from sfvq_lib.data import FACTOR_NAMES, ShapesDataset
from sfvq_lib.gan import Generator, StyleGANAdapter
from sfvq_lib.probe import (
    FactorProbe,
    evaluate_generator,
    frechet_distance,
    load_probe,
    read_factors,
    save_probe,
    train_probe,
)


@pytest.fixture(scope="module")
def tiny_probe():
    return train_probe(steps=3, batch_size=16, progress=False)


def test_frechet_distance_known_answers():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    shifted = a + np.array([3.0, 0, 0])
    assert frechet_distance(a, shifted) == pytest.approx(9.0, rel=1e-6)
    scaled = a * 2  # covariance 4I vs I: trace(I + 4I - 2*2I) = 3 per... = 3
    assert frechet_distance(a, scaled) == pytest.approx(3.0, rel=0.05)


def test_probe_reads_every_factor_in_its_units(tiny_probe):
    images, _ = ShapesDataset(32).sample(10, seed=0)
    r = read_factors(tiny_probe, images)
    for name in FACTOR_NAMES:
        assert r[name].shape == (10,)
    assert r["shape_prob"].shape == (10, 4) and np.allclose(r["shape_prob"].sum(1), 1, atol=1e-5)
    assert np.all((r["obj_hue"] >= 0) & (r["obj_hue"] < 1))
    assert np.all((r["x"] >= 0.3) & (r["x"] <= 0.7))


def test_probe_learns(tmp_path):
    """A short training run already beats chance on shape and explains position."""
    from sfvq_lib.probe import probe_accuracy

    probe = train_probe(steps=300, batch_size=64, progress=False)
    acc = probe_accuracy(probe, n=400)
    assert acc["shape"] > 0.35, acc  # chance is 0.25
    assert acc["x"] > 0.9 and acc["y"] > 0.9, acc


def test_save_load_and_evaluate(tiny_probe, tmp_path, capsys, monkeypatch):
    path = save_probe(tiny_probe, tmp_path / "p.pt")
    probe = load_probe(path)
    x = torch.from_numpy(ShapesDataset(32).sample(4, seed=1)[0])
    torch.testing.assert_close(probe(x)[0], tiny_probe(x)[0])
    torch.manual_seed(0)
    g = StyleGANAdapter(Generator(z_dim=16, w_dim=16))
    res = evaluate_generator(g, probe, n=64)
    assert set(res) >= {"frechet", "frechet_real_floor", "shape_confident_share", "tv", "probe_accuracy"}
    assert set(res["tv"]) == set(FACTOR_NAMES) and all(0 <= v <= 1 for v in res["tv"].values())
    assert res["frechet"] > res["frechet_real_floor"] >= 0
    with pytest.raises(FileNotFoundError, match="train one with"):
        load_probe(tmp_path / "missing.pt")


def test_probe_eval_cli_json(tiny_probe, tmp_path, capsys, monkeypatch):
    from sfvq_lib.gan import adapter as adapter_module
    from sfvq_lib.gan import save_builtin

    path = save_probe(tiny_probe, tmp_path / "p.pt")
    monkeypatch.setattr(adapter_module, "BUILTIN_DIR", tmp_path)
    kwargs = dict(z_dim=16, w_dim=16)
    save_builtin(Generator(**kwargs), kwargs, tmp_path / "tiny.pt")
    card = tmp_path / "card.json"
    argv = [
        "probe-eval",
        "--gan",
        "builtin:tiny",
        "--n",
        "32",
        "--probe",
        str(path),
        "--json",
        "--card",
        str(card),
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert 0 <= out["shape_confident_share"] <= 1 and "shape" in out["probe_accuracy"]
    written = json.loads(card.read_text())
    assert written["evaluation"] == out and written["name"] == "builtin:tiny"
    md = card.with_suffix(".md").read_text()
    assert "| total-variation distance, obj_hue |" in md and "![samples](card.png)" in md
    from PIL import Image

    assert Image.open(card.with_suffix(".png")).size == (16 * 33 - 1, 2 * (2 * 33 - 1) + 4)
    assert main([*argv[:-1], str(tmp_path / "card.txt")]) == 2  # the card must be .json
    from sfvq_lib.gan import load_generator
    from sfvq_lib.gan.card import write_model_card

    # the command that trained it, where the card says
    md = write_model_card(
        load_generator("builtin:tiny"), {**written, "command": "sfvq train-gan --seed 0"}, tmp_path / "c.json"
    )
    assert "- trained with: `sfvq train-gan --seed 0`" in md.read_text()
    assert "trained with" not in card.with_suffix(".md").read_text()
    assert "of the images of class" not in md.read_text()  # an unconditional generator: none
    by_class = {"square": 0.5, "disc": 0.25}  # a class-conditional one's evaluation has them
    md = write_model_card(
        load_generator("builtin:tiny"),
        {**written, "evaluation": {**out, "shape_confident_by_class": by_class}},
        tmp_path / "c.json",
    )
    assert "| the same p ≥ 0.9, of the images of class disc | 25.0% | — | — |" in md.read_text()


def test_targets_and_class_agreement_of_a_biggan(tiny_probe):
    from sfvq_lib.data import SHAPES
    from sfvq_lib.gan import BigGAN, BigGANAdapter
    from sfvq_lib.gan.card import meets_targets

    torch.manual_seed(0)
    g = BigGANAdapter(BigGAN(z_dim=16, embed_dim=8), class_names=SHAPES)
    res = evaluate_generator(g, tiny_probe, n=32)
    assert 0 <= res["class_agreement"] <= 1
    # the confident share of each class asked for (8 images each) averages to the whole share
    by_class = res["shape_confident_by_class"]
    assert list(by_class) == list(SHAPES) and all(v * 8 == int(v * 8) for v in by_class.values())
    assert np.mean(list(by_class.values())) == pytest.approx(res["shape_confident_share"])
    met = meets_targets(res)
    assert set(met) == {"shape_confident_share", "tv", "probe_accuracy.shape"}
    assert met["tv"] == all(v <= 0.15 for v in res["tv"].values())
    good = {**res, "shape_confident_share": 0.95, "tv": dict.fromkeys(res["tv"], 0.1)}
    assert meets_targets(good)["tv"] and meets_targets(good)["shape_confident_share"]


def test_a_stylegan_conditional_on_the_shapes_is_asked_for_each_class_in_turn(tiny_probe):
    from sfvq_lib.data import SHAPES

    torch.manual_seed(0)
    G = Generator(z_dim=16, w_dim=16, c_dim=len(SHAPES))
    asked = []
    mapping = G.mapping.forward
    G.mapping.forward = lambda z, c, **kw: asked.append(c.argmax(1)) or mapping(z, c, **kw)
    res = evaluate_generator(StyleGANAdapter(G, class_names=SHAPES), tiny_probe, n=32)
    assert torch.equal(torch.cat(asked), torch.arange(32) % 4)
    assert 0 <= res["class_agreement"] <= 1
    # other class names: classes drawn at random, nothing to agree with
    asked.clear()
    res = evaluate_generator(StyleGANAdapter(G, class_names="abcd"), tiny_probe, n=32)
    assert "shape_confident_by_class" not in res
    assert "class_agreement" not in res and not torch.equal(torch.cat(asked), torch.arange(32) % 4)


def test_colour_jitter_keeps_the_hue_and_changes_the_brightness():
    import colorsys

    from sfvq_lib.probe import jitter_colours

    x = torch.from_numpy(ShapesDataset(16).sample(64, seed=2)[0])
    y = jitter_colours(x, torch.Generator().manual_seed(0))
    again = jitter_colours(x, torch.Generator().manual_seed(0))
    assert torch.equal(y, again) and y.shape == x.shape and y.abs().max() <= 1
    changed = (y != x).flatten(1).any(1)
    assert 16 < int(changed.sum()) < 48  # about half of them
    assert not torch.equal(y[changed].mean((1, 2, 3)), x[changed].mean((1, 2, 3)))
    # every pixel keeps its hue where nothing was clipped
    a, b = ((x[changed] + 1) / 2).permute(0, 2, 3, 1), ((y[changed] + 1) / 2).permute(0, 2, 3, 1)
    free = ((b > 1e-4) & (b < 1 - 1e-4)).all(-1) & ((a.amax(-1) - a.amin(-1)) > 0.05)
    hue = lambda p: colorsys.rgb_to_hsv(*p.tolist())[0]  # noqa: E731
    pairs = [(hue(p), hue(q)) for p, q in zip(a[free][::97], b[free][::97], strict=True)]
    assert len(pairs) > 20
    assert all(min(abs(h - k), 1 - abs(h - k)) < 1e-3 for h, k in pairs)


def test_a_probe_trained_with_jitter_differs_and_is_deterministic():
    a = train_probe(steps=2, batch_size=8, progress=False, jitter=True)
    b = train_probe(steps=2, batch_size=8, progress=False, jitter=True)
    plain = train_probe(steps=2, batch_size=8, progress=False)
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    assert any(not torch.equal(v, plain.state_dict()[k]) for k, v in a.state_dict().items())


def test_probe_is_deterministic():
    a = train_probe(steps=2, batch_size=8, progress=False)
    b = train_probe(steps=2, batch_size=8, progress=False)
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k])
    assert isinstance(a, FactorProbe)
