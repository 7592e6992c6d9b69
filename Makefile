# The README's two commands:
#   make book   set up .venv (first time) and build the book into build/
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

book: $(STAMP)
	$(BIN)/jupyter-book build . --path-output build --warningiserror --nitpick --keep-going
	@echo "The book is in build/_build/html/index.html"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_sfvq.py
	$(BIN)/python benchmarks/bench_gan.py

clean:
	rm -rf build _build
