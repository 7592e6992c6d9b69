"""The study: every experiment notebook executed by papermill, then built into the book.

`run_study` executes the chapter notebooks of ``book/`` for each generator spec, in
order, into ``OUT/<gan>/`` (never over the sources), with the run's parameters
injected into each notebook's ``parameters`` cell. Later chapters read the artifacts
(latents, curves, directions) that earlier ones wrote; each chapter writes into its own
folder ``OUT/<gan>/artifacts/<chapter>/`` (`chapter_dir`) and reads the others' with
`load_artifact`, which names the chapter to run when a file is missing.

A notebook is re-executed only when something it depends on changed: its cache key
hashes the notebook, its parameters, the library version and source, the generator's
weights file(s) and the probe, and the artifacts of every chapter before it. A failing
cell stops the study with the notebook and the cell named; an interrupted study
resumes at the first chapter that has no up-to-date executed copy. `write_toc` then
lists the executed copies, one part per generator, for Jupyter Book
(``execute_notebooks: 'off'``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from . import __version__

__all__ = [
    "CHAPTERS",
    "DEFAULT_GANS",
    "Chapter",
    "StudyError",
    "chapter_dir",
    "gan_slug",
    "glued_keys",
    "inputs_digest",
    "load_artifact",
    "markdown",
    "markdown_table",
    "run_study",
    "study_parameters",
]

ROOT = Path(__file__).resolve().parents[1]
BOOK_DIR = ROOT / "book"
DEFAULT_GANS = ("builtin:shapes-stylegan", "builtin:shapes-biggan")


@dataclass(frozen=True)
class Chapter:
    name: str  # notebook file stem in book/
    families: tuple[str, ...] = ("stylegan", "biggan")  # generator families it applies to
    per_gan: bool = True  # False: it needs no generator and runs once (OUT/paper/)


CHAPTERS = (
    Chapter("01-latent-sampling"),
    Chapter("02-curve-fitting"),
    Chapter("03-panoptic-regions", families=("stylegan",)),
    Chapter("04-directions", families=("stylegan",)),
    Chapter("05-augmentation", families=("stylegan",)),
    Chapter("06-biggan", families=("biggan",)),
    Chapter("07-paper-curves", per_gan=False),
    Chapter("08-benchmark"),
)
PAPER = "paper"  # the folder (and book part) of the chapters that need no generator


class StudyError(RuntimeError):
    """A chapter failed: the message names the notebook, the cell and the error."""


# the parameters every chapter notebook declares, with their types
PARAMETERS = {
    "gan": str,
    "n_samples": int,
    "bits": int,
    "seed": int,
    "truncation_psi": float,
    "device": str,
    "quick": bool,
    "artifacts": str,
}


def study_parameters(**given) -> dict:
    """Checked notebook parameters: defaults overridden by ``given``.

    Raises ``ValueError`` naming the parameter for an unknown name or a wrong type.
    """
    params = {
        "gan": DEFAULT_GANS[0],
        "n_samples": 20000,
        "bits": 8,
        "seed": 0,
        "truncation_psi": 1.0,
        "device": "cpu",
        "quick": False,
        "artifacts": "artifacts",
    }
    unknown = sorted(set(given) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"unknown study parameter(s) {unknown}: the parameters are {sorted(PARAMETERS)}")
    params.update(given)
    for name, kind in PARAMETERS.items():
        value = params[name]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            params[name], ok = float(value), True
        if not ok:
            raise ValueError(
                f"parameter {name} must be {kind.__name__}, got {value!r} ({type(value).__name__})"
            )
    if params["bits"] < 2:
        raise ValueError(f"parameter bits must be >= 2, got {params['bits']}")
    if params["n_samples"] < 2 ** params["bits"]:
        raise ValueError(
            f"n_samples={params['n_samples']} is too few for bits={params['bits']}: a curve of "
            f"{2 ** params['bits']} corner points needs at least that many samples; "
            "raise n_samples or lower bits"
        )
    if not 0 < params["truncation_psi"] <= 1:
        raise ValueError(f"parameter truncation_psi must lie in (0, 1], got {params['truncation_psi']}")
    return params


def gan_slug(spec: str) -> str:
    """A folder-safe name for a spec (``builtin:shapes-stylegan`` → ``shapes-stylegan``)."""
    kind, _, rest = spec.partition(":")
    if kind in ("nvidia", "biggan") or (kind == "builtin" and rest.endswith(".pt")):
        rest = Path(rest.rstrip("/")).name.removesuffix(".pkl").removesuffix(".pt")
    name = rest if kind == "builtin" else f"{kind}-{rest}"
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ValueError(f"cannot name a study folder after GAN spec {spec!r}")
    return slug


def _hash_files(h, folder: Path) -> None:
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".tmp")):
        h.update(str(path.relative_to(folder)).encode())
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)


def _generator_files(spec: str) -> list[Path]:
    """The files a generator spec is read from (a retrained GAN must re-run its chapters)."""
    from .gan.adapter import spec_source

    source = spec_source(spec)
    if source is None:  # python: specs are code; their module is the user's to version
        return []
    if spec.startswith("biggan:"):
        return [source / "config.json", source / "pytorch_model.bin"]
    return [source]


def inputs_digest(spec: str) -> str:
    """sha256 of what any result on generator ``spec`` depends on besides its own
    parameters: the library version and source, the generator's files and the probe."""
    h = hashlib.sha256()
    h.update(__version__.encode())
    for src in sorted((ROOT / "sfvq_lib").rglob("*.py")):  # the code the notebook calls
        h.update(src.read_bytes())
    _hash_paths(h, [*_generator_files(spec), ROOT / "data" / "probe"])
    return h.hexdigest()


def _hash_paths(h, paths) -> None:
    for path in paths:
        if path.is_file():
            h.update(path.read_bytes())
        else:
            _hash_files(h, path)


def _cache_key(notebook: Path, params: dict, inputs: list[Path]) -> str:
    h = hashlib.sha256()
    h.update(notebook.read_bytes())
    h.update(json.dumps(params, sort_keys=True).encode())
    h.update(inputs_digest(params["gan"]).encode())
    _hash_paths(h, inputs)
    return h.hexdigest()


def chapter_dir(artifacts, chapter: str) -> Path:
    """The folder where ``chapter`` writes its artifacts (created)."""
    path = Path(artifacts) / chapter
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_artifact(artifacts, chapter: str, name: str) -> Path:
    """The path of artifact ``name`` written by ``chapter``; a clear error if it is missing."""
    path = Path(artifacts) / chapter / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: it is written by chapter {chapter}; run the study from that chapter "
            f"(sfvq study) before this one"
        )
    return path


def _execute(src: Path, dst: Path, params: dict) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    tmp = dst.with_name(dst.stem + ".partial.ipynb")
    try:
        papermill.execute_notebook(
            str(src),
            str(tmp),
            parameters=params,
            kernel_name="python3",
            progress_bar=False,
            cwd=str(dst.parent),
        )
    except PapermillExecutionError as e:
        message = f"{src.name} failed in cell {e.exec_count} ({e.ename}: {e.evalue})"
        raise StudyError(f"{message}; the executed notebook with the traceback is {tmp}") from None
    os.replace(tmp, dst)


def absolute_spec(spec: str) -> str:
    """``spec`` with its file or folder made absolute (the notebooks run in their own folder), as
    the adapter reads it: ``generator_family`` and the notebooks load the same file."""
    from .gan.adapter import parse_spec, spec_source

    kind, rest = parse_spec(spec)
    if kind in ("nvidia", "biggan") or (kind == "builtin" and rest.endswith(".pt")):  # a path, not a name
        return f"{kind}:{spec_source(spec).resolve()}"
    return spec


def generator_family(spec: str) -> str:
    """``"stylegan"`` (has a W space) or ``"biggan"`` (z only) for a generator spec."""
    from .gan import load_generator

    return "stylegan" if load_generator(spec).w_dim else "biggan"


def run_study(
    gans=DEFAULT_GANS, out="build/study", progress: bool = True, chapters=None, **parameters
) -> list[Path]:
    """Execute every chapter for every generator; returns the executed notebooks.

    ``parameters`` override the notebooks' defaults (see `study_parameters`).
    """
    out = Path(out)
    chapters = CHAPTERS if chapters is None else chapters
    runs = []
    for spec in gans:
        slug = gan_slug(spec)
        if slug == PAPER:
            raise ValueError(f"a generator spec may not be named {PAPER!r}: rename {spec}")
        artifacts = (out / slug / "artifacts").resolve()
        params = study_parameters(**{**parameters, "gan": absolute_spec(spec), "artifacts": str(artifacts)})
        family = generator_family(spec)
        mine = [ch for ch in chapters if ch.per_gan and family in ch.families]
        runs += [(slug, artifacts, params, ch, mine) for ch in mine]
    once = [ch for ch in chapters if not ch.per_gan]
    if once:
        artifacts = (out / PAPER / "artifacts").resolve()
        params = study_parameters(**{**parameters, "artifacts": str(artifacts)})
        runs += [(PAPER, artifacts, params, ch, once) for ch in once]
    executed = []
    bar = tqdm(runs, desc="study", unit="notebook", disable=not progress)
    for slug, artifacts, params, chapter, mine in bar:
        src = BOOK_DIR / f"{chapter.name}.ipynb"
        dst = out / slug / f"{chapter.name}.ipynb"
        dst.parent.mkdir(parents=True, exist_ok=True)
        earlier = [artifacts / c.name for c in mine[: mine.index(chapter)]]
        key = _cache_key(src, params, earlier)
        key_file = dst.with_suffix(".key")
        bar.set_postfix_str(f"{slug}/{chapter.name}")
        if not (dst.is_file() and key_file.is_file() and key_file.read_text() == key):
            _execute(src, dst, params)
            key_file.write_text(key)
        executed.append(dst)
    return executed


def write_toc(executed: list[Path], out, gans=()) -> Path:
    """Write ``OUT/_toc.yml``: the introduction, then one part per generator.

    The executed notebooks must lie inside the project (the book's root); ``gans``
    (the specs) caption the parts.
    """
    out = Path(out)
    captions = {gan_slug(spec): spec for spec in gans} | {PAPER: "The paper's published curves"}
    parts: dict[str, list[str]] = {}
    for nb in executed:
        try:
            rel = nb.resolve().relative_to(ROOT)
        except ValueError:
            raise ValueError(
                f"the study folder must lie inside the project {ROOT}, not at {nb.parent}"
            ) from None
        parts.setdefault(nb.parent.name, []).append(rel.with_suffix("").as_posix())
    lines = ["# written by sfvq study: the executed chapters, one part per generator", "format: jb-book"]
    lines += ["root: book/intro", "parts:"]
    for slug, files in parts.items():
        lines.append(f"  - caption: {json.dumps(captions.get(slug, slug))}")
        lines.append("    numbered: true")
        lines.append("    chapters:")
        lines += [f"      - file: {f}" for f in files]
    toc = out / "_toc.yml"
    toc.write_text("\n".join(lines) + "\n")
    return toc


def build_book(toc, out) -> Path:
    """Build the HTML book from the executed notebooks (Jupyter Book, warnings as errors)."""
    import subprocess
    import sys

    cmd = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(ROOT),
        "--toc",
        str(Path(toc).resolve()),
        "--path-output",
        str(Path(out).resolve()),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr).splitlines()
        problems = [line for line in log if "WARNING" in line or "ERROR" in line] or log[-25:]
        raise StudyError("the book build failed:\n" + "\n".join(problems[:40]))
    return Path(out) / "_build" / "html" / "index.html"


def glued_keys(notebook) -> set[str]:
    """The names an executed notebook glued (MyST-NB's ``glue``)."""
    nb = json.loads(Path(notebook).read_text())
    return {
        o["metadata"]["scrapbook"]["name"]
        for cell in nb["cells"]
        for o in cell.get("outputs", [])
        if "scrapbook" in o.get("metadata", {})
    }


def markdown(text: str):
    """``text`` as a Markdown display object, for ``glue`` and ``{glue:md}``."""
    from IPython.display import Markdown

    return Markdown(text)


def markdown_table(records: list[dict], floatfmt: str = ".4g") -> str:
    """A Markdown table of dicts with the same keys (floats formatted with ``floatfmt``)."""
    if not records:
        return "(no rows)"
    keys = list(records[0])

    def cell(v):  # a "|" inside a cell would split it: escape it
        return (format(v, floatfmt) if isinstance(v, float) else str(v)).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(k) for k in keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(r[k]) for k in keys) + " |" for r in records]
    return "\n".join(lines)
