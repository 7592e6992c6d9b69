import torch

from sfvq_lib import SFVQLayer, curve


def test_training_mode_passes_gradients_to_input_and_codebook():
    torch.manual_seed(0)
    layer = SFVQLayer(8, bits=3)
    x = torch.randn(32, 8, requires_grad=True)
    x_hat, t = layer(x)
    assert x_hat.shape == (32, 8) and t.shape == (32,)
    assert t.min() >= 0 and t.max() <= 7
    (x_hat**2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert layer.codebook.grad is not None and layer.codebook.grad.abs().sum() > 0


def test_noise_has_the_quantization_error_norm():
    torch.manual_seed(1)
    layer = SFVQLayer(4, bits=2, initial_codebook=torch.randn(4, 4))
    x = torch.randn(100, 4)
    torch.manual_seed(5)
    x_hat, t = layer(x)
    # x_hat - x has the norm of x - (dithered point at t)
    q = curve.interpolate(layer.codebook.detach(), t.double())
    err = torch.linalg.vector_norm(x - q, dim=1)
    torch.testing.assert_close(torch.linalg.vector_norm(x_hat - x, dim=1), err, rtol=1e-4, atol=1e-5)


def test_eval_mode_is_exact_projection_and_expand_keeps_the_curve():
    torch.manual_seed(2)
    layer = SFVQLayer(5, bits=2, initial_codebook=torch.randn(4, 5)).eval()
    x = torch.randn(50, 5)
    q, t = layer(x)
    t_ref, _ = curve.project(x, layer.codebook.detach())
    torch.testing.assert_close(t, t_ref)
    layer.expand()
    assert layer.codebook.shape == (8, 5) and layer.bits == 3
    q2, _ = layer(x)
    torch.testing.assert_close(q2, q, atol=1e-5, rtol=1e-5)
