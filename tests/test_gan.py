import math
from pathlib import Path

import numpy as np
import pytest
import torch

from sfvq_lib.baselines import SeFa
from sfvq_lib.gan import Generator, StyleGANAdapter, load_generator, save_builtin
from sfvq_lib.gan import adapter as adapter_module


@pytest.fixture(scope="module")
def ours():
    torch.manual_seed(0)
    return StyleGANAdapter(Generator(z_dim=32, w_dim=32, img_resolution=32), name="ours")


@pytest.fixture(scope="module")
def fake():
    return load_generator("python:tests.fake_nvidia:make")


@pytest.mark.parametrize("which", ["ours", "fake"])
def test_protocol(which, request):
    g = request.getfixturevalue(which)
    w = g.sample(5, space="w", seed=1)
    assert w.shape == (5, g.w_dim) and w.dtype == np.float32 and g.default_space == "w"
    z = g.sample(5, space="z", seed=1)
    assert z.shape == (5, g.z_dim)
    wp = g.sample(5, space="w+", seed=1)
    assert wp.shape == (5, g.num_ws, g.w_dim) and np.allclose(wp[:, 0], w)
    assert np.array_equal(g.sample(5, seed=1), w) and not np.array_equal(g.sample(5, seed=2), w)
    img = g.synthesize(w)
    assert img.shape == (5, 3, g.img_resolution, g.img_resolution)
    assert np.isfinite(img).all() and np.abs(img).max() < 10
    np.testing.assert_allclose(g.synthesize(wp), img, atol=1e-5)
    np.testing.assert_allclose(g.synthesize(z, space="z"), img, atol=1e-4)
    u8 = g.to_uint8(img)
    assert u8.dtype == np.uint8 and u8.shape == (5, g.img_resolution, g.img_resolution, 3)
    assert len(g.style_affine_weights()) >= 1 and g.style_affine_weights()[0].shape[1] == g.w_dim


def test_our_generator_sizes_match_nvidia_conventions():
    G = Generator(img_resolution=32)
    assert G.num_ws == 8 == 2 * 5 - 2 and G.mapping.num_ws == G.synthesis.num_ws == 8
    assert Generator(img_resolution=64).num_ws == 10
    assert G.mapping.w_avg.shape == (G.w_dim,)
    ws = G.mapping(torch.randn(2, G.z_dim), None, truncation_psi=0.5)
    assert ws.shape == (2, 8, G.w_dim)
    img = G.synthesis(ws, noise_mode="const")
    assert img.shape == (2, 3, 32, 32)
    assert torch.equal(img, G.synthesis(ws, noise_mode="const"))
    with pytest.raises(AssertionError, match="ws must be"):
        G.synthesis(ws[:, :3])


def test_orig_architecture_has_one_rgb_output_and_the_same_styles():
    torch.manual_seed(0)
    G = Generator(img_resolution=32, synthesis_kwargs={"architecture": "orig"})
    torgbs = [b.torgb is not None for b in G.synthesis.blocks]
    assert torgbs == [False, False, False, True] and G.num_ws == 8
    ws = G.mapping(torch.randn(2, G.z_dim), None)
    img = G.synthesis(ws)
    assert img.shape == (2, 3, 32, 32)
    # the last style feeds the one RGB output, every other style a convolution
    for i in range(G.num_ws):
        edited = ws.clone()
        edited[:, i] += 3.0
        assert not torch.allclose(G.synthesis(edited), img), f"style {i} has no effect"
    with pytest.raises(ValueError, match="architecture"):
        Generator(synthesis_kwargs={"architecture": "resnet"})


def test_truncation_pulls_w_toward_the_mean(ours):
    w1 = ours.sample(200, seed=0, truncation_psi=1.0)
    w0 = ours.sample(200, seed=0, truncation_psi=0.0)
    avg = ours.G.mapping.w_avg.numpy()
    np.testing.assert_allclose(w0, np.broadcast_to(avg, w0.shape), atol=1e-6)
    wh = ours.sample(200, seed=0, truncation_psi=0.5)
    np.testing.assert_allclose(wh, (w1 + avg) / 2, atol=1e-5)


def test_edit_touches_only_the_named_layers(ours):
    w = ours.sample(3, seed=0)
    d = np.zeros(ours.w_dim, np.float32)
    d[0] = 1.0
    out = ours.edit(w, d, layers=(2, 4), sigma=2.5)
    assert out.shape == (3, ours.num_ws, ours.w_dim)
    delta = out - w[:, None, :]
    assert np.allclose(delta[:, 2:5, 0], 2.5) and np.allclose(delta[:, 2:5, 1:], 0)
    assert np.allclose(delta[:, :2], 0) and np.allclose(delta[:, 5:], 0)
    joint = ours.edit(w, d, layers=[(0, 0), (6, 7)], sigma=1.0) - w[:, None, :]
    assert np.allclose(joint[:, [0, 6, 7], 0], 1) and np.allclose(joint[:, 1:6], 0)
    # editing only late layers changes the image less than editing all of them
    full = ours.synthesize(ours.edit(w, d * 0 + 1 / np.sqrt(ours.w_dim), sigma=3))
    late = ours.synthesize(ours.edit(w, d * 0 + 1 / np.sqrt(ours.w_dim), layers=(7, 7), sigma=3))
    base = ours.synthesize(w)
    assert np.abs(late - base).mean() < np.abs(full - base).mean()
    with pytest.raises(ValueError, match=r"0 <= l0 <= l1 <= 7"):
        ours.edit(w, d, layers=(3, 9))
    with pytest.raises(ValueError, match="direction must have 32 values"):
        ours.edit(w, d[:5])


def test_sefa_runs_on_style_weights(ours):
    s = SeFa(n_components=4).fit(ours.style_affine_weights())
    assert s.components_.shape == (4, ours.w_dim)


def test_builtin_file_roundtrip(tmp_path, monkeypatch):
    torch.manual_seed(1)
    kwargs = dict(z_dim=16, w_dim=16, img_resolution=16)
    G = Generator(**kwargs)
    monkeypatch.setattr(adapter_module, "BUILTIN_DIR", tmp_path)
    save_builtin(G, kwargs, tmp_path / "tiny.pt")
    g = load_generator("builtin:tiny")
    z = torch.randn(2, 16)
    expected = G.synthesis(G.mapping(z, None), noise_mode="const")
    np.testing.assert_allclose(g.synthesize(z.numpy(), space="z"), expected.detach().numpy(), atol=1e-5)
    # a corrupt file
    (tmp_path / "broken.pt").write_bytes(b"nope")
    with pytest.raises(ValueError, match="not a readable sfvq_lib.gan file"):
        load_generator("builtin:broken")
    with pytest.raises(ValueError, match=r"no built-in GAN 'missing'.*available: \['broken', 'tiny'\]"):
        load_generator("builtin:missing")


@pytest.mark.parametrize(
    "spec,match",
    [
        ("stylegan", "unknown GAN spec"),
        ("magic:thing", "unknown GAN spec"),
        ("python:no_such_module_xyz:make", "cannot import"),
        ("python:tests.fake_nvidia:nothing", "no callable"),
        ("python:tests.fake_nvidia", "python:MODULE:CALLABLE"),
    ],
)
def test_bad_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        load_generator(spec)


def test_spec_source_names_what_a_spec_reads(monkeypatch, tmp_path):
    from sfvq_lib.gan.adapter import BUILTIN_DIR, spec_source

    monkeypatch.setenv("HOME", str(tmp_path))
    assert spec_source("builtin:shapes-biggan") == BUILTIN_DIR / "shapes-biggan.pt"
    assert spec_source("builtin:~/run/g.pt") == tmp_path / "run" / "g.pt"
    assert spec_source("nvidia:~/ffhq.pkl") == tmp_path / "ffhq.pkl"
    assert spec_source("biggan:/models/b128") == Path("/models/b128")
    assert spec_source("python:tests.fake_nvidia:make") is None
    with pytest.raises(ValueError, match="unknown GAN spec"):
        spec_source("magic:thing")


def test_nvidia_pickle_needs_nvidia_modules(tmp_path, monkeypatch):
    monkeypatch.delenv("SFVQ_NVIDIA_REPO", raising=False)
    with pytest.raises(ValueError, match="needs NVIDIA's dnnlib and torch_utils.*--nvidia-repo"):
        load_generator(f"nvidia:{tmp_path / 'ffhq.pkl'}")


def test_nvidia_pickle_path_with_stand_in_modules(tmp_path, monkeypatch):
    """With dnnlib/torch_utils importable, an NVIDIA-style pickle's G_ema is used."""
    import pickle

    from tests.fake_nvidia import FakeG

    repo = tmp_path / "nvidia_repo"
    for pkg in ("dnnlib", "torch_utils"):
        (repo / pkg).mkdir(parents=True)
        (repo / pkg / "__init__.py").write_text("")
    monkeypatch.setattr("sys.path", list(__import__("sys").path))  # undo the repo's sys.path entry
    for name in ("dnnlib", "torch_utils"):
        monkeypatch.delitem(__import__("sys").modules, name, raising=False)
    pkl = tmp_path / "net.pkl"
    with open(pkl, "wb") as f:
        pickle.dump({"G_ema": FakeG(), "D": None}, f)
    g = load_generator(f"nvidia:{pkl}", nvidia_repo=repo)
    assert g.num_ws == 4 and g.synthesize(g.sample(2)).shape == (2, 3, 8, 8)
    with open(pkl, "wb") as f:
        pickle.dump({"G": 1}, f)
    with pytest.raises(ValueError, match="no 'G_ema' entry"):
        load_generator(f"nvidia:{pkl}", nvidia_repo=repo)
    with pytest.raises(FileNotFoundError, match="no such NVIDIA pickle"):
        load_generator(f"nvidia:{tmp_path / 'nope.pkl'}", nvidia_repo=repo)
    for name in ("dnnlib", "torch_utils"):
        __import__("sys").modules.pop(name, None)


def _tiny_config(steps):
    from sfvq_lib.gan.train import TrainConfig

    return TrainConfig(
        steps=steps,
        batch_size=4,
        resolution=16,
        z_dim=16,
        w_dim=16,
        r1_every=2,
        generator_kwargs={"synthesis_kwargs": {"channels": {4: 16, 8: 16, 16: 8}}},
    )


def test_training_steps_run_and_resume_identically(tmp_path):
    from sfvq_lib.gan.train import export_generator, train_gan

    a = train_gan(tmp_path / "a", _tiny_config(4), checkpoint_every=2, sample_every=0, progress=False)
    # stop after 2 steps, then continue to 4
    train_gan(tmp_path / "b", _tiny_config(2), checkpoint_every=2, sample_every=0, progress=False)
    b = train_gan(tmp_path / "b", _tiny_config(4), checkpoint_every=2, sample_every=0, progress=False)
    ca, cb = torch.load(a, weights_only=True), torch.load(b, weights_only=True)
    assert ca["step"] == cb["step"] == 4
    for k in ca["G_ema"]:
        assert torch.equal(ca["G_ema"][k], cb["G_ema"][k]), k
    assert any(not torch.equal(ca["G"][k], ca["G_ema"][k]) for k in ca["G"])  # EMA lags G
    weights = export_generator(a, tmp_path / "tiny.pt", name="tiny")
    from sfvq_lib.gan import adapter as adapter_module

    G, arch, _ = adapter_module._load_builtin_file(weights)
    assert arch == "stylegan"
    g = StyleGANAdapter(G)
    assert g.synthesize(g.sample(2)).shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="another configuration"):
        cfg = _tiny_config(6)
        cfg.lr = 0.1
        train_gan(tmp_path / "a", cfg, sample_every=0, progress=False)


def test_a_mapping_boost_from_a_later_step_resumes_a_run_without_it(tmp_path):
    from dataclasses import asdict

    from sfvq_lib.gan.train import train_gan

    def boosted(steps):
        cfg = _tiny_config(steps)
        cfg.mapping_boost, cfg.mapping_boost_from = 10.0, 2
        return cfg

    a = train_gan(tmp_path / "a", boosted(3), sample_every=0, progress=False)
    # a run without it to step 2 (its Adam in one group), then told of the boost from step 2 on
    b = train_gan(tmp_path / "b", _tiny_config(2), sample_every=0, progress=False)
    ck = torch.load(b, weights_only=True)
    assert len(ck["opt_g"]["param_groups"]) == 1
    torch.save({**ck, "config": asdict(boosted(2))}, b)
    b = train_gan(tmp_path / "b", boosted(3), sample_every=0, progress=False)
    ca, cb = torch.load(a, weights_only=True), torch.load(b, weights_only=True)
    for k in ca["G_ema"]:
        assert torch.equal(ca["G_ema"][k], cb["G_ema"][k]), k
    c = torch.load(
        train_gan(tmp_path / "c", _tiny_config(3), sample_every=0, progress=False), weights_only=True
    )
    differs = {k for k in ca["G"] if not torch.equal(ca["G"][k], c["G"][k])}
    assert differs and all(
        k.startswith("mapping.") for k in differs
    )  # one step boosted: only the mapping differs


def test_snapshots_are_loadable_generators_and_survive_a_resume(tmp_path):
    from sfvq_lib.gan.adapter import read_card
    from sfvq_lib.gan.train import train_gan

    cfg = _tiny_config(2)
    cfg.discriminator_kwargs = {"channels": {16: 4, 8: 8, 4: 8}}
    cfg.d_lr = 4 * cfg.lr  # two time-scales
    run = tmp_path / "run"
    train_gan(run, cfg, checkpoint_every=1, sample_every=0, progress=False, keep_every=1)
    cfg.steps = 4
    ckpt = train_gan(run, cfg, checkpoint_every=1, sample_every=0, progress=False, keep_every=2)
    shots = sorted(p.name for p in (run / "snapshots").iterdir())
    assert shots == [f"shapes-stylegan-00000{i}.pt" for i in (1, 2, 4)]
    ck = torch.load(ckpt, weights_only=True)
    assert ck["D"]["from_rgb.weight"].shape[0] == 4  # the discriminator kwargs were used
    lazy = cfg.r1_every / (cfg.r1_every + 1)
    assert ck["opt_g"]["param_groups"][0]["lr"] == cfg.lr
    assert ck["opt_d"]["param_groups"][0]["lr"] == pytest.approx(4 * cfg.lr * lazy)
    spec = f"builtin:{run / 'snapshots' / 'shapes-stylegan-000004.pt'}"
    g = load_generator(spec)
    for k, v in ck["G_ema"].items():
        assert torch.equal(g.G.state_dict()[k], v), k
    assert read_card(spec)["steps"] == 4
    early = load_generator(f"builtin:{run / 'snapshots' / 'shapes-stylegan-000001.pt'}")
    assert any(not torch.equal(v, ck["G_ema"][k]) for k, v in early.G.state_dict().items())
    with pytest.raises(ValueError, match="no weights file .*nope.pt"):
        load_generator(f"builtin:{tmp_path / 'nope.pt'}")
    with pytest.raises(ValueError, match="keep_every must be >= 0"):
        train_gan(run, cfg, progress=False, keep_every=-1)


def test_pixel_norm_keeps_features_at_unit_scale():
    from sfvq_lib.gan.stylegan import SynthesisLayer

    torch.manual_seed(0)
    layer = SynthesisLayer(8, 8, 16, 8, use_noise=False, pixel_norm=True)
    y = layer(torch.randn(4, 8, 8, 8) * 0.1, torch.randn(4, 16))  # small input activations
    torch.testing.assert_close(y.square().mean(1), torch.ones(4, 8, 8), rtol=1e-3, atol=1e-3)


def test_sigterm_stops_training_with_a_checkpoint(tmp_path, monkeypatch):
    import os
    import signal

    from sfvq_lib.gan import train

    batch_rng = train._batch_rng

    def rng_then_terminate(seed, step, stream):
        if (step, stream) == (2, 0):  # the start of step 2, in the training loop: `kill` now
            os.kill(os.getpid(), signal.SIGTERM)
        return batch_rng(seed, step, stream)

    monkeypatch.setattr(train, "_batch_rng", rng_then_terminate)
    with pytest.raises(KeyboardInterrupt):
        train.train_gan(
            tmp_path / "run", _tiny_config(100), checkpoint_every=10**9, sample_every=0, progress=False
        )
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] == 2
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler was put back


def test_shape_loss_rewards_clear_and_balanced_shapes():
    from sfvq_lib.gan.train import _shape_loss

    clear = torch.eye(4).repeat(2, 1) * 20  # each image one shape, every shape as often
    assert float(_shape_loss(clear, None)) == pytest.approx(-math.log(4), abs=1e-6)
    one_shape = torch.zeros(8, 4)
    one_shape[:, 0] = 20  # clear, but always the same shape
    unsure = torch.zeros(8, 4)  # every shape equally likely for every image
    assert float(_shape_loss(one_shape, None)) > -math.log(4) + 1
    assert float(_shape_loss(unsure, None)) > -math.log(4) + 1
    c = torch.nn.functional.one_hot(torch.arange(8) % 4, 4).float()  # conditional: the asked-for class
    assert float(_shape_loss(clear, c)) < 1e-6 < float(_shape_loss(clear.roll(1, 1), c))


def test_mode_seeking_loss_penalises_images_that_ignore_z():
    from sfvq_lib.gan.train import _mode_seeking_loss

    z = torch.randn(8, 16, generator=torch.Generator().manual_seed(0))
    varied = torch.randn(8, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    same = varied[:1].expand(8, -1, -1, -1)  # every z the same image
    assert float(_mode_seeking_loss(same, z)) > 1e4 > 10 * float(_mode_seeking_loss(varied, z))
    assert float(_mode_seeking_loss(2 * varied, z)) == pytest.approx(
        float(_mode_seeking_loss(varied, z)) / 2, rel=1e-4
    )


@pytest.mark.parametrize(
    "model, extra",
    [
        ("stylegan", {}),
        ("biggan", {}),
        ("stylegan", {"mode_seeking": 1.0}),
        ("biggan", {"mode_seeking": 1.0}),
    ],
)
def test_training_with_the_shape_head(tmp_path, model, extra):
    from sfvq_lib.gan.train import train_gan

    cfg = _tiny_config(2)
    cfg.shape_aux = 1.0
    for k, v in extra.items():
        setattr(cfg, k, v)
    if model == "biggan":
        cfg.model, cfg.generator_kwargs = "biggan", {"embed_dim": 8, "channels": {4: 16, 8: 16, 16: 8}}
    ck = torch.load(
        train_gan(tmp_path, cfg, checkpoint_every=1, sample_every=0, progress=False), weights_only=True
    )
    assert ck["D"]["aux.weight"].shape[0] == 4 and ck["step"] == 2
    assert all(torch.isfinite(torch.tensor([r["loss_g"], r["loss_d"]])).all() for r in ck["log"])


def test_discriminator_warm_up_fits_the_shapes_it_is_shown():
    from sfvq_lib.data import ShapesDataset
    from sfvq_lib.gan.stylegan import Discriminator
    from sfvq_lib.gan.train import TrainConfig, _warm_up_discriminator

    cfg = TrainConfig(batch_size=8, shape_aux=1.0, d_warmup=40, d_warmup_lr=5e-3, augment="")
    torch.manual_seed(0)
    D = Discriminator(img_resolution=16, channels={16: 8, 8: 16, 4: 16}, aux_classes=4)
    batch = ShapesDataset(16).sample(8, [cfg.seed, 0, 1])

    class OneBatch:  # the same 8 images at every step: the warm-up must fit them
        def sample(self, n, seed):
            assert n == 8
            return batch

    x, y = torch.from_numpy(batch[0]), torch.from_numpy(batch[1]["shape"]).long()

    def loss():
        with torch.no_grad():
            return float(torch.nn.functional.cross_entropy(D(x, aux=True)[1], y))

    before = loss()
    _warm_up_discriminator(D, OneBatch(), cfg, torch.device("cpu"), progress=False)
    assert loss() < 0.5 * before
    with pytest.raises(ValueError, match="needs shape_aux"):
        TrainConfig(d_warmup=10)
    with pytest.raises(ValueError, match="shape_aux .* must be >= 0"):
        TrainConfig(shape_aux=-1.0)


def test_affine_warp_shifts_and_turns_feature_maps():
    from sfvq_lib.gan.stylegan import affine_warp

    x = torch.randn(2, 3, 8, 8)
    assert torch.allclose(affine_warp(x, torch.zeros(2, 3)), x, atol=1e-6)
    hot = torch.zeros(1, 1, 8, 8)
    hot[0, 0, 2, 5] = 1.0
    pixel = 2 / 8  # one pixel in normalized coordinates
    moved = affine_warp(hot, torch.tensor([[0.0, 2 * pixel, -pixel]]))  # output(p) = x(p + shift)
    assert moved[0, 0, 3, 3] == pytest.approx(1.0) and moved.sum() == pytest.approx(1.0)
    turned = affine_warp(x, torch.tensor([[math.pi / 2, 0.0, 0.0]] * 2))
    assert torch.allclose(turned, torch.rot90(x, 1, dims=(2, 3)), atol=1e-5)


def _small_generator(model, **warp):
    from sfvq_lib.gan.biggan import BigGAN

    torch.manual_seed(0)
    if model == "stylegan":
        return Generator(z_dim=16, w_dim=16, img_resolution=16, synthesis_kwargs=warp)
    return BigGAN(z_dim=16, embed_dim=8, img_resolution=16, **warp)


def _plain_and_warped(model, **warp):
    """A small generator without and with ``warp`` (the same weights elsewhere), the names of the
    warp's weights, and a function running a generator on fixed inputs."""
    plain, warped = _small_generator(model), _small_generator(model, **warp)
    missing, unexpected = warped.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected
    z = torch.randn(3, 16)
    c = torch.nn.functional.one_hot(torch.arange(3), 4).float()
    return plain, warped, missing, (lambda G: G(z, None)) if model == "stylegan" else (lambda G: G(z, c))


@pytest.mark.parametrize("model", ["stylegan", "biggan"])
def test_a_warp_starts_as_no_warp_and_moves_the_objects(model):
    plain, warped, missing, run = _plain_and_warped(model, warp_res=8)
    assert missing and all(".warp." in "." + k for k in missing)
    with torch.no_grad():
        assert torch.allclose(run(warped), run(plain), atol=1e-5)
        layer = warped.synthesis.blocks[1].warp if model == "stylegan" else warped.warp
        layer.bias.copy_(torch.tensor([0.0, 0.5, 0.0]))  # shift by a quarter of the width
        assert (run(warped) - run(plain)).abs().mean() > 0.01
    with pytest.raises(ValueError, match="warp_res must be 0"):
        _small_generator(model, warp_res=64 if model == "biggan" else 4)


@pytest.mark.parametrize("model", ["stylegan", "biggan"])
def test_an_image_warp_starts_as_none_and_turns_the_finished_image(model):
    plain, warped, missing, run = _plain_and_warped(model, warp_image=True)
    assert missing and all("image_warp." in k for k in missing)
    with torch.no_grad():
        assert torch.allclose(run(warped), run(plain), atol=1e-5)
        layer = warped.synthesis.image_warp if model == "stylegan" else warped.image_warp
        layer.bias.copy_(torch.tensor([math.pi / 2, 0.0, 0.0]))  # a quarter turn of the whole image
        assert torch.allclose(run(warped), torch.rot90(run(plain), 1, dims=(2, 3)), atol=1e-4)


@pytest.mark.parametrize("model", ["stylegan", "biggan"])
def test_coordinate_channels_reach_the_convolutions_of_the_blocks_named(model):
    from sfvq_lib.gan.stylegan import with_coords

    grid = with_coords(torch.zeros(2, 1, 3, 4))
    assert grid.shape == (2, 3, 3, 4)
    assert torch.equal(grid[1, 1, 2], torch.linspace(-1, 1, 4))  # x along the width
    assert torch.equal(grid[1, 2, :, 3], torch.linspace(-1, 1, 3))  # y along the height
    plain, coord = _small_generator(model), _small_generator(model, coord_res=16)
    blocks = (lambda g: g.synthesis.blocks) if model == "stylegan" else (lambda g: g.blocks)
    extra = [
        [
            b.conv1.weight.shape[1] - a.conv1.weight.shape[1],
            (b.conv0 or b.conv1).weight.shape[1] - (a.conv0 or a.conv1).weight.shape[1],
        ]
        for a, b in zip(blocks(plain), blocks(coord), strict=True)
    ]
    # the blocks below 16 px read none, the 16-px block two more channels in both convolutions
    assert extra == ([[0, 0]] * (2 if model == "stylegan" else 1)) + [[2, 2]]
    state = plain.state_dict()
    gain = {k: m.weight_gain for k, m in plain.named_modules() if hasattr(m, "weight_gain")}  # 1/√fan-in
    z, c = torch.randn(3, 16), torch.eye(4)[:3]
    run = (lambda g: g(z, None, noise_mode="const")) if model == "stylegan" else (lambda g: g(z, c))
    with torch.no_grad():  # plain's weights, zero on the coordinate channels: the same generator
        for name, p in coord.named_parameters():
            module, kind = name.rsplit(".", 1)
            scale = (
                gain[module] / coord.get_submodule(module).weight_gain
                if kind == "weight" and module in gain
                else 1
            )
            p.zero_()[tuple(slice(0, s) for s in state[name].shape)] = state[name] * scale
        for name, b in coord.named_buffers():
            b.copy_(plain.get_buffer(name))
        assert torch.allclose(run(coord), run(plain), atol=1e-5)
        blocks(coord)[-1].conv1.weight[:, -2:] = 1.0  # now the pixel's position counts
        assert (run(coord) - run(plain)).abs().mean() > 0.01
    with pytest.raises(
        ValueError,
        match=r"coord_res must be 0 or one of the generator's block resolutions \[8, 16\], got 12",
    ):
        _small_generator(model, coord_res=12)


@pytest.mark.parametrize("demodulate", [True, False])
def test_fixed_inputs_of_a_modulated_convolution_are_channels_appended_to_every_sample(demodulate):
    from sfvq_lib.gan.stylegan import modulated_conv2d, with_coords

    torch.manual_seed(0)
    x, weight, styles = torch.randn(5, 6, 8, 8), torch.randn(4, 8, 3, 3), torch.randn(5, 6)
    fixed = with_coords(x[:1, :0])
    appended = modulated_conv2d(
        with_coords(x), weight, torch.cat([styles, torch.full((5, 2), 0.3)], 1), demodulate=demodulate
    )
    out = modulated_conv2d(x, weight, styles, demodulate=demodulate, fixed=fixed, fixed_style=0.3)
    assert torch.allclose(out, appended, atol=1e-5)
    other = modulated_conv2d(x, weight, styles, demodulate=demodulate, fixed=fixed, fixed_style=0.6)
    assert (other - appended).abs().mean() > 0.01


def test_a_3x3_rgb_output_starts_from_the_1x1_one_and_reads_the_neighbours():
    plain, wide = _small_generator("stylegan"), _small_generator("stylegan", rgb_kernel=3)
    torgb = wide.synthesis.blocks[-1].torgb
    assert torgb.weight.shape == (3, 64, 3, 3)
    state = plain.state_dict()
    for i, (a, b) in enumerate(zip(plain.synthesis.blocks, wide.synthesis.blocks, strict=True)):
        key = f"synthesis.blocks.{i}.torgb.weight"  # the 1x1 kernel at the centre, rescaled: the same
        centre = torch.zeros_like(b.torgb.weight)
        centre[:, :, 1, 1] = state[key][:, :, 0, 0] * a.torgb.weight_gain
        state[key] = centre / b.torgb.weight_gain
    wide.load_state_dict(state)
    z = torch.randn(3, 16)
    with torch.no_grad():
        assert torch.allclose(
            wide(z, None, noise_mode="const"), plain(z, None, noise_mode="const"), atol=1e-5
        )
        torgb.weight[:, :, 0, 0] = 1.0  # now a pixel's upper-left neighbour counts
        assert (wide(z, None, noise_mode="const") - plain(z, None, noise_mode="const")).abs().mean() > 0.01
    with pytest.raises(ValueError, match="rgb_kernel must be 1 or 3, got 2"):
        _small_generator("stylegan", rgb_kernel=2)


def test_a_uniform_warp_spreads_its_parameters_uniformly_over_z():
    from sfvq_lib.gan.stylegan import UniformWarp, warp_predictor

    z_dim, n = 16, 20000
    g = torch.Generator().manual_seed(0)
    cond = torch.cat([torch.randn(n, z_dim, generator=g), torch.ones(n, 4)], 1)  # z, then a class part
    warp = UniformWarp(z_dim + 4, z_dim)
    with torch.no_grad():
        assert torch.equal(warp(cond), torch.zeros(n, 3))  # amp 0: no warp
        warp.amp.copy_(torch.tensor([0.5, 0.3, 0.1]))
        warp.weight[:, z_dim:] = 0.05
        out = warp(cond) - 0.2  # the class part: 4 × 0.05
        linear = warp_predictor(z_dim + 4)
        linear.weight[:, 0] = 0.5 / 3**0.5  # each parameter z[0] × the uniform's standard deviation
        normal = linear(cond)
    for i, amp in enumerate([0.5, 0.3, 0.1]):
        assert out[:, i].abs().max() <= amp
        share = torch.histc(out[:, i], 10, -amp, amp) / n
        assert (share - 0.1).abs().max() < 0.01  # uniform
    # a linear map of z of the same spread bunches mid-range
    assert (torch.histc(normal[:, 0], 10, -0.5, 0.5) / n)[4:6].sum() > 0.25


def test_a_biggan_with_uniform_warps(tmp_path):
    from sfvq_lib.gan.train import TrainConfig, _randomize_warp_angle

    plain, warped, missing, run = _plain_and_warped("biggan", warp_res=8, warp_image=True, warp_uniform=True)
    assert sorted(missing) == sorted(
        f"{w}.{p}" for w in ("warp", "image_warp") for p in ("weight", "bias", "amp")
    )
    with torch.no_grad():
        assert torch.allclose(run(warped), run(plain), atol=1e-5)  # amp 0: no warp
    _randomize_warp_angle(warped, 0.3, image=True)
    assert (
        float(warped.image_warp.amp[0].detach()) == pytest.approx(0.3 * 3**0.5)
        and float(warped.warp.amp.detach().abs().sum()) == 0
    )
    with torch.no_grad():
        assert (run(warped) - run(plain)).abs().mean() > 0.01
    with pytest.raises(AssertionError, match="warp_uniform needs warp_res or warp_image"):
        _small_generator("biggan", warp_uniform=True)
    cfg = _tiny_biggan(_tiny_config(1))
    cfg.warp_res, cfg.generator_kwargs["warp_uniform"] = 8, True
    assert TrainConfig(**{**cfg.__dict__}).generator_init()["warp_uniform"] is True


@pytest.mark.parametrize("model", ["stylegan", "biggan", "biggan-uniform"])
def test_training_with_a_warp_writes_a_loadable_generator(tmp_path, model):
    from sfvq_lib.gan.train import export_generator, train_gan

    cfg = _tiny_config(2)
    cfg.warp_res = 8
    if model.startswith("biggan"):
        cfg.model, cfg.generator_kwargs = "biggan", {"embed_dim": 8, "channels": {4: 16, 8: 16, 16: 8}}
        cfg.warp_uniform = model == "biggan-uniform"
    ck = train_gan(tmp_path, cfg, checkpoint_every=1, sample_every=0, progress=False)
    g_ema = torch.load(ck, weights_only=True)["G_ema"]
    assert any(".warp." in "." + k for k in g_ema) and ("warp.amp" in g_ema) == cfg.warp_uniform
    g = load_generator(f"builtin:{export_generator(ck, tmp_path / 'w.pt', name='w')}")
    assert np.isfinite(
        g.synthesize(g.sample(2, seed=0), **({"class_": [0, 1]} if model != "stylegan" else {}))
    ).all()


def _tiny_biggan(cfg):
    cfg.model, cfg.generator_kwargs = "biggan", {"embed_dim": 8, "channels": {4: 16, 8: 16, 16: 8}}
    return cfg


@pytest.mark.parametrize("model", ["stylegan", "biggan"])
def test_the_twin_head_learns_on_fakes_and_changes_what_g_learns(tmp_path, model):
    from sfvq_lib.gan.train import train_gan

    def run(twin):
        cfg = _tiny_config(1)
        cfg.shape_aux, cfg.twin_aux, cfg.r1_gamma = 1.0, twin, 0.0
        if model == "biggan":
            _tiny_biggan(cfg)
        else:
            cfg.conditional = True
        out = tmp_path / f"{model}-{twin}"
        return torch.load(train_gan(out, cfg, sample_every=0, progress=False), weights_only=True)

    with_twin, without = run(True), run(False)
    assert "twin.weight" in with_twin["D"] and "twin.weight" not in without["D"]
    # D's other weights start equal (the twin head is built last): the twin's loss moved them
    assert not torch.equal(with_twin["D"]["final_fc.weight"], without["D"]["final_fc.weight"])
    g0, g1 = with_twin["G"], without["G"]
    assert g0.keys() == g1.keys() and any(not torch.equal(g0[k], g1[k]) for k in g0)


def test_g_pays_the_twin_term_only_beside_the_ac_term(tmp_path, monkeypatch):
    """Once the factor reader judges the shape, G pays neither of D's shape heads: the twin's term
    alone would pay G for shapes the twin cannot tell apart."""
    import sfvq_lib.gan.train as train
    from sfvq_lib.gan.train import train_gan

    monkeypatch.setattr(train, "_READER_WARMUP", 2)
    cfg = _tiny_config(2)
    cfg.conditional, cfg.shape_aux, cfg.twin_aux, cfg.r1_gamma = True, 1.0, True, 0.0
    cfg.factor_reader, cfg.reader_from = 1.0, 1
    g = {}
    for judges in (True, False):
        cfg.reader_shape, cfg.steps = float(judges), 2
        base = tmp_path / f"judges-{judges}"
        train_gan(base, cfg, sample_every=0, progress=False)  # the reader counts from step 1
        ck = torch.load(base / "checkpoint.pt", weights_only=True)
        cfg.steps = 3  # one more step, from D's twin head as it is and from another one
        for twin in ("as is", "other"):
            if twin == "other":
                ck["D"]["twin.weight"] = torch.randn_like(ck["D"]["twin.weight"])
            (tmp_path / twin / str(judges)).mkdir(parents=True)
            torch.save(ck, tmp_path / twin / str(judges) / "checkpoint.pt")
            out = train_gan(tmp_path / twin / str(judges), cfg, sample_every=0, progress=False)
            g[judges, twin] = torch.load(out, weights_only=True)["G"]
    assert all(torch.equal(g[True, "as is"][k], g[True, "other"][k]) for k in g[True, "as is"])
    assert any(not torch.equal(g[False, "as is"][k], g[False, "other"][k]) for k in g[False, "as is"])


def test_the_colour_loss_compares_the_pixels_values():
    from sfvq_lib.data import ShapesDataset
    from sfvq_lib.gan.train import TrainConfig, _colour_loss, _value

    real = torch.from_numpy(ShapesDataset(16).sample(8, seed=0)[0])
    v = _value(real)
    assert v.shape == (8 * 16 * 16,) and float(v.min()) >= 0 and float(v.max()) <= 1
    # HSV value: the largest channel, in [0, 1]
    pixels = torch.tensor([[1.0, -1.0, 0.0], [-1.0, -1.0, -1.0], [0.0, -1.0, -1.0]])[:, :, None, None]
    assert torch.allclose(_value(pixels), torch.tensor([1.0, 0.0, 0.5]))  # red-ish, black, dark red
    assert float(_colour_loss(real, real)) == 0.0
    # the same images in another order: the same values; darker ones: not; greyer ones of the
    # same value: the same (the saturation is not compared)
    assert float(_colour_loss(real.flip(0), real)) == 0.0
    assert float(_colour_loss(real * 0.8 - 0.2, real)) > 0.05
    greyer = real.amax(1, keepdim=True).expand_as(real)
    assert float(_colour_loss(greyer, real)) == 0.0
    fake = (real * 0.8 - 0.2).requires_grad_(True)
    _colour_loss(fake, real).backward()
    assert fake.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="colour_match .* must be >= 0"):
        TrainConfig(colour_match=-1.0)
    with pytest.raises(ValueError, match="colour_match_from .* needs colour_match"):
        TrainConfig(colour_match_from=10)


def test_the_colour_loss_changes_g_from_its_step_on(tmp_path):
    from sfvq_lib.gan.train import train_gan

    def run(name, weight, start):
        cfg = _tiny_config(2)
        cfg.colour_match, cfg.colour_match_from = weight, start
        return torch.load(train_gan(tmp_path / name, cfg, sample_every=0, progress=False), weights_only=True)[
            "G"
        ]

    plain, late, on = run("plain", 0.0, 0), run("late", 10.0, 2), run("on", 10.0, 1)
    assert all(torch.equal(plain[k], late[k]) for k in plain)  # steps 0 and 1 come before step 2
    assert any(not torch.equal(plain[k], on[k]) for k in plain)


def test_turn_hue_keeps_value_and_saturation_and_wraps():
    import colorsys

    from sfvq_lib.data import ShapesDataset
    from sfvq_lib.gan.stylegan import turn_hue

    x = torch.from_numpy(ShapesDataset(16).sample(8, 1)[0])
    torch.testing.assert_close(turn_hue(x, torch.zeros(8)), x, atol=1e-5, rtol=0)
    red = torch.tensor([0.9, -0.715, -0.715]).reshape(1, 3, 1, 1)
    green = torch.tensor([-0.715, 0.9, -0.715]).reshape(1, 3, 1, 1)
    torch.testing.assert_close(turn_hue(red, torch.tensor([1 / 3])), green)
    torch.testing.assert_close(turn_hue(red, torch.tensor([-2 / 3])), green)  # the same, the other way
    turned = turn_hue(x, torch.full((8,), 0.37))
    before = [colorsys.rgb_to_hsv(*p.tolist()) for p in ((x + 1) / 2).permute(0, 2, 3, 1).reshape(-1, 3)]
    after = [colorsys.rgb_to_hsv(*p.tolist()) for p in ((turned + 1) / 2).permute(0, 2, 3, 1).reshape(-1, 3)]
    for (h, s_, v), (h2, s2, v2) in zip(before, after, strict=True):
        assert abs(s_ - s2) < 1e-5 and abs(v - v2) < 1e-5  # a rotation about grey would change them
        assert s_ < 1e-3 or min(abs((h2 - h) % 1 - 0.37), 1 - abs((h2 - h) % 1 - 0.37)) < 1e-4
    xx = x.clone().requires_grad_(True)
    turn = torch.zeros(8, requires_grad=True)
    turn_hue(xx, turn).sum().backward()
    torch.testing.assert_close(xx.grad, torch.ones_like(x), atol=1e-4, rtol=0)  # no turn: the identity


def test_a_hue_turning_stylegan_starts_as_the_plain_one_and_can_wrap():
    from sfvq_lib.gan.stylegan import Generator, HueTurn

    kwargs = dict(z_dim=8, w_dim=8, img_resolution=8, img_channels=3)
    plain = Generator(**kwargs, synthesis_kwargs={"channels": {4: 8, 8: 8}})
    turning = Generator(**kwargs, synthesis_kwargs={"channels": {4: 8, 8: 8}, "hue_turn": True})
    missing, unexpected = turning.load_state_dict(plain.state_dict(), strict=False)
    assert sorted(missing) == ["synthesis.hue_turn.linear.bias", "synthesis.hue_turn.linear.weight"]
    assert not unexpected and turning.num_ws == plain.num_ws
    ws = plain.mapping(torch.randn(4, 8), None)
    torch.testing.assert_close(
        turning.synthesis(ws, noise_mode="const"), plain.synthesis(ws, noise_mode="const")
    )
    turn = HueTurn(2)
    with torch.no_grad():
        turn.linear.weight.copy_(torch.eye(2) * 100)
    angles = turn(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.01], [-1.0, -0.01], [0.0, -1.0]]))
    assert angles[0].abs() < 1e-6 and abs(angles[1] - 0.25) < 0.01 and abs(angles[4] + 0.25) < 0.01
    assert angles[2] > 0.49 and angles[3] < -0.49  # round the back of the circle: every turn is reached
    from sfvq_lib.gan.train import TrainConfig

    assert TrainConfig(hue_turn=True).generator_init()["synthesis_kwargs"]["hue_turn"] is True
    with pytest.raises(ValueError, match="hue_turn .* is for the StyleGAN"):
        TrainConfig(model="biggan", hue_turn=True)


def _checkpoint_of_tiny(folder, steps=3, **fields):
    """The checkpoint of a tiny run (``_tiny_config`` with ``fields``) in ``folder``, one saved every step."""
    from dataclasses import replace

    from sfvq_lib.gan.train import train_gan

    cfg = replace(_tiny_config(steps), **fields)
    path = train_gan(folder, cfg, checkpoint_every=1, sample_every=0, progress=False)
    return torch.load(path, weights_only=True)


def test_the_hue_turn_counts_from_its_step_and_resumes(tmp_path):
    from sfvq_lib.gan.train import TrainConfig

    def run(name, turn, start, steps=3):
        return _checkpoint_of_tiny(tmp_path / name, steps, hue_turn=turn, hue_turn_from=start)["G"]

    plain, late, on = run("plain", False, 0), run("late", True, 3), run("on", True, 1)
    turn = ["synthesis.hue_turn.linear.weight", "synthesis.hue_turn.linear.bias"]
    assert sorted(set(late) - set(plain)) == sorted(turn)
    assert all(torch.equal(plain[k], late[k]) for k in plain)  # steps 0-2 as without the turn
    assert all(not late[k].any() for k in turn) and on[turn[0]].any()  # it learns from its step
    assert any(not torch.equal(plain[k], on[k]) for k in plain)
    run("parts", True, 1, steps=2)  # stopped after 2 steps, then continued: as in one go
    parts = run("parts", True, 1)
    assert all(torch.equal(on[k], parts[k]) for k in on)
    with pytest.raises(ValueError, match=r"hue_turn_from \(--hue-turn-from\) needs hue_turn"):
        TrainConfig(hue_turn_from=10)


def test_the_pixel_discriminator_tells_a_darker_object_colour_apart():
    import torch.nn.functional as F

    from sfvq_lib.data import ShapesDataset
    from sfvq_lib.gan.train import PixelDiscriminator, _pixel_step

    torch.manual_seed(0)
    real = torch.from_numpy(ShapesDataset(16).sample(32, 3)[0])
    # the same images with every bright (object) pixel 0.2 darker (of 1): the objects' value falls off
    # the renders' one, while the backgrounds and the outline stay the same
    darker = torch.where(real.amax(1, keepdim=True) > 0.7, real - 0.4, real)
    pixel_d = PixelDiscriminator()
    opt = torch.optim.Adam(pixel_d.parameters(), lr=2e-3, betas=(0.0, 0.99))
    for _ in range(200):
        _pixel_step(pixel_d, opt, real, darker)
    with torch.no_grad():
        s_real, s_dark = pixel_d(real), pixel_d(darker)
    assert s_real.shape == (32, 1, 16, 16)
    changed = (darker != real).any(1, keepdim=True)
    assert s_real[changed].mean() > s_dark[changed].mean() + 2  # a pixel's colour tells them apart
    # its G loss pulls the darker pixels brighter
    fake = darker.clone().requires_grad_(True)
    F.softplus(-pixel_d(fake)).mean().backward()
    assert fake.grad[changed.expand_as(fake)].mean() < 0  # descending brightens them
    assert not pixel_d.net[0].weight.requires_grad  # _pixel_step leaves it frozen for G's step


def test_the_pixel_discriminator_counts_from_its_step_and_resumes(tmp_path):
    from sfvq_lib.gan.train import TrainConfig

    def run(name, weight, start, steps=3):
        return _checkpoint_of_tiny(tmp_path / name, steps, pixel_d=weight, pixel_d_from=start)

    plain, late, on = run("plain", 0.0, 0), run("late", 1.0, 3), run("on", 1.0, 1)
    assert all(torch.equal(plain["G"][k], late["G"][k]) for k in plain["G"])  # steps 0-2 before 3
    assert "pixel_d" not in late and "pixel_d" in on
    assert any(not torch.equal(plain["G"][k], on["G"][k]) for k in plain["G"])
    run("parts", 1.0, 1, steps=2)  # stopped after 2 steps, then continued: as in one go
    parts = run("parts", 1.0, 1)
    assert all(torch.equal(on["G"][k], parts["G"][k]) for k in on["G"])
    assert all(torch.equal(on["pixel_d"][k], parts["pixel_d"][k]) for k in on["pixel_d"])
    with pytest.raises(ValueError, match="pixel_d .* must be >= 0"):
        TrainConfig(pixel_d=-1.0)
    with pytest.raises(ValueError, match="pixel_d_from .* needs pixel_d"):
        TrainConfig(pixel_d_from=10)
    with pytest.raises(ValueError, match=r"pixel_d_size \(--pixel-d-size\) must be 1, 3 or 5, got 4"):
        TrainConfig(pixel_d=1.0, pixel_d_size=4)


def test_a_patch_discriminator_sees_a_blurred_outline():
    import torch.nn.functional as F

    from sfvq_lib.data import ShapesDataset
    from sfvq_lib.gan.train import PixelDiscriminator, _pixel_step

    real = torch.from_numpy(ShapesDataset(16).sample(32, 3)[0])
    blurred = F.avg_pool2d(F.pad(real, (1, 1, 1, 1), mode="replicate"), 3, stride=1)  # the same colours, soft
    edge = ((blurred - real).abs().amax(1, keepdim=True) > 0.1).expand(-1, 1, -1, -1)  # where it differs
    scores = {}
    for size in (1, 5):
        torch.manual_seed(0)
        pixel_d = PixelDiscriminator(size=size)
        assert pixel_d(real).shape == (32, 1, 16, 16)
        opt = torch.optim.Adam(pixel_d.parameters(), lr=2e-3, betas=(0.0, 0.99))
        for _ in range(150):
            _pixel_step(pixel_d, opt, real, blurred)
        with torch.no_grad():
            scores[size] = float(pixel_d(real)[edge].mean() - pixel_d(blurred)[edge].mean())
    # a blurred outline is made of blends of its two colours, as a rendered one's edge pixel is:
    # one pixel's colour hardly tells them apart, its neighbourhood does
    assert scores[5] > 1.5 and scores[5] > 2 * scores[1], scores


def test_a_conditional_stylegan_trains_and_loads_with_its_classes(tmp_path):
    from sfvq_lib.gan.train import export_generator, sample_images, train_gan

    cfg = _tiny_config(2)
    cfg.conditional, cfg.shape_aux, cfg.twin_aux, cfg.mode_seeking = True, 1.0, True, 1.0
    ck = train_gan(tmp_path, cfg, checkpoint_every=1, sample_every=2, progress=False)
    assert (tmp_path / "samples-000002.png").exists()
    g = load_generator(f"builtin:{export_generator(ck, tmp_path / 'c.pt', name='c')}")
    assert g.c_dim == 4 and g.sample(3, seed=1).shape == (3, 16)
    assert g.class_names == ["square", "disc", "triangle", "heart"]  # from the weights file
    w0, w1 = g.sample(3, seed=1, class_=0), g.sample(3, seed=1, class_=1)
    assert not np.allclose(w0, w1)  # the mapping network reads the class
    with pytest.raises(ValueError, match="class_ must lie in 0..3"):
        g.sample(1, class_=4)
    images = sample_images(g, 8, seed=5)  # the classes take turns: image 5 is class 1
    assert images.shape == (8, 16, 16, 3)
    assert np.array_equal(images[5], g.to_uint8(g.synthesize(g.sample(8, seed=5, class_=[1] * 8)))[5])


def test_the_class_skip_adds_one_learned_vector_per_class_to_w():
    from sfvq_lib.gan.stylegan import MappingNetwork

    torch.manual_seed(0)
    plain = MappingNetwork(8, 4, 16, num_ws=3, num_layers=2)
    skip = MappingNetwork(8, 4, 16, num_ws=3, num_layers=2, class_skip=True)
    missing = skip.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert missing == ["skip.weight", "skip.bias"]  # the plain mapping's weights, plus the skip's
    z = torch.randn(6, 8)
    c = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 3, 1, 2]), 4).float()
    diff = skip(z, c) - plain(z, c)  # [6, num_ws, w_dim]
    assert torch.allclose(diff, skip.skip(c)[:, None].expand_as(diff), atol=1e-6)
    # the same vector for every z of a class, and a different one for each class
    assert torch.allclose(diff[1], diff[4], atol=1e-6) and not torch.allclose(diff[1], diff[2])
    assert diff.abs().mean() > 0.1
    with pytest.raises(AssertionError, match="class_skip needs a conditional mapping"):
        MappingNetwork(8, 0, 16, num_ws=3, class_skip=True)


def test_a_conditional_stylegan_with_the_class_skip_trains_and_loads(tmp_path):
    from sfvq_lib.gan.train import TrainConfig, export_generator, train_gan

    cfg = _tiny_config(1)
    cfg.conditional, cfg.class_skip = True, True
    assert cfg.generator_init()["mapping_kwargs"]["class_skip"] is True
    ck = train_gan(tmp_path, cfg, sample_every=0, progress=False)
    g = load_generator(f"builtin:{export_generator(ck, tmp_path / 'c.pt', name='c')}")
    assert g.G.mapping.skip is not None
    w0, w1 = g.sample(2, seed=1, class_=0), g.sample(2, seed=1, class_=1)
    skip = g.G.mapping.skip.weight * g.G.mapping.skip.weight_gain  # [w_dim, c_dim]
    assert not np.allclose(w0, w1) and not torch.allclose(skip[:, 0], skip[:, 1])
    with pytest.raises(ValueError, match="class_skip .* is for the conditional StyleGAN"):
        TrainConfig(class_skip=True)
    with pytest.raises(ValueError, match="class_skip .* is for the conditional StyleGAN"):
        TrainConfig(model="biggan", class_skip=True)


def test_twin_and_conditional_are_checked():
    from sfvq_lib.gan.stylegan import Discriminator
    from sfvq_lib.gan.train import TrainConfig

    with pytest.raises(ValueError, match="needs shape_aux .* and a class-conditional model"):
        TrainConfig(model="biggan", twin_aux=True)
    with pytest.raises(ValueError, match="needs shape_aux .* and a class-conditional model"):
        TrainConfig(shape_aux=1.0, twin_aux=True)  # an unconditional StyleGAN has no classes
    with pytest.raises(ValueError, match="the BigGAN always is"):
        TrainConfig(model="biggan", conditional=True)
    assert TrainConfig(shape_aux=1.0, twin_aux=True, conditional=True).n_classes == 4
    with pytest.raises(ValueError, match="needs aux_classes > 0"):
        Discriminator(twin=True)
    D = Discriminator(img_resolution=16, channels={16: 8, 8: 16, 4: 16}, aux_classes=4, twin=True)
    score, h = D.features(torch.zeros(2, 3, 16, 16))
    logits, twin = D.aux(h), D.twin(h)
    assert score.shape == (2, 1) and logits.shape == twin.shape == (2, 4)


def test_class_groups_put_one_shape_in_each_minibatch_std_group(tmp_path):
    from sfvq_lib.data import ShapesDataset
    from sfvq_lib.gan.train import TrainConfig, _real_batch, train_gan

    ds = ShapesDataset(16)
    plain, grouped = _real_batch(ds, 16, [3, 1], False), _real_batch(ds, 16, [3, 1], True)
    assert np.array_equal(plain[0], ds.sample(16, [3, 1])[0])  # without groups: the usual batch
    shapes = grouped[1]["shape"].reshape(4, 4)  # D's group j: images j, j + 4, j + 8, j + 12
    assert (shapes == shapes[0]).all() and np.array_equal(shapes[0], plain[1]["shape"][:4])
    assert not np.array_equal(grouped[0][:4], grouped[0][4:8])  # same shapes, other images
    with pytest.raises(ValueError, match="needs a class-conditional model and a batch size divisible by 4"):
        TrainConfig(class_groups=True)
    with pytest.raises(ValueError, match="got biggan with batch_size 6"):
        TrainConfig(model="biggan", class_groups=True, batch_size=6)
    cfg = _tiny_biggan(_tiny_config(2))
    cfg.class_groups, cfg.batch_size = True, 8
    ck = torch.load(train_gan(tmp_path, cfg, sample_every=0, progress=False), weights_only=True)
    assert ck["step"] == 2 and all(np.isfinite(r["loss_g"]) for r in ck["log"])


def test_a_random_warp_angle_start_turns_latents_differently(tmp_path):
    from sfvq_lib.gan.train import _MODELS, TrainConfig, _randomize_warp_angle, train_gan

    for model in ("stylegan", "biggan"):
        cfg = TrainConfig(model=model, warp_res=16)  # 128 inputs: the drawn spread is near 0.3
        torch.manual_seed(0)
        G = _MODELS[model](**cfg.generator_init())
        _randomize_warp_angle(G, 0.3)
        (warp,) = [m for name, m in G.named_modules() if name.endswith("warp")]
        x = torch.randn(4000, warp.in_features)  # inputs of unit variance
        with torch.no_grad():
            angle, shift = warp(x)[:, 0], warp(x)[:, 1:]
        assert abs(float(angle.std()) - 0.3) < 0.05 and not shift.any()  # only the angle moves
    with pytest.raises(ValueError, match="needs warp_res"):
        TrainConfig(warp_angle_init=0.3)
    with pytest.raises(ValueError, match="must be >= 0"):
        TrainConfig(warp_angle_init=-1.0, warp_res=16)
    cfg = _tiny_config(1)
    cfg.warp_res, cfg.warp_angle_init = 8, 0.3
    ck = torch.load(train_gan(tmp_path, cfg, sample_every=0, progress=False), weights_only=True)
    (key,) = [k for k in ck["G"] if k.endswith("warp.weight")]
    weight = ck["G"][key]  # the angle row was drawn; the shift rows moved one Adam step from 0
    assert weight[0].abs().mean() > 10 * weight[1:].abs().max()
    # with an image warp too, its angle is the one drawn; the feature map's warp starts at 0
    cfg = _tiny_config(1)
    cfg.warp_res, cfg.warp_image, cfg.warp_angle_init = 8, True, 0.3
    assert TrainConfig(warp_image=True, warp_angle_init=0.3).warp_angle_init == 0.3
    ck = torch.load(train_gan(tmp_path / "image", cfg, sample_every=0, progress=False), weights_only=True)
    (image,) = [v for k, v in ck["G"].items() if k.endswith("image_warp.weight")]
    (feature,) = [v for k, v in ck["G"].items() if k.endswith(".warp.weight")]
    assert image[0].abs().mean() > 10 * max(image[1:].abs().max(), feature.abs().max())


def test_the_warp_spread_loss_and_training_with_it(tmp_path):
    from sfvq_lib.gan.train import TrainConfig, _warp_spread_loss, train_gan

    spread, one = torch.linspace(-0.5, 0.5, 8), torch.full((8,), 0.3)  # std 0.34, and 0
    assert float(_warp_spread_loss(spread, None, 0.25)) == 0
    assert float(_warp_spread_loss(one, None, 0.25)) == pytest.approx(0.25, abs=1e-3)
    split = torch.tensor([-0.5] * 4 + [0.5] * 4)  # spread over the batch, one angle per class
    c = torch.nn.functional.one_hot(torch.tensor([0] * 4 + [1] * 4), 4).float()
    assert float(_warp_spread_loss(split, None, 0.25)) == 0
    assert float(_warp_spread_loss(split, c, 0.25)) == pytest.approx(0.25, abs=1e-3)
    assert float(_warp_spread_loss(split[3:5], c[3:5], 0.25)) == 0  # no class twice
    one.requires_grad_(True)
    _warp_spread_loss(one, None, 0.25).backward()  # the collapsed start has a finite gradient
    assert torch.isfinite(one.grad).all()
    for bad in ({}, {"warp_image": True}, {"warp_angle_init": 0.3, "warp_res": 16}):
        with pytest.raises(ValueError, match="needs warp_image .* and warp_angle_init"):
            TrainConfig(warp_spread=0.25, **bad)
    with pytest.raises(ValueError, match="must be >= 0"):
        TrainConfig(warp_spread=-1.0, warp_image=True, warp_angle_init=0.3)
    for model in ("stylegan", "biggan"):
        weights = []
        for target in (0.0, 5.0):  # a target far above the drawn spread: the loss acts at once
            cfg = _tiny_config(1) if model == "stylegan" else _tiny_biggan(_tiny_config(1))
            cfg.batch_size = 8  # 4 classes: one of them twice at least
            cfg.warp_image, cfg.warp_angle_init, cfg.warp_spread = True, 0.3, target
            ck = train_gan(tmp_path / f"{model}{target}", cfg, sample_every=0, progress=False)
            g = torch.load(ck, weights_only=True)["G"]
            (key,) = [k for k in g if k.endswith("image_warp.weight")]
            weights.append(g[key][0])
        assert not torch.equal(*weights)  # the loss moved the angle row


def test_factor_bins_and_the_spread_loss():
    from sfvq_lib.data import FACTORS
    from sfvq_lib.gan.train import _BINS, _SPREAD, _factor_bins, _factor_spread_loss

    assert [f.name for f in _SPREAD] == [f.name for f in FACTORS if f.name != "shape"]
    lo, hi = {f.name: f.low for f in _SPREAD}, {f.name: f.high for f in _SPREAD}
    mid = {k: (lo[k] + hi[k]) / 2 for k in lo}
    bins = _factor_bins({k: np.array([lo[k], mid[k], hi[k]]) for k in lo})
    assert bins.tolist() == [[0] * len(_SPREAD), [_BINS // 2] * len(_SPREAD), [_BINS - 1] * len(_SPREAD)]

    def logits(bin_of_image):  # confident readings: every factor of image i in bin_of_image[i]
        one_hot = torch.nn.functional.one_hot(torch.tensor(bin_of_image), _BINS).float() * 20
        return one_hot[:, None, :].repeat(1, len(_SPREAD), 1).reshape(len(bin_of_image), -1)

    spread = logits(list(range(_BINS)) * 2)  # 20 images over all bins
    assert float(_factor_spread_loss(spread, None)) < 1e-3
    assert float(_factor_spread_loss(logits([3] * 20), None)) > 5  # one bin: collapsed
    # per class: class 0 only in bins 0-4, class 1 only in 5-9; together they are spread
    split = logits([0, 1, 2, 3, 4] * 2 + [5, 6, 7, 8, 9] * 2)
    c = torch.nn.functional.one_hot(torch.tensor([0] * 10 + [1] * 10), 2).float()
    assert float(_factor_spread_loss(split, None)) < 1e-3 < float(_factor_spread_loss(split, c))


@pytest.mark.parametrize("model", ["stylegan", "biggan"])
def test_training_with_the_factor_head(tmp_path, model):
    from sfvq_lib.gan.train import TrainConfig, train_gan

    cfg = _tiny_config(2)
    cfg.factor_aux = 1.0
    if model == "biggan":
        _tiny_biggan(cfg)
    ck = torch.load(train_gan(tmp_path, cfg, sample_every=0, progress=False), weights_only=True)
    assert ck["D"]["factors.weight"].shape[0] == 60 and "aux.weight" not in ck["D"]
    assert all(np.isfinite(r["loss_g"]) for r in ck["log"])
    with pytest.raises(ValueError, match="factor_aux .* must be >= 0"):
        TrainConfig(factor_aux=-1.0)


def _reading_stub(images):
    """A stand-in factor reader: every factor of an image read at its mean pixel value (in [0, 1])."""
    from sfvq_lib.gan.train import _BINS, _SPREAD

    v = images.mean((1, 2, 3))[:, None, None]
    centres = (torch.arange(_BINS) + 0.5) / _BINS
    return (-2000 * (centres - v) ** 2).expand(-1, len(_SPREAD), -1).reshape(len(images), -1)


def _ref(reader, images):
    """A reference for ``_reader_loss``: the reader's readings of ``images``."""
    from sfvq_lib.gan.train import _readings

    return _readings(reader(images))


def _flat_images(values):
    """[N, 3, 4, 4] images, each of one value."""
    return torch.tensor(values, dtype=torch.float32)[:, None, None, None].expand(-1, 3, 4, 4)


def test_the_factor_reader_loss():
    from sfvq_lib.gan.train import _reader_loss

    spread = np.linspace(0.05, 0.95, 20)
    real = _ref(_reading_stub, _flat_images(spread))
    assert float(_reader_loss(_reading_stub, _flat_images(spread[::-1].copy()), None, real)) < 0.03
    collapsed = _flat_images([0.5] * 20)
    assert float(_reader_loss(_reading_stub, collapsed, None, real)) == pytest.approx(0.237, abs=0.01)
    # spread over all, but each class at one end only
    ends = _flat_images([0.05] * 10 + [0.95] * 10)
    c = torch.nn.functional.one_hot(torch.tensor([0] * 10 + [1] * 10), 2).float()
    assert (
        float(_reader_loss(_reading_stub, ends, None, real))
        < 0.25
        < float(_reader_loss(_reading_stub, ends, c, real))
    )
    assert float(_reader_loss(_reading_stub, ends[9:11], c[9:11], real)) == 0  # no class twice
    fake = collapsed.clone().requires_grad_(True)
    _reader_loss(_reading_stub, fake, None, real).backward()
    assert torch.isfinite(fake.grad).all() and fake.grad.abs().sum() > 0


def test_the_factor_reader_loss_measures_the_hues_on_the_circle():
    from sfvq_lib.gan.train import _CIRCULAR, _reader_loss

    real = _ref(_reading_stub, _flat_images([0.05] * 10))  # every factor read 0.05 (a bin's centre)
    near_one = _flat_images([0.95] * 10)  # read 0.95: 0.9 away on a line, 0.1 on the circle
    hues = int(_CIRCULAR.sum())
    expected = ((len(_CIRCULAR) - hues) * 0.9 + hues * 0.1) / len(_CIRCULAR)
    assert 0 < hues < len(_CIRCULAR)
    assert float(_reader_loss(_reading_stub, near_one, None, real)) == pytest.approx(expected, abs=0.01)
    # an arc across 0 against the same arc turned by 0.1: sorted on a line, 0.85 pairs with 0.15
    real = _ref(_reading_stub, _flat_images([0.85] * 100 + [0.95] * 100 + [0.05] * 100))
    turned = _flat_images([0.95, 0.05, 0.15])
    expected = ((len(_CIRCULAR) - hues) * 0.7 / 3 + hues * 0.1) / len(_CIRCULAR)
    assert float(_reader_loss(_reading_stub, turned, None, real)) == pytest.approx(expected, abs=0.01)


def test_the_factor_reader_loss_by_class_of_the_real_images():
    from sfvq_lib.gan.train import _reader_loss

    low, high = np.linspace(0.05, 0.45, 10), np.linspace(0.55, 0.95, 10)
    real = _ref(_reading_stub, _flat_images(np.concatenate([low, high])))
    k = torch.tensor([0] * 10 + [1] * 10)
    c = torch.nn.functional.one_hot(k, 2).float()
    # G draws class 0 low and class 1 high, as the real images of each class are
    fake = _flat_images(np.concatenate([low[::-1], high[::-1]]).copy())
    assert float(_reader_loss(_reading_stub, fake, c, real, k)) < 0.03
    assert float(_reader_loss(_reading_stub, fake, c, real)) > 0.15  # against all real images
    swapped = _flat_images(np.concatenate([high, low]))
    assert float(_reader_loss(_reading_stub, swapped, c, real, k)) > 0.4
    # class 0 only once among the real images: G's class 0 against all of them
    one = k.clone()
    one[1:10] = 1
    zero_vs_all = float(_reader_loss(_reading_stub, fake[:10], c[:10], real))
    ones = one == 1
    one_vs_ones = float(_reader_loss(_reading_stub, fake[10:], c[10:], real[ones], one[ones]))
    assert zero_vs_all > 0.15
    assert float(_reader_loss(_reading_stub, fake, c, real, one)) == pytest.approx(
        (zero_vs_all + one_vs_ones) / 2, abs=1e-6
    )


def test_the_factor_reader_reads_hues_on_the_circle():
    from sfvq_lib.gan.train import _BINS, _SPREAD, _reader_loss

    def reader(images):  # hues: bright images half in the last bin, half in the first (hue ~0 = 1);
        bright = images.mean((1, 2, 3)) > 0.5  # dark ones half in bins 4 and 5 (hue 0.5)
        logits = torch.full((len(images), len(_SPREAD), _BINS), -50.0)
        logits[:, :, 0] = 0  # the other factors: the first bin
        for i, f in enumerate(_SPREAD):
            if f.kind == "circular":
                logits[:, i] = -50.0
                logits[bright, i, 0] = logits[bright, i, _BINS - 1] = 0
                logits[~bright, i, 4] = logits[~bright, i, 5] = 0
        return logits.reshape(len(images), -1)

    bright, dark = torch.ones(4, 3, 4, 4), torch.zeros(4, 3, 4, 4)
    assert float(_reader_loss(reader, bright, None, _ref(reader, bright))) < 1e-4
    hues = sum(f.kind == "circular" for f in _SPREAD)
    # as linear means both would read 0.5; on the circle they are half a turn apart
    assert float(_reader_loss(reader, bright, None, _ref(reader, dark))) == pytest.approx(
        0.5 * hues / len(_SPREAD), abs=1e-3
    )


def test_the_factor_reader_shape_loss():
    from sfvq_lib.gan.train import _BINS, _SPREAD, _reader_loss

    def reader(images):  # the _reading_stub's factors, then shape logits: class 1 when bright
        v = images.mean((1, 2, 3))
        return torch.cat([_reading_stub(images), torch.stack([-10 * v, 10 * v - 5], 1)], 1)

    assert reader(torch.zeros(1, 3, 4, 4)).shape == (1, len(_SPREAD) * _BINS + 2)
    imgs = torch.tensor([0.1, 0.9])[:, None, None, None].expand(-1, 3, 4, 4)
    right = torch.nn.functional.one_hot(torch.tensor([0, 1]), 2).float()
    ref, k = _ref(reader, imgs), torch.tensor([0, 1])
    base = float(_reader_loss(reader, imgs, right, ref, k))
    assert float(_reader_loss(reader, imgs, right, ref, k, shape_weight=1.0)) - base < 0.05
    assert float(_reader_loss(reader, imgs, right.flip(1), ref, k, shape_weight=1.0)) - base > 2


def test_the_factor_reader_learns_generated_images_as_a_class():
    from sfvq_lib.data import SHAPES, ShapesDataset
    from sfvq_lib.gan.train import _BINS, _SPREAD, FactorReader, _reader_step, _shape_labels

    torch.manual_seed(0)
    reader = FactorReader(32, width=8, fakes=True)
    assert reader(torch.zeros(1, 3, 32, 32)).shape == (1, len(_SPREAD) * _BINS + len(SHAPES) + 1)
    opt = torch.optim.Adam(reader.parameters(), lr=2e-3)
    ds, gen = ShapesDataset(32), torch.Generator().manual_seed(0)

    def generated_share(images):  # the reader's mean probability of "generated"
        with torch.no_grad():
            return float(reader(images)[:, -len(SHAPES) - 1 :].softmax(1)[:, -1].mean())

    cfg = _tiny_biggan(_tiny_config(1))
    for i in range(30):  # "G's images": blurred noise
        real, factors = ds.sample(16, [i, 4])
        fake = torch.nn.functional.avg_pool2d(torch.rand(16, 3, 32, 32, generator=gen) * 2 - 1, 3, 1, 1)
        shape, _ = _shape_labels(factors, cfg, "cpu")
        _reader_step(reader, opt, torch.from_numpy(real), factors, shape, "cpu", fake)
    real = torch.from_numpy(ds.sample(64, 99)[0])
    fake = torch.nn.functional.avg_pool2d(torch.rand(64, 3, 32, 32, generator=gen) * 2 - 1, 3, 1, 1)
    assert generated_share(fake) > 0.8 and generated_share(real) < 0.2
    assert not reader.net[0].weight.requires_grad  # left frozen for G's step


def _count_reader_warm_ups(monkeypatch) -> list:
    """Make the factor reader's warm-up 3 steps; the list returned gets a 1 for each warm-up."""
    import sfvq_lib.gan.train as train

    warm_ups = []
    real_warm_up = train._warm_up_reader
    monkeypatch.setattr(train, "_READER_WARMUP", 3)
    monkeypatch.setattr(train, "_warm_up_reader", lambda *a: warm_ups.append(1) or real_warm_up(*a))
    return warm_ups


def test_training_with_the_factor_reader(tmp_path, monkeypatch):
    import sfvq_lib.gan.train as train
    from sfvq_lib.gan.train import TrainConfig, train_gan

    warm_ups = _count_reader_warm_ups(monkeypatch)
    cfg = _tiny_biggan(_tiny_config(2))
    cfg.factor_reader = 1.0
    ck = torch.load(train_gan(tmp_path, cfg, sample_every=0, progress=False), weights_only=True)
    assert "reader" in ck and all(np.isfinite(r["loss_g"]) for r in ck["log"])
    # the readings of the real images seen so far (2 batches of 4), and their classes
    assert ck["reader_reference"].shape == (8, len(train._SPREAD)) and ck["reader_ref_classes"].shape == (8,)
    cfg.steps = 3  # resumed: the reader comes from the checkpoint, no second warm-up
    ck = torch.load(train_gan(tmp_path, cfg, sample_every=0, progress=False), weights_only=True)
    assert warm_ups == [1] and len(ck["reader_reference"]) == 12
    monkeypatch.setattr(train, "_READER_REFERENCE", 10)  # the latest 10 only
    cfg.steps = 4
    ck4 = torch.load(train_gan(tmp_path / "short", cfg, sample_every=0, progress=False), weights_only=True)
    assert len(ck4["reader_reference"]) == 10
    monkeypatch.setattr(train, "_READER_REFERENCE", 1024)
    cfg.steps = 3
    # one more step from there with the reader and without it: another G
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    ck["config"]["factor_reader"] = 0.0
    (tmp_path / "without").mkdir()
    torch.save(ck, tmp_path / "without" / "checkpoint.pt")
    cfg.steps = 4
    a = torch.load(train_gan(tmp_path, cfg, sample_every=0, progress=False), weights_only=True)["G"]
    cfg.factor_reader = 0.0
    b = torch.load(train_gan(tmp_path / "without", cfg, sample_every=0, progress=False), weights_only=True)[
        "G"
    ]
    assert any(not torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="factor_reader .* must be >= 0"):
        TrainConfig(factor_reader=-1.0)


def test_the_factor_reader_from_a_later_step(tmp_path, monkeypatch):
    from sfvq_lib.gan.train import TrainConfig, train_gan

    warm_ups = _count_reader_warm_ups(monkeypatch)
    cfg = _tiny_biggan(_tiny_config(2))
    cfg.factor_reader, cfg.reader_shape, cfg.shape_aux, cfg.reader_from = 1.0, 1.0, 1.0, 2
    ck = torch.load(train_gan(tmp_path / "late", cfg, sample_every=0, progress=False), weights_only=True)
    assert "reader" not in ck and warm_ups == []  # not yet
    plain = _tiny_biggan(_tiny_config(2))
    plain.shape_aux = 1.0
    without = torch.load(
        train_gan(tmp_path / "plain", plain, sample_every=0, progress=False), weights_only=True
    )
    assert all(torch.equal(ck["G"][k], without["G"][k]) for k in ck["G"])  # the same G until then
    cfg.steps = 4
    ck = torch.load(train_gan(tmp_path / "late", cfg, sample_every=0, progress=False), weights_only=True)
    assert "reader" in ck and warm_ups == [1] and all(np.isfinite(r["loss_g"]) for r in ck["log"])
    with pytest.raises(ValueError, match="reader_from .* needs factor_reader"):
        TrainConfig(reader_from=10)
    with pytest.raises(ValueError, match="reader_from .* must be"):
        TrainConfig(factor_reader=1.0, reader_from=-1)


def test_training_with_the_factor_readers_shape_loss(tmp_path, monkeypatch):
    import sfvq_lib.gan.train as train
    from sfvq_lib.gan.train import TrainConfig, train_gan

    monkeypatch.setattr(train, "_READER_WARMUP", 3)
    cfg = _tiny_biggan(_tiny_config(2))
    cfg.factor_reader = 1.0
    train_gan(tmp_path, cfg, sample_every=0, progress=False)
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    # the same step from there with the shape loss and without it: another G
    for name, weight in (("with", 5.0), ("without", 0.0)):
        ck["config"]["reader_shape"] = weight
        (tmp_path / name).mkdir()
        torch.save(ck, tmp_path / name / "checkpoint.pt")
    cfg.steps = 3
    g = {}
    for name, weight in (("with", 5.0), ("without", 0.0)):
        cfg.reader_shape = weight
        g[name] = torch.load(
            train_gan(tmp_path / name, cfg, sample_every=0, progress=False), weights_only=True
        )
    assert any(not torch.equal(g["with"]["G"][k], g["without"]["G"][k]) for k in g["with"]["G"])
    assert all(np.isfinite(r["loss_g"]) for r in g["with"]["log"])
    # a reader of another shape in the checkpoint (an older version's): a new one is warmed up
    warm_ups = _count_reader_warm_ups(monkeypatch)
    old = g["with"]
    last = f"net.{max(int(k.split('.')[1]) for k in old['reader'])}."  # the last layer's
    assert old["reader"][last + "bias"].shape == (len(train._SPREAD) * train._BINS + len(train.SHAPES),)
    old["reader"] = {k: (v[:60] if k.startswith(last) else v) for k, v in old["reader"].items()}
    torch.save(old, tmp_path / "with" / "checkpoint.pt")
    cfg.steps, cfg.reader_shape = 4, 5.0
    train_gan(tmp_path / "with", cfg, sample_every=0, progress=False)
    assert warm_ups == [1]
    # a judge of the shape that also learns G's images (one more logit), beside the same reader:
    # warmed up (alone) and saved; another G
    (tmp_path / "fakes").mkdir()
    ck = torch.load(tmp_path / "with" / "checkpoint.pt", weights_only=True)
    ck["config"]["reader_fakes"] = True
    torch.save(ck, tmp_path / "fakes" / "checkpoint.pt")
    cfg.steps, cfg.reader_fakes = 5, True
    fakes = torch.load(train_gan(tmp_path / "fakes", cfg, sample_every=0, progress=False), weights_only=True)
    assert warm_ups == [1, 1]  # the judge only: the reader came from the checkpoint
    cfg.reader_fakes = False
    plain = torch.load(train_gan(tmp_path / "with", cfg, sample_every=0, progress=False), weights_only=True)
    n_read = len(train._SPREAD) * train._BINS
    assert fakes["judge"][last + "bias"].shape == (n_read + len(train.SHAPES) + 1,)
    assert fakes["reader"][last + "bias"].shape == (n_read + len(train.SHAPES),)
    assert any(not torch.equal(fakes["G"][k], plain["G"][k]) for k in plain["G"])
    assert "judge" not in plain
    cfg.steps, cfg.reader_fakes = 6, True  # resumed: the judge comes from the checkpoint
    train_gan(tmp_path / "fakes", cfg, sample_every=0, progress=False)
    assert warm_ups == [1, 1]
    assert all(np.isfinite(r["loss_g"]) for r in fakes["log"])
    with pytest.raises(ValueError, match="reader_fakes .* needs reader_shape"):
        TrainConfig(model="biggan", factor_reader=1.0, reader_fakes=True)
    with pytest.raises(ValueError, match="reader_shape .* must be >= 0"):
        TrainConfig(factor_reader=1.0, reader_shape=-1.0)
    with pytest.raises(ValueError, match="reader_shape .* needs factor_reader .* class-conditional"):
        TrainConfig(model="biggan", reader_shape=1.0)
    with pytest.raises(ValueError, match="reader_shape .* needs factor_reader .* class-conditional"):
        TrainConfig(factor_reader=1.0, reader_shape=1.0)  # an unconditional StyleGAN


def test_class_names_of_a_stylegan():
    assert StyleGANAdapter(Generator(z_dim=8, w_dim=8, img_resolution=8)).class_names == []
    G = Generator(z_dim=8, w_dim=8, c_dim=3, img_resolution=8)
    assert StyleGANAdapter(G).class_names == ["0", "1", "2"]
    assert StyleGANAdapter(G, class_names="abc").class_names == ["a", "b", "c"]
    with pytest.raises(ValueError, match="class_names has 2 names for 3 classes"):
        StyleGANAdapter(G, class_names=["a", "b"])
