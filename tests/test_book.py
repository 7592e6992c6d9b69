"""The book builds offline with warnings as errors, and its pages need no network."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    exe = Path(sys.executable).with_name("jupyter-book")
    if not exe.exists():
        pytest.fail("jupyter-book is not installed in this environment: run `make test`")
    res = subprocess.run(
        [
            str(exe),
            "build",
            str(ROOT),
            "--path-output",
            str(out),
            "--warningiserror",
            "--nitpick",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert res.returncode == 0, f"book build failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    html = out / "_build" / "html"
    yield html
    shutil.rmtree(out, ignore_errors=True)


def test_intro_page_is_built_with_its_equations(built_book):
    page = (built_book / "book" / "intro.html").read_text()
    assert "space-filling vector quantization" in page
    assert page.count('class="math') >= 8, "display equations missing"


def test_pages_load_no_remote_script_style_or_font(built_book):
    for page in built_book.rglob("*.html"):
        text = page.read_text()
        remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', text)
        assert not remote, f"{page.name} loads {remote[:3]}"


def test_math_renderer_is_served_locally(built_book):
    page = (built_book / "book" / "intro.html").read_text()
    m = re.search(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, flags=re.I)
    assert m, "no MathJax script tag"
    target = (built_book / "book" / m.group(1).split("?")[0]).resolve()
    assert target.is_file(), f"MathJax script {m.group(1)} is not in the build"
