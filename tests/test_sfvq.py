import numpy as np
import pytest
import torch
from sklearn.base import clone

from sfvq_lib import SFVQ, baselines, curve
from sfvq_lib.training import dithered_mse_grad, dithered_points, stage_lr


def test_transform_inverse_roundtrip_on_corners(fitted_ring):
    q = fitted_ring
    t = q.transform(q.codebook_)
    np.testing.assert_allclose(t, np.arange(32), atol=1e-6)
    np.testing.assert_allclose(q.inverse_transform(t), q.codebook_, atol=1e-6)


def test_inverse_transform_of_transform_is_quantize(fitted_ring, ring_2d):
    q = fitted_ring
    t = q.transform(ring_2d)
    assert t.shape == (len(ring_2d),) and t.min() >= 0 and t.max() <= 31
    Q = q.quantize(ring_2d)
    np.testing.assert_allclose(q.inverse_transform(t), Q, atol=1e-5)
    # quantize(Q) = Q: points on the curve stay where they are
    np.testing.assert_allclose(q.quantize(Q), Q, atol=1e-4)


def test_same_seed_same_codebook(ring_2d):
    a = SFVQ(bits=4, random_state=1, progress=False).fit(ring_2d).codebook_
    b = SFVQ(bits=4, random_state=1, progress=False).fit(ring_2d).codebook_
    c = SFVQ(bits=4, random_state=2, progress=False).fit(ring_2d).codebook_
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fitted_attributes(fitted_ring):
    q = fitted_ring
    assert q.codebook_.dtype == np.float32 and q.codebook_.shape == (32, 2)
    assert sorted(q.codebooks_) == [2, 3, 4, 5]
    for b, c in q.codebooks_.items():
        assert c.shape == (2**b, 2)
    assert np.array_equal(q.codebooks_[5], q.codebook_)
    assert len(q.history_) == 4 * 5  # stages x epochs
    h = q.history_[-1]
    assert h["bits"] == 5 and len(h["usage"]) == 31 and sum(h["usage"]) == 4000
    assert 1 <= h["perplexity"] <= 31
    assert q.n_features_in_ == 2


def test_curve_fills_the_ring(fitted_ring, ring_2d):
    """The curve follows the ring: corner radii near 3, MSE far below the variance."""
    q = fitted_ring
    mse = -q.score(ring_2d)
    assert mse < 0.06, f"MSE {mse:.4f} on a ring with per-feature variance {ring_2d.var(0).mean():.2f}"
    radii = np.linalg.norm(q.codebook_, axis=1)
    assert np.abs(radii - 3).max() < 0.6, f"corner radii {radii.min():.2f}..{radii.max():.2f}"


def test_error_falls_with_bitrate_and_beats_a_straight_line(fitted_ring, ring_2d):
    q = fitted_ring
    mse = [-q.score(ring_2d, bits=b) for b in range(2, 6)]
    assert all(a > b for a, b in zip(mse[:-1], mse[1:], strict=True)), f"MSE by bits {mse}"
    line = baselines.pca_line(ring_2d, 32)
    _, sq = curve.project(ring_2d, line)
    assert mse[-1] < 0.1 * sq.mean() / 2


def test_low_bitrate_transform(fitted_ring, ring_2d):
    t = fitted_ring.transform(ring_2d, bits=3)
    assert t.max() <= 7
    np.testing.assert_allclose(
        fitted_ring.inverse_transform(t, bits=3), fitted_ring.quantize(ring_2d, bits=3), atol=1e-5
    )


def test_tensor_in_tensor_out(fitted_ring, ring_2d):
    X = torch.from_numpy(ring_2d)
    t = fitted_ring.transform(X)
    assert isinstance(t, torch.Tensor) and t.shape == (4000,)
    assert isinstance(fitted_ring.inverse_transform(t), torch.Tensor)
    assert isinstance(fitted_ring.predict(X), torch.Tensor)
    np.testing.assert_allclose(t.numpy(), fitted_ring.transform(ring_2d))


def test_fit_on_tensor_equals_fit_on_array(ring_2d):
    a = SFVQ(bits=3, random_state=0, progress=False).fit(ring_2d).codebook_
    b = SFVQ(bits=3, random_state=0, progress=False).fit(torch.from_numpy(ring_2d)).codebook_
    assert np.array_equal(a, b)


def test_predict_is_nearest_corner(fitted_ring, ring_2d):
    idx = fitted_ring.predict(ring_2d)
    d = ((ring_2d[:, None, :].astype(np.float64) - fitted_ring.codebook_[None]) ** 2).sum(-1)
    np.testing.assert_allclose(d[np.arange(len(d)), idx], d.min(1), rtol=1e-5, atol=1e-6)


def test_initialisation_comes_from_the_data(gauss_16d):
    """The 4 starting corner points are chunk means of the data (not fresh noise)."""
    q = SFVQ(bits=2, n_epochs=1, lr=1e-12, random_state=0, progress=False).fit(gauss_16d)
    expected = curve.initial_corners(torch.from_numpy(gauss_16d)).numpy()
    np.testing.assert_allclose(q.codebooks_[2], expected, atol=1e-5)
    assert np.abs(q.codebook_.mean(0) - 2.0).max() < 0.3  # data mean 2, not 0


def test_manual_gradient_equals_autograd():
    g = torch.Generator().manual_seed(0)
    C = torch.randn(16, 8, generator=g)
    x = torch.randn(40, 8, generator=g)
    r = torch.rand(15, generator=g)
    (loss, j), grad = dithered_mse_grad(C, x, r)
    Cg = C.clone().requires_grad_(True)
    p = dithered_points(Cg, r)
    ref = torch.nn.functional.mse_loss(p[j], x)
    ref.backward()
    assert torch.allclose(loss, ref)
    torch.testing.assert_close(grad, Cg.grad, rtol=1e-5, atol=1e-7)
    # j is the nearest dithered point
    assert torch.equal(j, torch.cdist(x, p.detach()).argmin(1))


def test_lr_schedule_halves_at_60_and_80_percent_of_the_steps():
    assert [stage_lr(1.0, s, 10) for s in range(10)] == [1.0] * 6 + [0.5] * 2 + [0.25] * 2
    assert stage_lr(1.0, 0, 1) == 1.0
    lrs = [stage_lr(1e-3, s, 1000) for s in range(1000)]
    assert lrs[599] == 1e-3 and lrs[600] == 5e-4 and lrs[800] == 2.5e-4


def test_history_records_the_schedule(ring_2d):
    q = SFVQ(bits=2, n_epochs=5, lr=0.1, random_state=0, progress=False).fit(ring_2d)
    assert [h["lr"] for h in q.history_] == [0.1, 0.1, 0.1, 0.05, 0.025]


def test_unshuffled_fit_differs_and_is_deterministic(ring_2d):
    a = SFVQ(bits=3, shuffle=False, random_state=0, progress=False).fit(ring_2d).codebook_
    b = SFVQ(bits=3, shuffle=False, random_state=0, progress=False).fit(ring_2d).codebook_
    c = SFVQ(bits=3, shuffle=True, random_state=0, progress=False).fit(ring_2d).codebook_
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_sklearn_clone_and_params():
    q = SFVQ(bits=7, lr=0.01, random_state=3)
    q2 = clone(q)
    assert q2.get_params() == q.get_params()
    assert "bits=7" in repr(q)


def test_refit_replaces_state(ring_2d, gauss_16d):
    q = SFVQ(bits=3, random_state=0, progress=False).fit(ring_2d)
    q.fit(gauss_16d)
    assert q.codebook_.shape == (8, 16) and q.n_features_in_ == 16


def test_save_load_roundtrip(fitted_ring, ring_2d, tmp_path):
    path = fitted_ring.save(tmp_path / "ring.sfvq")
    q = SFVQ.load(path)
    assert np.array_equal(q.codebook_, fitted_ring.codebook_)
    for b in fitted_ring.codebooks_:
        assert np.array_equal(q.codebooks_[b], fitted_ring.codebooks_[b])
    assert q.get_params() == fitted_ring.get_params()
    assert q.history_ == fitted_ring.history_
    np.testing.assert_array_equal(q.transform(ring_2d), fitted_ring.transform(ring_2d))
    assert not list(tmp_path.glob("*.tmp")), "temporary file left behind"


class _Interrupt(Exception):
    pass


def test_interrupted_fit_resumes_to_the_same_curve(ring_2d, tmp_path, monkeypatch):
    """A fit stopped mid-stage and restarted ends bit-identical to an uninterrupted one."""
    import sfvq_lib.sfvq as sfvq_module

    params = dict(bits=4, n_epochs=3, batch_size=256, random_state=7, progress=False)
    full = SFVQ(**params).fit(ring_2d)

    ck = tmp_path / "fit.ckpt"
    calls = {"n": 0}
    real = sfvq_module.train_stage

    def interrupted_train_stage(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # in the 4-bit stage ... after its first epoch
            user_on_epoch = kwargs["on_epoch"]

            def on_epoch(state, log):
                user_on_epoch(state, log)
                raise _Interrupt

            kwargs["on_epoch"] = on_epoch
        return real(*args, **kwargs)

    monkeypatch.setattr(sfvq_module, "train_stage", interrupted_train_stage)
    with pytest.raises(_Interrupt):
        SFVQ(checkpoint=ck, **params).fit(ring_2d)
    assert ck.exists()
    monkeypatch.setattr(sfvq_module, "train_stage", real)
    resumed = SFVQ(checkpoint=ck, **params).fit(ring_2d)
    assert np.array_equal(resumed.codebook_, full.codebook_)
    assert resumed.history_ == full.history_


def test_interrupted_at_a_stage_boundary_resumes_to_the_same_curve(ring_2d, tmp_path, monkeypatch):
    import sfvq_lib.sfvq as sfvq_module

    params = dict(bits=4, n_epochs=2, batch_size=256, random_state=3, progress=False)
    full = SFVQ(**params).fit(ring_2d)
    ck = tmp_path / "fit.ckpt"
    real, calls = sfvq_module.train_stage, {"n": 0}

    def stop_before_stage_3(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise _Interrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sfvq_module, "train_stage", stop_before_stage_3)
    with pytest.raises(_Interrupt):
        SFVQ(checkpoint=ck, **params).fit(ring_2d)
    saved = torch.load(ck, weights_only=True)
    assert saved["bits"] == 3 and saved["stage_state"] is None
    monkeypatch.setattr(sfvq_module, "train_stage", real)
    resumed = SFVQ(checkpoint=ck, **params).fit(ring_2d)
    assert np.array_equal(resumed.codebook_, full.codebook_)


def test_checkpoint_for_other_params_or_data_is_refused(ring_2d, tmp_path):
    ck = tmp_path / "fit.ckpt"
    SFVQ(bits=3, random_state=0, progress=False, checkpoint=ck).fit(ring_2d)
    with pytest.raises(ValueError, match="other parameters or other data: delete it to start over"):
        SFVQ(bits=3, lr=0.5, random_state=0, progress=False, checkpoint=ck).fit(ring_2d)
    changed = ring_2d.copy()
    changed[1, 0] += 1e-3  # one value in one row
    with pytest.raises(ValueError, match="other parameters or other data"):
        SFVQ(bits=3, random_state=0, progress=False, checkpoint=ck).fit(changed)


def test_checkpoint_needs_an_int_seed(ring_2d, tmp_path):
    with pytest.raises(TypeError, match="random_state to be an int or None"):
        SFVQ(bits=2, random_state=np.random.RandomState(0), checkpoint=tmp_path / "c", progress=False).fit(
            ring_2d
        )


def test_curve_fitted_on_a_missing_gpu_loads_on_cpu(fitted_ring, ring_2d, tmp_path):
    path = fitted_ring.save(tmp_path / "q.sfvq")
    obj = torch.load(path, weights_only=True)
    obj["params"]["device"] = "cuda:99"
    torch.save(obj, path)
    with pytest.warns(UserWarning, match="which this machine lacks; using 'cpu'"):
        q = SFVQ.load(path)
    assert q.device == "cpu"
    np.testing.assert_array_equal(q.transform(ring_2d), fitted_ring.transform(ring_2d))


def test_saved_file_has_the_usual_permissions(fitted_ring, tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = fitted_ring.save(tmp_path / "q.sfvq")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fit_matches_cpu_quality(ring_2d):
    cpu = SFVQ(bits=4, n_epochs=3, lr=0.01, random_state=0, progress=False).fit(ring_2d)
    gpu = SFVQ(bits=4, n_epochs=3, lr=0.01, random_state=0, progress=False, device="cuda").fit(ring_2d)
    assert abs(gpu.score(ring_2d) - cpu.score(ring_2d)) < 0.02
    t = gpu.transform(torch.from_numpy(ring_2d).cuda())
    assert t.is_cuda
