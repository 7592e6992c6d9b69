import json

import numpy as np
import pytest

from sfvq_lib import benchmark, load_generator
from sfvq_lib.probe import load_probe

TINY = dict(
    seeds=(0, 1), k=(2, 3), n_samples=8, bits=3, n_fit=64, n_labeled=24, n_layer=2, n_score=2, n_epochs=1
)


@pytest.fixture(scope="module")
def probe():
    return load_probe()


@pytest.fixture(scope="module")
def stylegan_result(probe, tmp_path_factory):
    cache = tmp_path_factory.mktemp("bench")
    g = load_generator("builtin:shapes-stylegan")
    cfg = benchmark.BenchmarkConfig(**TINY)
    return benchmark.run_benchmark(
        g, probe, "builtin:shapes-stylegan", cfg, cache_dir=cache, progress=False
    ), cache


def test_result_layout(stylegan_result):
    result, _ = stylegan_result
    assert set(result["methods"]) == set(benchmark.METHODS)
    assert result["modes"] == ["all", "layers"]
    for metric in benchmark.METRICS:
        for key in (f"k2.layers.{metric}", f"k3.all.{metric}"):
            assert len(result["methods"]["sfvq"][key]) == 2  # one value per seed
        assert len(result["methods"]["supervised"][f"k7.all.{metric}"]) == 2  # one direction per factor
    assert len(result["methods"]["ganspace"]["k3.all.matched_share.x"]) == 2
    assert 0 <= result["methods"]["sefa"]["k2.layers.completeness.shape"][0] <= 1
    assert set(result["nmi_by_bits"]["sfvq"]["x"]) == {"2", "3"}
    E = np.array(result["effects"]["sefa"]["layers"][0])
    assert E.shape == (3, 7) and (E >= 0).all()
    assert all(lo <= hi for lo, hi in result["layers"]["random"]["layers"][1])
    assert len(result["sfvq_lines"][0]) == 3
    json.dumps(result)  # JSON-ready


def test_same_seed_same_numbers_and_cache_is_reused(stylegan_result, probe):
    result, cache = stylegan_result
    g = load_generator("builtin:shapes-stylegan")
    cfg = benchmark.BenchmarkConfig(**TINY)
    again = benchmark.run_benchmark(g, probe, "builtin:shapes-stylegan", cfg, progress=False)
    assert again["methods"] == result["methods"]
    files = sorted(cache.glob("seed*.json"))
    assert len(files) == 2
    # a cached seed is read back, not recomputed: alter it and see the change
    data = json.loads(files[0].read_text())
    data["methods"]["sfvq"]["k2.all.coverage"] = 99.0
    files[0].write_text(json.dumps(data))
    cached = benchmark.run_benchmark(
        g, probe, "builtin:shapes-stylegan", cfg, cache_dir=cache, progress=False
    )
    assert 99.0 in cached["methods"]["sfvq"]["k2.all.coverage"]


def test_verdicts_and_summary(stylegan_result):
    result, _ = stylegan_result
    v = benchmark.verdicts(result)
    assert [x["claim"] for x in v] == list(benchmark.CLAIMS.values())
    assert all(x["verdict"] in ("holds", "partly", "does not hold") for x in v)
    rows = benchmark.summary(result, 2, "layers")
    assert [r["method"] for r in rows] == list(benchmark.METHODS) and rows[-1]["K"] == 7
    assert "±" in rows[0]["disentanglement"]
    shares = benchmark.matched_share_records(result, 2, "layers")
    assert [r["factor"] for r in shares] == result["factors"] and 0 <= shares[0]["sfvq"] <= 1
    assert [r["factor"] for r in benchmark.emergence_records(result)][0] == "bg_hue"  # the heaviest first


def test_verdict_rules_follow_the_numbers(stylegan_result):
    result = json.loads(json.dumps(stylegan_result[0]))
    m = result["methods"]
    for method, value in (("sfvq", 0.9), ("random", 0.1), ("ganspace", 0.5), ("sefa", 0.5)):
        m[method]["k2.layers.disentanglement"] = [value, value + 0.01]
    assert benchmark.verdicts(result)[0]["verdict"] == "holds"
    m["sefa"]["k2.layers.disentanglement"] = [0.95, 0.96]
    assert benchmark.verdicts(result)[0]["verdict"] == "partly"
    m["sfvq"]["k2.layers.disentanglement"] = [0.1, 0.11]
    assert benchmark.verdicts(result)[0]["verdict"] == "does not hold"
    result["coarse_to_fine"]["sfvq"] = [-0.8, -0.9]
    assert benchmark.verdicts(result)[2]["verdict"] == "holds"
    result["coarse_to_fine"]["sfvq"] = [-0.8, 0.7]
    assert benchmark.verdicts(result)[2]["verdict"] == "partly"
    ami = result["ami_by_bits"]
    for name, value in (("sfvq", 0.2), ("kmeans", 0.21)):
        for f in result["factors"]:
            ami[name][f]["3"] = [value, value]
    assert benchmark.verdicts(result)[4]["verdict"] == "holds"
    for name, value in (("sfvq", 0.004), ("kmeans", 0.004)):  # both at noise level: nothing to compare
        for f in result["factors"]:
            ami[name][f]["3"] = [value, value]
    assert benchmark.verdicts(result)[4]["verdict"] == "does not hold"


def test_biggan_has_no_layers_and_no_shape_factor(probe):
    g = load_generator("builtin:shapes-biggan")
    result = benchmark.run_benchmark(
        g, probe, "builtin:shapes-biggan", benchmark.BenchmarkConfig(**TINY), progress=False
    )
    assert result["modes"] == ["all"] and "shape" not in result["factors"]
    assert "k6.all.coverage" in result["methods"]["supervised"]
    assert benchmark.verdicts(result)[0]["evidence"].startswith("disentanglement")


def test_supervised_directions_recover_linear_factors():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 6))
    reading = {
        "x": 0.5 + 0.05 * X[:, 0],
        "obj_hue": (np.arctan2(X[:, 2], 1.0) / (2 * np.pi)) % 1.0,
        "shape": (X[:, 1] > 0).astype(int) + 2 * (X[:, 3] > 0),
    }
    D = benchmark._supervised(X, reading, ["x", "obj_hue", "shape"], seed=0)
    assert abs(D[0, 0]) > 0.99
    assert abs(D[1, 2]) > 0.9
    assert max(abs(D[2, 1]), abs(D[2, 3])) > 0.6
    const = benchmark._supervised(X, {"x": np.full(600, 0.5)}, ["x"], seed=0)
    assert not const.any()


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(seeds=(0,)), "at least 2 seeds"),
        (dict(k=()), "k must be"),
        (dict(bits=8, n_fit=100), "n_fit >= 256"),
        (dict(n_samples=0), "n_samples must be a positive int"),
        (dict(sigma=0.0), "sigma must be positive"),
    ],
)
def test_config_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        benchmark.BenchmarkConfig(**bad)


def test_factor_image_change_orders_background_above_rotation():
    w = benchmark.factor_image_change(n=64)
    assert w["bg_hue"] > w["rotation"] > 0


def test_markdown_table_escapes_pipes_in_headers_and_cells():
    from sfvq_lib.study import markdown_table

    table = markdown_table([{"weight (mean |Δpixel|)": 0.5, "f": "a|b"}], floatfmt=".1f")
    header, _, row = table.splitlines()
    assert header == "| weight (mean \\|Δpixel\\|) | f |" and row == "| 0.5 | a\\|b |"


def test_a_stylegan_conditional_on_the_shape_keeps_it_as_a_factor_of_w(probe):
    from sfvq_lib.data import SHAPES
    from sfvq_lib.gan import BigGAN, BigGANAdapter, Generator, StyleGANAdapter

    # the mapping reads the class into w: the shape is a factor of the latent space
    g = StyleGANAdapter(Generator(z_dim=8, w_dim=8, c_dim=4), class_names=SHAPES)
    scene = benchmark._Scene(g, probe, 1.0)
    assert not scene.conditional and "shape" in scene.factors and scene.classes(3, 0) is None
    # a BigGAN's class goes in beside z: the shape is not in the latent
    scene = benchmark._Scene(BigGANAdapter(BigGAN(z_dim=8, embed_dim=4), class_names=SHAPES), probe, 1.0)
    assert scene.conditional and "shape" not in scene.factors and len(scene.classes(3, 0)) == 3
