# Two entry points (see README): `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench clean

# Without ensurepip (Debian's python3 without python3-venv) the venv is made bare and the system pip
# installs pip into it (pip >= 22.3 has --python).
$(PY):
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV) && $(PYTHON) -m venv --without-pip $(VENV) && \
		$(PYTHON) -m pip --python $(PY) install -q pip; }
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed-demo: $(PY) pyproject.toml
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(PY) pyproject.toml
	$(PY) -m pip install -q -e ".[test]"
	touch $@

demo: $(VENV)/.installed-demo
	$(VENV)/bin/chainrule demo

test: $(VENV)/.installed-test
	$(PY) -m pytest tests

# The benchmark suite compares against PyTorch (and HIPS autograd): both are installed for it, never for chainrule.
$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(PY) -m pip install -q torch==2.13.0 autograd
	touch $@

bench: $(VENV)/.installed-bench
	$(PY) benchmarks/run.py --write BENCHMARKS.md

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
