"""Every user mistake gets one clear message that names the argument and the fix."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from sfvq_lib import SFVQ


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).standard_normal((300, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(X):
    return SFVQ(bits=3, random_state=0, progress=False).fit(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X(X, bad):
    Y = X.copy()
    Y[17, 1] = bad
    with pytest.raises(ValueError, match=r"X contains NaN or inf \(first in row 17\)"):
        SFVQ(bits=2, progress=False).fit(Y)
    with pytest.raises(ValueError, match="NaN or inf"):
        SFVQ(bits=2, progress=False).fit(torch.from_numpy(Y))


def test_non_finite_X_in_transform(fitted, X):
    Y = X.copy()
    Y[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        fitted.transform(Y)


@pytest.mark.parametrize("shape", [(300,), (2, 3, 50)])
def test_X_not_2d(shape):
    with pytest.raises(ValueError, match=r"X must be 2-D \(n_samples, n_features\)"):
        SFVQ(bits=2, progress=False).fit(np.zeros(shape, np.float32))


def test_X_1d_hint():
    with pytest.raises(ValueError, match=r"X.reshape\(-1, 1\) for one feature"):
        SFVQ(bits=2, progress=False).fit(np.zeros(300, np.float32))


def test_X_of_strings():
    with pytest.raises(TypeError, match="X must hold real numbers"):
        SFVQ(bits=2, progress=False).fit(np.array([["a", "b"]] * 8))


def test_too_few_samples_for_bits(X):
    with pytest.raises(ValueError, match=r"bits=9 needs at least 512 samples .* got 300: use bits <= 8"):
        SFVQ(bits=9, progress=False).fit(X)


@pytest.mark.parametrize("bits", [1, 0, -3])
def test_bits_below_2(X, bits):
    with pytest.raises(ValueError, match="bits must be >= 2"):
        SFVQ(bits=bits, progress=False).fit(X)


def test_bits_not_an_integer(X):
    with pytest.raises(TypeError, match="bits must be an integer"):
        SFVQ(bits=2.5, progress=False).fit(X)


@pytest.mark.parametrize("n_epochs", [0, -1])
def test_n_epochs_below_1(X, n_epochs):
    with pytest.raises(ValueError, match="n_epochs must be >= 1"):
        SFVQ(bits=2, n_epochs=n_epochs, progress=False).fit(X)


@pytest.mark.parametrize(
    "params,match",
    [
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"lr": -1.0}, "lr must be a positive number"),
        ({"expansion_eps": 0.7}, r"expansion_eps must lie in \(0, 0.5\)"),
        ({"device": "quantum"}, "not a torch device"),
        ({"device": "meta"}, r"not supported: use 'cpu' or 'cuda\[:index\]'"),
        ({"device": "cuda:99"}, "no usable CUDA GPU|has 1 CUDA GPU"),
    ],
)
def test_other_bad_parameters(X, params, match):
    with pytest.raises(ValueError, match=match):
        SFVQ(bits=2, progress=False, **params).fit(X)


@pytest.mark.parametrize("method", ["transform", "quantize", "predict", "score"])
def test_use_before_fit(X, method):
    with pytest.raises(NotFittedError, match="call fit first"):
        getattr(SFVQ(), method)(X)


def test_inverse_transform_before_fit():
    with pytest.raises(NotFittedError, match="call fit first"):
        SFVQ().inverse_transform(np.zeros(3))


def test_feature_count_differs_from_fit(fitted):
    with pytest.raises(ValueError, match="X has 4 features, but the curve was fitted on 3"):
        fitted.transform(np.zeros((5, 4), np.float32))


@pytest.mark.parametrize("t", [[-0.5, 1.0], [0.0, 7.01], [np.nan]])
def test_t_outside_the_curve(fitted, t):
    with pytest.raises(ValueError, match=r"t must lie in \[0, 7\]|t contains NaN"):
        fitted.inverse_transform(np.array(t))


def test_t_not_1d(fitted):
    with pytest.raises(ValueError, match="t must be 1-D"):
        fitted.inverse_transform(np.zeros((2, 2)))


def test_unfitted_bitrate(fitted, X):
    with pytest.raises(ValueError, match=r"bits=5 is not a fitted bitrate; choose one of \[2, 3\]"):
        fitted.transform(X, bits=5)


def test_truncated_file(fitted, tmp_path):
    path = fitted.save(tmp_path / "q.sfvq")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated, corrupt or not written by sfvq_lib"):
        SFVQ.load(path)


def test_corrupt_file(tmp_path):
    path = tmp_path / "q.sfvq"
    path.write_bytes(b"this is not a curve" * 10)
    with pytest.raises(ValueError, match="not a readable sfvq_lib.SFVQ file"):
        SFVQ.load(path)


class _PlantsAMarker:
    """Unpickling this would create a file: proof that code from the file ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_file_with_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.sfvq"
    torch.save({"kind": "sfvq_lib.SFVQ", "format_version": 1, "x": _PlantsAMarker(marker)}, path)
    with pytest.raises(ValueError, match="not a readable"):
        SFVQ.load(path)
    assert not marker.exists(), "loading ran code from the file"


def test_file_from_another_version(fitted, tmp_path):
    path = fitted.save(tmp_path / "q.sfvq")
    obj = torch.load(path, weights_only=True)
    obj["format_version"] = 99
    torch.save(obj, path)
    with pytest.raises(ValueError, match="format version 99, this sfvq_lib reads version 1"):
        SFVQ.load(path)


def test_file_of_another_kind(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"kind": "something.else", "format_version": 1}, path)
    with pytest.raises(ValueError, match="holds a 'something.else'"):
        SFVQ.load(path)


def test_damaged_contents(fitted, tmp_path):
    path = fitted.save(tmp_path / "q.sfvq")
    obj = torch.load(path, weights_only=True)
    obj["codebooks"][3] = torch.zeros(5, 3)
    torch.save(obj, path)
    with pytest.raises(ValueError, match="damaged"):
        SFVQ.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        SFVQ.load(tmp_path / "nope.sfvq")


def test_interrupted_save_leaves_old_file_intact(fitted, tmp_path, monkeypatch):
    path = fitted.save(tmp_path / "q.sfvq")
    before = path.read_bytes()

    def boom(obj, f, *a, **k):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        fitted.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["q.sfvq"], "temporary file left behind"
    SFVQ.load(path)
