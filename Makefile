# The README's two commands:
#   make book   set up .venv (first time), run the study and build the book into build/study/
#   make test   set up .venv (first time) and run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test benchmark clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	touch $(STAMP)

# the whole study on the bundled GANs: notebooks executed by papermill, then the book
book: $(STAMP)
	$(BIN)/sfvq study --out build/study

# headless Chromium (Debian package) opens the built book in the tests
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get install -y -q chromium || sudo apt-get install -y -q chromium

test: $(STAMP) $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q
	# every chapter in quick mode on the bundled GANs, and the book (CI regenerates every figure)
	$(BIN)/sfvq study --quick --out build/study-quick -q
	$(BIN)/python -m tests.check_book build/study-quick

benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_sfvq.py
	$(BIN)/python benchmarks/bench_gan.py

clean:
	rm -rf build _build
