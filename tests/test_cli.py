import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sfvq_lib import SFVQ
from sfvq_lib.cli import main


@pytest.fixture()
def latents(tmp_path, ring_2d):
    path = tmp_path / "w.npy"
    np.save(path, ring_2d)
    return path


def test_fit_then_project(tmp_path, latents, ring_2d, capsys):
    curve_path = tmp_path / "ring.sfvq"
    assert (
        main(["fit", str(latents), "--bits", "4", "--n-epochs", "2", "--seed", "3", "-o", str(curve_path)])
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    assert not (tmp_path / "ring.sfvq.partial").exists()
    q = SFVQ.load(curve_path)
    same = SFVQ(bits=4, n_epochs=2, random_state=3, progress=False).fit(ring_2d)
    assert np.array_equal(q.codebook_, same.codebook_)

    index_path = tmp_path / "t.idx"  # written under exactly this name
    assert main(["project", str(curve_path), str(latents), "-o", str(index_path)]) == 0
    t = np.load(index_path)
    np.testing.assert_array_equal(t, q.transform(ring_2d))
    assert main(["project", str(curve_path), str(latents), "--bits", "2", "-q", "-o", str(index_path)]) == 0
    assert np.load(index_path).max() <= 3
    assert main(["info", str(curve_path)]) == 0
    assert "4 bits" in capsys.readouterr().out


def run_error(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("sfvq: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_user_mistakes_are_one_line(tmp_path, latents, capsys):
    out = str(tmp_path / "c.sfvq")
    assert "no such latents file" in run_error(
        ["fit", str(tmp_path / "missing.npy"), "--bits", "3", "-o", out], capsys
    )
    assert "bits=13 needs at least 8192 samples" in run_error(
        ["fit", str(latents), "--bits", "13", "-o", out], capsys
    )
    assert "bits must be >= 2" in run_error(["fit", str(latents), "--bits", "1", "-o", out], capsys)
    assert "output folder" in run_error(
        ["fit", str(latents), "--bits", "3", "-o", str(tmp_path / "no/c")], capsys
    )
    bad = tmp_path / "bad.npy"
    np.save(bad, np.array([{"a": 1}], dtype=object))
    assert "not a plain numeric .npy" in run_error(["fit", str(bad), "--bits", "3", "-o", out], capsys)
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((10, 2), np.nan, np.float32))
    assert "NaN or inf" in run_error(["fit", str(nan), "--bits", "2", "-o", out], capsys)
    assert "is a folder" in run_error(["fit", str(latents), "--bits", "3", "-o", str(tmp_path)], capsys)
    assert "is a folder" in run_error(["fit", str(tmp_path), "--bits", "3", "-o", out], capsys)
    empty = tmp_path / "empty.npy"
    empty.write_bytes(b"")
    assert "not a readable .npy" in run_error(["fit", str(empty), "--bits", "3", "-o", out], capsys)
    assert "not supported" in run_error(
        ["fit", str(latents), "--bits", "2", "--device", "meta", "-o", out], capsys
    )
    assert not list(tmp_path.glob("*.partial")), "a failed fit left a partial file"
    notcurve = tmp_path / "x.sfvq"
    notcurve.write_bytes(b"garbage")
    assert "not a readable" in run_error(["project", str(notcurve), str(latents), "-o", out], capsys)


def test_project_feature_mismatch(tmp_path, latents, capsys):
    curve_path = tmp_path / "c.sfvq"
    main(["fit", str(latents), "--bits", "2", "-q", "-o", str(curve_path)])
    other = tmp_path / "w3.npy"
    np.save(other, np.zeros((5, 3), np.float32))
    err = run_error(["project", str(curve_path), str(other), "-o", str(tmp_path / "t.npy")], capsys)
    assert "LATENTS has 3 features, but the curve was fitted on 2" in err


def test_console_script_help_documents_every_command():
    exe = Path(sys.executable).with_name("sfvq")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("fit", "project", "info"):
        assert command in out
    fit_help = subprocess.run([str(exe), "fit", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in ("--bits", "--n-epochs", "--batch-size", "--seed", "--device", "--output"):
        assert flag in fit_help


def test_sample_and_render_through_a_generator_spec(tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "w.npy"
    spec = "python:tests.fake_nvidia:make"
    assert main(["sample", "--gan", spec, "-n", "20", "--space", "w", "--seed", "4", "-o", str(out)]) == 0
    w = np.load(out)
    assert w.shape == (20, 5)
    main(
        [
            "sample",
            "--gan",
            spec,
            "-n",
            "20",
            "--space",
            "w",
            "--seed",
            "4",
            "-q",
            "-o",
            str(tmp_path / "w2.npy"),
        ]
    )
    assert np.array_equal(np.load(tmp_path / "w2.npy"), w)
    grid = tmp_path / "grid.png"
    assert main(["render", "--gan", spec, str(out), "--columns", "8", "-o", str(grid)]) == 0
    assert Image.open(grid).size == (8 * 8, 3 * 8)
    main(["sample", "--gan", spec, "-n", "3", "--space", "w+", "-q", "-o", str(tmp_path / "wp.npy")])
    assert main(["render", "--gan", spec, str(tmp_path / "wp.npy"), "-q", "-o", str(grid)]) == 0
    err = run_error(["sample", "--gan", "nope", "-o", str(out)], capsys)
    assert "unknown GAN spec" in err
    err = run_error(["sample", "--gan", spec, "--truncation", "2", "-o", str(out)], capsys)
    assert "truncation_psi must lie in [0, 1]" in err


def test_sample_and_render_a_biggan_by_class(tmp_path, monkeypatch, capsys):
    import torch
    from PIL import Image

    from sfvq_lib.gan import BigGAN, save_builtin
    from sfvq_lib.gan import adapter as adapter_module

    torch.manual_seed(0)
    kwargs = dict(z_dim=8, num_classes=4, embed_dim=4, img_resolution=8, channels={4: 8, 8: 8})
    save_builtin(BigGAN(**kwargs), kwargs, tmp_path / "tiny-biggan.pt", architecture="biggan")
    monkeypatch.setattr(adapter_module, "BUILTIN_DIR", tmp_path)
    out, grid = tmp_path / "z.npy", tmp_path / "grid.png"
    # a BigGAN's default space is z
    assert (
        main(["sample", "--gan", "builtin:tiny-biggan", "-n", "6", "--class", "2", "-q", "-o", str(out)]) == 0
    )
    assert np.load(out).shape == (6, 8)
    args = ["render", "--gan", "builtin:tiny-biggan", str(out), "--class", "2", "-q", "--columns", "3"]
    assert main([*args, "-o", str(grid)]) == 0
    assert Image.open(grid).size == (3 * 8, 2 * 8)
    err = run_error(["sample", "--gan", "builtin:tiny-biggan", "--space", "w", "-o", str(out)], capsys)
    assert "only the z space" in err
    err = run_error([*args[:-3], "--class", "9", "-o", str(grid)], capsys)
    assert "class_ must lie in 0..3" in err


def test_benchmark_writes_the_json_and_keeps_finished_seeds(tmp_path, capsys):
    import json

    out = tmp_path / "bench.json"
    argv = ["benchmark", "--gan", "builtin:shapes-biggan", "--quick", "--seeds", "2", "--n-samples", "8"]
    assert main([*argv, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["methods"]) >= {"sfvq", "ganspace", "sefa", "random", "supervised"}
    assert len(result["methods"]["sfvq"]["k4.all.disentanglement"]) == 2 and "nmi_by_bits" in result
    assert len(result["verdicts"]) == 5
    assert len(list((tmp_path / "bench.json.seeds").glob("seed*.json"))) == 2
    printed = capsys.readouterr().out
    assert "| method |" in printed and any(w in printed for w in ("holds", "partly", "does not hold"))


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--gan", "python:tests.fake_nvidia:make"], "not one of our shapes GANs"),
        (["--seeds", "1"], "at least 2 seeds"),
    ],
)
def test_benchmark_errors(tmp_path, capsys, argv, match):
    assert main(["benchmark", *argv, "--quick", "--json", str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sfvq: error:") and match in err and "Traceback" not in err


def test_train_gan_keeps_snapshots_that_load_as_builtin_paths(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train-gan", "--steps", "2", "--batch-size", "4", "--keep-every", "1", "-q", "--out", str(run)]
    assert main(argv) == 0
    snap = run / "snapshots" / "shapes-stylegan-000002.pt"
    assert sorted(p.name for p in snap.parent.iterdir()) == ["shapes-stylegan-000001.pt", snap.name]
    out = tmp_path / "w.npy"
    assert main(["sample", "--gan", f"builtin:{snap}", "-n", "3", "--space", "w", "-q", "-o", str(out)]) == 0
    assert np.load(out).shape == (3, 128)
    bad = [*argv[:-2], "--keep-every", "-1", "--out", str(run)]
    assert "--keep-every must be >= 0" in run_error(bad, capsys)
    other = ["--out", str(tmp_path / "r2")]
    assert "--d-lr must be > 0" in run_error([*argv[:-2], "--d-lr", "0", *other], capsys)
    assert "--shape-aux) must be >= 0" in run_error([*argv[:-2], "--shape-aux", "-1", *other], capsys)
    assert "needs shape_aux (--shape-aux) > 0" in run_error([*argv[:-2], "--d-warmup", "5", *other], capsys)
    assert "--d-warmup) must be >= 0" in run_error([*argv[:-2], "--d-warmup", "-5", *other], capsys)
    assert "--mode-seeking) must be >= 0" in run_error([*argv[:-2], "--mode-seeking", "-1", *other], capsys)
    assert "--warp-res) must be >= 0" in run_error([*argv[:-2], "--warp-res", "-1", *other], capsys)
    bad = run_error([*argv[:-2], "--twin-aux", *other], capsys)
    assert "twin_aux (--twin-aux) needs shape_aux (--shape-aux) > 0 and a class-conditional" in bad
    bad = run_error([*argv[:-2], "--class-skip", *other], capsys)
    assert "class_skip (--class-skip) is for the conditional StyleGAN (--conditional)" in bad
    assert "the BigGAN always is" in run_error(
        [*argv[:-2], "--model", "biggan", "--conditional", *other], capsys
    )
    assert "needs warp_res (--warp-res) or warp_image (--warp-image)" in run_error(
        [*argv[:-2], "--warp-angle-init", "0.3", *other], capsys
    )
    assert "--factor-aux) must be >= 0" in run_error([*argv[:-2], "--factor-aux", "-1", *other], capsys)
    assert "--factor-reader) must be >= 0" in run_error([*argv[:-2], "--factor-reader", "-1", *other], capsys)
    assert "class_groups (--class-groups) needs" in run_error([*argv[:-2], "--class-groups", *other], capsys)
    bad = run_error([*argv[:-2], "--warp-res", "5", *other], capsys)
    assert "--warp-res) must be 0 (no warp) or one of [8, 16, 32], got 5" in bad
    warped = tmp_path / "warped"
    turned = ["--warp-image", "--warp-angle-init", "0.3", "--warp-spread", "0.25"]
    assert main([*argv[:2], "1", *argv[3:5], "-q", "--out", str(warped), *turned]) == 0
    config = torch.load(warped / "checkpoint.pt", weights_only=True)["config"]
    assert config["warp_image"] and config["warp_angle_init"] == 0.3 and config["warp_spread"] == 0.25
    bad = run_error([*argv[:-2], "--warp-spread", "0.2", *other], capsys)
    assert "warp_spread (--warp-spread) must be >= 0 and needs warp_image" in bad
    bad = run_error([*argv[:-2], "--warp-uniform", "--warp-res", "16", *other], capsys)  # the StyleGAN
    assert "warp_uniform (--warp-uniform) is for the BigGAN with warp_res or warp_image" in bad
    bad = run_error([*argv[:-2], "--warp-uniform", "--model", "biggan", *other], capsys)  # no warp
    assert "warp_uniform (--warp-uniform) is for the BigGAN" in bad
    uniform = tmp_path / "uniform"
    flags = ["--model", "biggan", "--warp-res", "8", "--warp-uniform"]
    assert main([*argv[:2], "1", *argv[3:5], "-q", "--out", str(uniform), *flags]) == 0
    ck = torch.load(uniform / "checkpoint.pt", weights_only=True)
    assert ck["config"]["warp_uniform"] and "warp.amp" in ck["G_ema"]
    coords = tmp_path / "coords"
    flags = ["--model", "biggan", "--coord-res", "16"]
    assert main([*argv[:2], "1", *argv[3:5], "-q", "--out", str(coords), *flags]) == 0
    ck = torch.load(coords / "checkpoint.pt", weights_only=True)
    reads = [ck["G_ema"][f"blocks.{i}.conv0.weight"].shape[1] for i in range(3)]  # 8, 16, 32 px
    assert ck["config"]["coord_res"] == 16 and reads == [128, 128 + 2, 64 + 2]
    stylegan = tmp_path / "stylegan-coords"
    assert main([*argv[:2], "1", *argv[3:5], "-q", "--out", str(stylegan), "--coord-res", "32"]) == 0
    ck = torch.load(stylegan / "checkpoint.pt", weights_only=True)
    reads = [ck["G_ema"][f"synthesis.blocks.{i}.conv1.weight"].shape[1] for i in range(4)]  # 4 ... 32 px
    assert ck["config"]["coord_res"] == 32 and reads == [128, 128, 64, 32 + 2]
    for bad in (["--coord-res", "4"], ["--model", "biggan", "--coord-res", "12"]):  # no block there
        error = run_error([*argv[:-2], *bad, *other], capsys)
        assert "coord_res (--coord-res) must be 0 or one of the generator's block" in error
        assert "resolutions [8, 16, 32], got" in error
    rgb3 = tmp_path / "rgb3"
    assert main([*argv[:2], "1", *argv[3:5], "-q", "--out", str(rgb3), "--rgb-kernel", "3"]) == 0
    ck = torch.load(rgb3 / "checkpoint.pt", weights_only=True)
    assert ck["config"]["rgb_kernel"] == 3
    assert ck["G_ema"]["synthesis.blocks.3.torgb.weight"].shape[-2:] == (3, 3)  # the 32-px block's
    error = run_error([*argv[:-2], "--model", "biggan", "--rgb-kernel", "3", *other], capsys)
    assert "rgb_kernel (--rgb-kernel) is the StyleGAN's and must be 1 or 3, got 3 with model biggan" in error
    colour = tmp_path / "colour"
    flags = ["--colour-match", "50", "--colour-match-from", "1"]
    assert main([*argv[:2], "1", *argv[3:5], "-q", "--out", str(colour), *flags]) == 0
    config = torch.load(colour / "checkpoint.pt", weights_only=True)["config"]
    assert config["colour_match"] == 50 and config["colour_match_from"] == 1
    error = run_error([*argv[:-2], "--colour-match-from", "3", *other], capsys)
    assert "colour_match_from (--colour-match-from) needs colour_match (--colour-match) > 0" in error
    pixels = tmp_path / "pixels"
    flags = ["--pixel-d", "0.5", "--pixel-d-from", "1", "--pixel-d-size", "3"]
    assert main([*argv[:2], "1", *argv[3:5], "-q", "--out", str(pixels), *flags]) == 0
    config = torch.load(pixels / "checkpoint.pt", weights_only=True)["config"]
    assert config["pixel_d"] == 0.5 and config["pixel_d_from"] == 1 and config["pixel_d_size"] == 3
    error = run_error([*argv[:-2], "--pixel-d", "1", "--pixel-d-size", "2", *other], capsys)
    assert "pixel_d_size (--pixel-d-size) must be 1, 3 or 5, got 2" in error
    hue = tmp_path / "hue"
    assert (
        main([*argv[:2], "1", *argv[3:5], "-q", "--out", str(hue), "--hue-turn", "--hue-turn-from", "5"]) == 0
    )
    ck = torch.load(hue / "checkpoint.pt", weights_only=True)
    assert ck["config"]["hue_turn"] is True and ck["config"]["hue_turn_from"] == 5
    assert "synthesis.hue_turn.linear.weight" in ck["G_ema"]
    error = run_error([*argv[:-2], "--hue-turn-from", "-1", "--hue-turn", *other], capsys)
    assert "hue_turn_from (--hue-turn-from) must be" in error
    error = run_error([*argv[:-2], "--pixel-d", "-1", *other], capsys)
    assert "pixel_d (--pixel-d) must be >= 0 (0: none), got -1.0" in error
    from sfvq_lib.gan.train import TrainConfig

    with pytest.raises(TypeError, match=r"coord_res \(--coord-res\) must be an integer, got 16.0"):
        TrainConfig(coord_res=16.0)
    with pytest.raises(ValueError, match=r"rgb_kernel \(--rgb-kernel\) is the StyleGAN's and must be 1 or 3"):
        TrainConfig(rgb_kernel=5)
    with pytest.raises(TypeError, match=r"rgb_kernel \(--rgb-kernel\) must be an integer, got 3.0"):
        TrainConfig(rgb_kernel=3.0)


def test_train_gan_passes_the_factor_reader_weight(tmp_path, monkeypatch, capsys):
    import sfvq_lib.gan.train as train

    monkeypatch.setattr(train, "_READER_WARMUP", 2)
    run = tmp_path / "run"
    argv = ["train-gan", "--steps", "1", "--batch-size", "4", "--factor-reader", "2", "-q", "--out", str(run)]
    assert main(argv) == 0
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ck["config"]["factor_reader"] == 2.0 and "reader" in ck
    run = tmp_path / "shape"
    assert (
        main([*argv[:-1], str(run), "--model", "biggan", "--reader-shape", "0.5", "--reader-from", "3"]) == 0
    )
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ck["config"]["reader_shape"] == 0.5 and ck["config"]["reader_from"] == 3 and "reader" not in ck
    run = tmp_path / "fakes"
    assert main([*argv[:-1], str(run), "--model", "biggan", "--reader-shape", "0.5", "--reader-fakes"]) == 0
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ck["config"]["reader_fakes"] and len(list(ck["judge"].values())[-1]) == 65  # + "generated"
    bad = run_error([*argv[:-1], str(tmp_path / "bad"), "--reader-fakes"], capsys)
    assert "reader_fakes (--reader-fakes) needs reader_shape (--reader-shape)" in bad


def test_train_gan_decays_the_learning_rates_late(tmp_path, capsys):
    from sfvq_lib.gan.train import TrainConfig, _lr_factor

    cfg = TrainConfig(steps=11, lr_decay=0.1, lr_decay_from=1)
    factors = [_lr_factor(cfg, step) for step in range(12)]
    assert factors[:2] == [1.0, 1.0] and factors[-1] == pytest.approx(0.1)
    assert all(a > b for a, b in zip(factors[1:-1], factors[2:], strict=True))
    assert _lr_factor(TrainConfig(steps=11), 10) == 1.0

    run = tmp_path / "run"
    argv = ["train-gan", "--model", "biggan", "--steps", "3", "--batch-size", "4", "-q", "--out", str(run)]
    assert main([*argv, "--lr", "2e-3", "--lr-decay", "0.1", "--lr-decay-from", "1"]) == 0
    ck = torch.load(run / "checkpoint.pt", weights_only=True)
    assert (ck["config"]["lr_decay"], ck["config"]["lr_decay_from"]) == (0.1, 1)
    # the last step (2) halfway from step 1 to the end: 1 - 0.9 / 2 of each rate
    assert ck["opt_g"]["param_groups"][0]["lr"] == pytest.approx(2e-3 * 0.55)
    assert ck["opt_d"]["param_groups"][0]["lr"] == pytest.approx(2e-3 * 16 / 17 * 0.55)
    for bad, say in (
        (["--lr-decay", "0"], "lr_decay (--lr-decay) must be in (0, 1]"),
        (["--lr-decay", "1.5"], "lr_decay (--lr-decay) must be in (0, 1]"),
        (["--lr-decay", "0.5", "--lr-decay-from", "3"], "must be below steps (--steps) 3, got 3"),
        (["--lr-decay-from", "-2"], "lr_decay_from (--lr-decay-from)"),
    ):
        assert say in run_error([*argv[:-1], str(tmp_path / "bad"), *bad], capsys)


def test_train_gan_sets_the_mapping_networks_learning_rate(tmp_path, capsys):
    from sfvq_lib.gan import load_generator
    from sfvq_lib.gan.train import _MODELS, TrainConfig

    argv = ["train-gan", "--steps", "3", "--batch-size", "4", "-q"]

    def moved(run):  # how far G's first mapping layer moved from its initial weights, relatively
        ck = torch.load(run / "checkpoint.pt", weights_only=True)
        cfg = TrainConfig(**ck["config"])
        torch.manual_seed(cfg.seed)
        w0 = _MODELS[cfg.model](**cfg.generator_init()).state_dict()["mapping.layers.0.weight"]
        return float((ck["G"]["mapping.layers.0.weight"] - w0).norm() / w0.norm()), cfg

    assert main([*argv, "--out", str(tmp_path / "nvidia")]) == 0
    assert main([*argv, "--mapping-lr-mult", "1", "--out", str(tmp_path / "full")]) == 0
    (slow, _), (fast, cfg) = moved(tmp_path / "nvidia"), moved(tmp_path / "full")
    assert cfg.generator_kwargs["mapping_kwargs"] == {"num_layers": 2, "lr_multiplier": 1.0}
    assert fast > 20 * slow > 0
    # the exported generator is built with it: its w are the checkpoint's
    g = load_generator(f"builtin:{tmp_path / 'full' / 'shapes-stylegan.pt'}")
    ck = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    G = _MODELS["stylegan"](**cfg.generator_init())
    G.load_state_dict(ck["G_ema"])
    z = torch.from_numpy(g.sample(3, space="z", seed=1))
    np.testing.assert_allclose(g.sample(3, seed=1), G.mapping(z, None)[:, 0].detach().numpy(), atol=1e-5)
    for bad in (
        ["--model", "biggan", "--mapping-lr-mult", "1"],
        ["--mapping-lr-mult", "0"],
        ["--mapping-lr-mult", "inf"],
    ):
        err = run_error([*argv, *bad, "--out", str(tmp_path / "bad")], capsys)
        assert "--mapping-lr-mult is for the StyleGAN (its mapping network) and must be > 0" in err

    # --mapping-boost: the mapping's Adam rate, from a step on; the generator is built as before
    assert (
        main([*argv, "--mapping-boost", "100", "--mapping-boost-from", "1", "--out", str(tmp_path / "b")])
        == 0
    )
    boosted, cfg = moved(tmp_path / "b")
    assert cfg.generator_kwargs == TrainConfig(model="stylegan").generator_kwargs
    assert (cfg.mapping_boost, cfg.mapping_boost_from) == (100, 1)
    assert boosted > 20 * slow
    groups = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)["opt_g"]["param_groups"]
    assert [g["mapping"] for g in groups] == [False, True] and groups[1]["lr"] == 100 * groups[0]["lr"]
    for bad, say in (
        (
            ["--model", "biggan", "--mapping-boost", "10"],
            "mapping_boost (--mapping-boost) is for the StyleGAN",
        ),
        (["--mapping-boost", "0"], "mapping_boost (--mapping-boost) is for the StyleGAN"),
        (["--mapping-boost-from", "5"], "mapping_boost_from (--mapping-boost-from) needs mapping_boost"),
        (["--mapping-boost", "2", "--mapping-boost-from", "-1"], "mapping_boost_from (--mapping-boost-from)"),
    ):
        assert say in run_error([*argv, *bad, "--out", str(tmp_path / "bad")], capsys)


def test_train_probe_with_colour_jitter(tmp_path):
    out = tmp_path / "probe.pt"
    assert main(["train-probe", "--steps", "2", "--jitter", "-q", "-o", str(out)]) == 0
    saved = torch.load(out, weights_only=True)
    assert saved["extra"]["jitter"] is True and saved["extra"]["steps"] == 2
    assert set(saved["extra"]["accuracy"]) >= {"shape", "obj_hue", "x"}
