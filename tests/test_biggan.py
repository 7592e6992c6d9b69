"""The BigGAN family: our class-conditional model, its adapter and pretrained folders."""

import json

import numpy as np
import pytest
import torch

from sfvq_lib.baselines import SeFa
from sfvq_lib.gan import BigGAN, BigGANAdapter, load_generator, save_builtin
from sfvq_lib.gan import adapter as adapter_module


@pytest.fixture(scope="module")
def ours():
    torch.manual_seed(0)
    G = BigGAN(z_dim=16, num_classes=4, embed_dim=8, img_resolution=16, channels={4: 16, 8: 16, 16: 8})
    return BigGANAdapter(G, name="ours", class_names=["a", "b", "c", "d"])


def test_sizes_and_protocol(ours):
    assert (ours.z_dim, ours.c_dim, ours.w_dim, ours.num_ws, ours.img_resolution) == (16, 4, None, None, 16)
    assert ours.spaces == ("z",) and ours.default_space == "z"
    z = ours.sample(6, truncation_psi=0.5, seed=3)
    assert z.shape == (6, 16) and z.dtype == np.float32 and np.abs(z).max() <= 1.0
    np.testing.assert_array_equal(z, ours.sample(6, truncation_psi=0.5, seed=3))
    assert not np.array_equal(z, ours.sample(6, truncation_psi=0.5, seed=4))
    img = ours.synthesize(z, class_=2)
    assert img.shape == (6, 3, 16, 16) and np.abs(img).max() <= 1
    assert ours.to_uint8(img).shape == (6, 16, 16, 3)


def test_truncated_normal_is_bounded_and_unit_scale():
    from sfvq_lib.gan.biggan_adapter import truncated_normal

    z = truncated_normal(4000, 32, 1.0, torch.Generator().manual_seed(0))
    assert z.abs().max() <= 2 and 0.85 < z.std() < 0.9  # std of truncnorm(-2, 2) = 0.880


def test_the_class_changes_the_image():
    torch.manual_seed(1)
    g = BigGANAdapter(BigGAN(z_dim=16, embed_dim=8, img_resolution=8, channels={4: 8, 8: 8}))
    # the class embedding acts through the first layer and the conditional norms (zero at init)
    for m in g.G.modules():
        if type(m).__name__ == "ConditionalNorm":
            torch.nn.init.normal_(m.gain.weight)
    z = g.sample(3, seed=0)
    a, b = g.synthesize(z, class_=0), g.synthesize(z, class_=1)
    assert np.abs(a - b).mean() > 1e-3
    np.testing.assert_array_equal(g.synthesize(z, class_=[0, 0, 0]), a)


def test_edit_and_sefa(ours):
    z = ours.sample(4, seed=1)
    d = np.zeros(16, np.float32)
    d[3] = 1
    np.testing.assert_allclose(ours.edit(z, d, sigma=2.0) - z, 2.0 * np.tile(d, (4, 1)))
    with pytest.raises(ValueError, match="leave layers out"):
        ours.edit(z, d, layers=(0, 1))
    mats = ours.style_affine_weights()
    # gen_z, then a gain and a bias for each of the two norms of each of the two blocks
    assert len(mats) == 1 + 2 * 2 * 2 and all(m.shape[1] == 16 for m in mats)
    assert SeFa(n_components=3).fit(mats).components_.shape == (3, 16)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda g: g.sample(2, space="w"), "only the z space"),
        (lambda g: g.sample(2, truncation_psi=0), r"truncation_psi must lie in \(0, 1\]"),
        (lambda g: g.sample(2, class_=7), "class_ must lie in 0..3"),
        (lambda g: g.synthesize(np.zeros((2, 5))), r"z latents must have shape \(n, 16\)"),
        (lambda g: g.synthesize(np.zeros((2, 16)), class_=[0, 1, 2]), "one int or 2 ints"),
        (lambda g: g.synthesize(np.zeros((2, 16)), class_=-1), "class_ must be >= 0"),
    ],
)
def test_bad_input(ours, call, match):
    with pytest.raises(ValueError, match=match):
        call(ours)


def test_builtin_biggan_roundtrip(tmp_path, monkeypatch):
    torch.manual_seed(2)
    kwargs = dict(z_dim=16, num_classes=4, embed_dim=8, img_resolution=8, channels={4: 8, 8: 8})
    G = BigGAN(**kwargs)
    monkeypatch.setattr(adapter_module, "BUILTIN_DIR", tmp_path)
    save_builtin(
        G, kwargs, tmp_path / "tiny-biggan.pt", architecture="biggan", extra={"class_names": list("wxyz")}
    )
    g = load_generator("builtin:tiny-biggan")
    assert isinstance(g, BigGANAdapter) and g.class_names == list("wxyz")
    z = g.sample(3, seed=0)
    c = torch.nn.functional.one_hot(torch.tensor([1, 1, 1]), 4).float()
    np.testing.assert_allclose(
        g.synthesize(z, class_=1), G(torch.from_numpy(z), c).detach().numpy(), atol=1e-6
    )


def _pretrained_folder(tmp_path):
    """A pytorch-pretrained-BigGAN folder with initialised (untrained) weights: no download."""
    from pytorch_pretrained_biggan import BigGAN as HFBigGAN
    from pytorch_pretrained_biggan import BigGANConfig

    config = BigGANConfig(output_dim=128, z_dim=128, class_embed_dim=128, channel_width=4, num_classes=10)
    torch.manual_seed(0)
    model = HFBigGAN(config).eval()
    folder = tmp_path / "biggan-tiny"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config.__dict__))
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return folder, model


def test_pretrained_biggan_folder(tmp_path):
    folder, model = _pretrained_folder(tmp_path)
    g = load_generator(f"biggan:{folder}")
    assert (g.z_dim, g.c_dim, g.img_resolution, g.w_dim) == (128, 10, 128, None)
    z = g.sample(2, truncation_psi=0.4, seed=0)
    img = g.synthesize(z, truncation_psi=0.4, class_=[3, 7])
    c = torch.nn.functional.one_hot(torch.tensor([3, 7]), 10).float()
    with torch.no_grad():
        expected = model(torch.from_numpy(z), c, 0.4).numpy()
    assert img.shape == (2, 3, 128, 128)
    np.testing.assert_allclose(img, expected, atol=1e-5)
    # SeFa's matrices: the spectrally normalised weights the model applies, z columns only
    mats = g.style_affine_weights()
    assert mats[0].shape == (model.generator.gen_z.weight_orig.shape[0], 128)
    np.testing.assert_allclose(mats[0], model.generator.gen_z.weight[:, :128].numpy(), rtol=1e-4, atol=1e-6)


def test_pretrained_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"lacks \['config.json', 'pytorch_model.bin'\]"):
        load_generator(f"biggan:{tmp_path}")
    (tmp_path / "config.json").write_text("{ not json")
    (tmp_path / "pytorch_model.bin").write_bytes(b"nope")
    with pytest.raises(ValueError, match="not a readable BigGAN"):
        load_generator(f"biggan:{tmp_path}")


def test_training_a_biggan_runs_and_resumes(tmp_path):
    from sfvq_lib.gan import adapter as adapter_mod
    from sfvq_lib.gan.train import TrainConfig, export_generator, train_gan

    def cfg(steps):
        return TrainConfig(
            model="biggan",
            steps=steps,
            batch_size=4,
            resolution=16,
            z_dim=16,
            r1_every=2,
            augment="translation,cutout",
            generator_kwargs={"embed_dim": 8, "channels": {4: 16, 8: 16, 16: 8}},
        )

    a = train_gan(tmp_path / "a", cfg(4), checkpoint_every=2, sample_every=4, progress=False)
    train_gan(tmp_path / "b", cfg(2), checkpoint_every=2, sample_every=0, progress=False)
    b = train_gan(tmp_path / "b", cfg(4), checkpoint_every=2, sample_every=0, progress=False)
    ca, cb = torch.load(a, weights_only=True), torch.load(b, weights_only=True)
    for k in ca["G_ema"]:
        assert torch.equal(ca["G_ema"][k], cb["G_ema"][k]), k
    assert (tmp_path / "a" / "samples-000004.png").is_file()
    weights = export_generator(a, tmp_path / "shapes-biggan.pt", name="tiny")
    G, arch, extra = adapter_mod._load_builtin_file(weights)
    assert arch == "biggan" and extra["class_names"] == ["square", "disc", "triangle", "heart"]
    assert json.loads(extra["card"])["steps"] == 4
