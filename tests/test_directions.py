import numpy as np
import torch

from sfvq_lib import directions
from sfvq_lib.gan import Generator, StyleGANAdapter


def test_layer_effect_is_the_mean_image_change_of_each_single_layer_edit():
    torch.manual_seed(0)
    g = StyleGANAdapter(Generator(z_dim=16, w_dim=16, img_resolution=16), batch_size=7)
    w = g.sample(5, seed=0)
    d = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    effect = directions.layer_effect(g, w, d, step=0.5)
    assert effect.shape == (g.num_ws,) and (effect > 0).all()
    base = g.synthesize(w)
    for layer in (0, g.num_ws - 1):
        expected = np.mean(
            [
                np.abs(g.synthesize(g.edit(w, d, layers=(layer, layer), sigma=s)) - base).mean()
                for s in (-0.5, 0.5)
            ]
        )
        assert np.isclose(effect[layer], expected, rtol=1e-4)
    lo, hi = directions.suggest_layers(effect, share=0.6)
    assert effect[lo : hi + 1].sum() >= 0.6 * effect.sum()
