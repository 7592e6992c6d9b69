"""Open every chapter page of a built study book in headless Chromium.

Usage: python -m tests.check_book STUDY_DIR   (after `sfvq study --out STUDY_DIR`)
Fails (exit 1) when a page is missing or one of its images does not load; saves a
screenshot of every page under STUDY_DIR/screenshots/.
"""

import sys
from pathlib import Path

import yaml

from sfvq_lib.study import ROOT
from tests.browser import check_page


def main(study_dir: str) -> int:
    out = Path(study_dir)
    html = out / "_build" / "html"
    toc = yaml.safe_load((out / "_toc.yml").read_text())
    pages = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    bad = []
    for page in pages:
        path = html / f"{page}.html"
        if not path.is_file():
            bad.append(f"{path}: missing")
            continue
        report = check_page(path, out / "screenshots" / f"{page.replace('/', '-')}.png")
        if report["images"] == 0 or report["loaded"] != report["images"]:
            bad.append(f"{path}: {report['loaded']} of {report['images']} images loaded")
    for line in bad:
        print(line, file=sys.stderr)
    print(f"{len(pages) - len(bad)} of {len(pages)} chapter pages load with all their figures")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "build" / "study")))
