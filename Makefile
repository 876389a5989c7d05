# Bootstraps its own environment: only Python 3.11 and pip are needed on the machine.
# uv is installed into .tools/ (never into the system Python), the project into .venv/ from the
# committed uv.lock.
PYTHON ?= python3
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
VENV   := .venv
STAMP  := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml | cksum | cut -d' ' -f1)

export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: demo test bench lab dagster env clean

demo: $(STAMP)  ## synthetic group → full pipeline on the embedded lakehouse (.demo/)
	$(VENV)/bin/hospital-sdk demo --workdir .demo

test: $(STAMP)  ## the whole test suite (benchmarks excluded)
	$(VENV)/bin/python -m pytest

bench: $(STAMP)  ## benchmarks (off by default): results go to BENCHMARKS.md
	$(VENV)/bin/python -m tests.benchmarks.run

dagster: $(STAMP)  ## Dagster UI on the demo's lakehouse (run `make demo` first): http://127.0.0.1:3000
	mkdir -p .dagster && cp assets/dagster.yaml .dagster/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster HOSPITAL_SDK_HOME=$(CURDIR)/.demo/lake \
	HOSPITAL_SDK_SOURCE=$(CURDIR)/.demo/source \
	$(VENV)/bin/dagster dev -m assets.definitions -h 127.0.0.1 -p 3000

lab: $(STAMP)  ## JupyterLab on the notebooks/
	$(VENV)/bin/jupyter lab notebooks/

env: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.9

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	rm -f $(VENV)/.synced-* && touch $@

clean:
	rm -rf .demo .bench .dagster
