"""The study pipeline: parameters, caching, failures, the book's table of contents."""

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from sfvq_lib import study

FAKE = "python:tests.fake_nvidia:make"
FAKE_BIGGAN = "python:tests.fake_biggan:make"


@pytest.fixture()
def out(monkeypatch):
    # the executed notebooks must live inside the project (the book's root)
    path = study.ROOT / "build" / "test-study"
    shutil.rmtree(path, ignore_errors=True)
    monkeypatch.setenv("PYTHONPATH", str(study.ROOT))  # the kernels import tests.fake_nvidia
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_parameters_are_checked():
    p = study.study_parameters(bits=4, n_samples=100, truncation_psi=1)
    assert p["truncation_psi"] == 1.0 and isinstance(p["truncation_psi"], float)
    with pytest.raises(ValueError, match="parameter n_samples must be int, got '100'"):
        study.study_parameters(n_samples="100")
    with pytest.raises(ValueError, match="parameter quick must be bool"):
        study.study_parameters(quick=1)
    with pytest.raises(
        ValueError, match=r"n_samples=100 is too few for bits=8.*raise n_samples or lower bits"
    ):
        study.study_parameters(n_samples=100, bits=8)
    with pytest.raises(ValueError, match=r"unknown study parameter\(s\) \['bitz'\]"):
        study.study_parameters(bitz=3)


def test_slugs():
    assert study.gan_slug("builtin:shapes-stylegan") == "shapes-stylegan"
    assert study.gan_slug("nvidia:/models/ffhq-1024.pkl") == "nvidia-ffhq-1024"
    assert study.gan_slug("biggan:/models/biggan-deep-128/") == "biggan-biggan-deep-128"
    assert study.gan_slug(FAKE) == "python-tests-fake-nvidia-make"
    assert study.gan_slug("builtin:run/snapshots/shapes-stylegan-002000.pt") == "shapes-stylegan-002000"


def test_specs_reach_the_notebooks_with_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the notebooks run in their own folder: a relative path would miss
    assert study.absolute_spec("builtin:run/g.pt") == f"builtin:{tmp_path / 'run' / 'g.pt'}"
    assert study.absolute_spec("nvidia:ffhq.pkl") == f"nvidia:{tmp_path / 'ffhq.pkl'}"
    assert study.absolute_spec("biggan:models/b128") == f"biggan:{tmp_path / 'models' / 'b128'}"
    for spec in ("builtin:shapes-stylegan", FAKE, "nvidia:/models/ffhq-1024.pkl"):
        assert study.absolute_spec(spec) == spec
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # ~ is the user's folder, for every kind
    assert study.absolute_spec("nvidia:~/ffhq.pkl") == f"nvidia:{tmp_path / 'home' / 'ffhq.pkl'}"
    with pytest.raises(ValueError, match="unknown GAN spec 'magic:thing'"):
        study.absolute_spec("magic:thing")


def test_missing_artifact_names_the_chapter(tmp_path):
    with pytest.raises(FileNotFoundError, match="written by chapter 01-latent-sampling"):
        study.load_artifact(tmp_path, "01-latent-sampling", "latents.npy")


def test_every_chapter_runs_quick_and_the_book_builds(out):
    """What CI does for the bundled GANs, on a stand-in NVIDIA-shaped generator."""
    gans = [FAKE, FAKE_BIGGAN]
    executed = study.run_study(gans, out=out, quick=True, n_samples=256, bits=4, progress=False)
    expected = [
        f"{study.gan_slug(spec)}/{c.name}.ipynb"
        for spec, family in ((FAKE, "stylegan"), (FAKE_BIGGAN, "biggan"))
        for c in study.CHAPTERS
        if c.per_gan and family in c.families
    ] + [f"{study.PAPER}/{c.name}.ipynb" for c in study.CHAPTERS if not c.per_gan]
    assert [f"{p.parent.name}/{p.name}" for p in executed] == expected
    assert {c.name for c in study.CHAPTERS} == {p.stem for p in executed}  # every chapter ran
    assert {"fig-samples", "fig-pca", "k90_z", "pr_main"} <= study.glued_keys(executed[0])
    assert (
        out / "python-tests-fake-nvidia-make" / "artifacts" / "01-latent-sampling" / "latents.npy"
    ).is_file()
    toc = study.write_toc(executed, out, gans)
    text = toc.read_text()
    assert f'caption: "{FAKE}"' in text and "file: build/test-study/python-tests-fake-nvidia-make/01-" in text
    html = study.build_book(toc, out)
    from tests.browser import check_page

    for nb in executed:  # every chapter page opens in headless Chromium with all its figures
        page = html.parent / nb.relative_to(study.ROOT).with_suffix(".html")
        shot = study.ROOT / "build" / "screenshots" / f"{nb.parent.name}-{nb.stem}.png"
        report = check_page(page, shot)
        assert report["images"] > 0 and report["loaded"] == report["images"], (page, report)
        assert shot.stat().st_size > 10_000, shot


def test_unchanged_chapters_are_not_executed_again(out):
    kw = dict(out=out, quick=True, n_samples=256, bits=4, progress=False, chapters=study.CHAPTERS[:1])
    (first,) = study.run_study([FAKE], **kw)
    stamp = first.stat().st_mtime_ns
    study.run_study([FAKE], **kw)  # nothing changed: nothing re-executed
    assert first.stat().st_mtime_ns == stamp
    study.run_study([FAKE], **{**kw, "seed": 1})  # another parameter: executed again
    assert first.stat().st_mtime_ns != stamp
    with pytest.raises(ValueError, match="must lie inside the project"):
        study.write_toc([study.ROOT.parent / "elsewhere" / "x.ipynb"], out)


def test_a_failing_cell_names_notebook_and_cell(out, monkeypatch, tmp_path):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("gan = ''")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "99-broken.ipynb")
    monkeypatch.setattr(study, "BOOK_DIR", tmp_path)
    with pytest.raises(study.StudyError, match=r"99-broken.ipynb failed in cell \d+ \(ZeroDivisionError"):
        study.run_study([FAKE], out=out, chapters=(study.Chapter("99-broken"),), progress=False)
    assert not (out / "python-tests-fake-nvidia-make" / "99-broken.ipynb").exists()  # no stale copy


def test_cli_study_rejects_unknown_gan_before_running(capsys):
    from sfvq_lib.cli import main

    assert main(["study", "--gan", "builtin:nope", "--no-book"]) == 2
    assert "no built-in GAN 'nope'" in capsys.readouterr().err


def test_cli_study_checks_parameters_before_running(capsys):
    from sfvq_lib.cli import main

    assert main(["study", "--gan", FAKE, "--n-samples", "100", "--bits", "8", "--no-book"]) == 2
    assert "n_samples=100 is too few for bits=8" in capsys.readouterr().err


def test_same_seed_same_figures(out):
    """A figure that changes with the same seed is a bug: two fresh runs, identical images."""
    kw = dict(quick=True, n_samples=256, bits=4, progress=False, chapters=study.CHAPTERS[:2])
    a = study.run_study([FAKE], out=out / "a", **kw)
    b = study.run_study([FAKE], out=out / "b", **kw)

    def images(nb):  # glued figures are stored under papermill's record prefix
        cells = json.loads(nb.read_text())["cells"]
        outputs = [o.get("data", {}) for c in cells for o in c.get("outputs", [])]
        return [v for data in outputs for k, v in data.items() if k.endswith("image/png")]

    for x, y in zip(a, b, strict=True):
        assert images(x) and images(x) == images(y), x.name


def test_a_retrained_generator_reruns_its_chapters(tmp_path):
    from sfvq_lib.gan import adapter

    params = study.study_parameters(gan="builtin:shapes-stylegan")
    nb = study.BOOK_DIR / "01-latent-sampling.ipynb"
    key = study._cache_key(nb, params, [])
    assert study._generator_files("builtin:shapes-stylegan") == [adapter.BUILTIN_DIR / "shapes-stylegan.pt"]
    b128 = Path("/models/b128")
    assert study._generator_files(f"biggan:{b128}") == [b128 / "config.json", b128 / "pytorch_model.bin"]
    assert study._generator_files(FAKE) == []  # code, not a file
    weights = tmp_path / "g.pkl"
    weights.write_bytes(b"one")
    a = study._cache_key(nb, {**params, "gan": f"nvidia:{weights}"}, [])
    weights.write_bytes(b"two")  # the same spec, other weights
    assert study._cache_key(nb, {**params, "gan": f"nvidia:{weights}"}, []) not in (a, key)
    snapshot = tmp_path / "shapes-stylegan-000500.pt"  # builtin:PATH.pt: that file counts
    assert study._generator_files(f"builtin:{snapshot}") == [snapshot]
    snapshot.write_bytes(b"one")
    b = study._cache_key(nb, {**params, "gan": f"builtin:{snapshot}"}, [])
    snapshot.write_bytes(b"two")
    assert study._cache_key(nb, {**params, "gan": f"builtin:{snapshot}"}, []) != b
