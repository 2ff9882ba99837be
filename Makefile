# litgan: `make train` and `make test` work on a fresh clone (they create .venv when missing).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install train test bench notebooks lint clean

help: ## show this help
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv (if missing) and install litgan with its dev tools

train: $(STAMP) ## train the default model (WGAN-GP on the 8-Gaussian ring); ARGS="model=gan ..." to override
	$(BIN)/python src/train.py $(ARGS)

test: $(STAMP) ## run the test suite (unit, end-to-end, DDP on 2 CPU processes, notebooks)
	LITGAN_NOTEBOOK_STEPS=$${LITGAN_NOTEBOOK_STEPS:-40} $(BIN)/python -m pytest tests notebooks --nbmake -q -n auto --dist worksteal $(ARGS)

bench: $(STAMP) ## speed against a plain PyTorch loop, and quality runs (minutes; not part of `make test`)
	$(BIN)/python -m pytest tests/benchmarks -m bench -s -q $(ARGS)

notebooks: $(STAMP) ## run every notebook in full and save it with its outputs (figures); minutes each
	cd notebooks && env -u LITGAN_NOTEBOOK_STEPS ../$(BIN)/jupyter-execute --inplace --timeout=1800 *.ipynb
	@# keep results and figures; the runs' warnings and logs (stderr) name this machine's paths
	for nb in notebooks/*.ipynb; do $(BIN)/python -c "import sys, nbformat; nb = nbformat.read(sys.argv[1], 4); \
		[cell.update(outputs=[o for o in cell.outputs if o.get('name') != 'stderr']) for cell in nb.cells if cell.cell_type == 'code']; \
		nbformat.write(nb, sys.argv[1])" $$nb || exit 1; done

lint: $(STAMP) ## the pre-commit hooks on every file: ruff check --fix, ruff format, workflow schema (as CI)
	$(BIN)/pre-commit run --all-files

clean: ## remove run outputs and caches (keeps .venv)
	rm -rf logs outputs multirun wandb .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
