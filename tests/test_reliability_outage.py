"""Drills 3 and 4 with the real command line: the server gone past the retry budget, an
API key that must not leak, and an unwritable output found before any model call."""

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from agentwrite.testing.fault_drill import BRIEF
from agentwrite.testing.fault_proxy import Fault, FaultProxy, seeded
from agentwrite.testing.kill_chain import Pacer
from agentwrite.testing.openai_server import OpenAIServer

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent


def start_cli(args: list[str], cwd: Path, key: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTWRITE_", "OPENAI_"))}
    env |= {
        "PYTHONPATH": str(REPO),
        "AGENTWRITE_API_KEY": key,
        "AGENTWRITE_MAX_RETRIES": "2",
        "AGENTWRITE_RETRY_BASE_DELAY": "0.05",
        "AGENTWRITE_RETRY_MAX_DELAY": "0.1",
        "AGENTWRITE_CONNECT_TIMEOUT": "0.5",
        "AGENTWRITE_TIMEOUT": "0.5",
    }
    argv = [sys.executable, "-m", "agentwrite.cli", *args]
    # output goes to files: a pipe read only at the end fills up with --debug's logs and stalls the run
    outputs = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in finish)
    cli = subprocess.Popen(argv, cwd=cwd, env=env, stdout=outputs[0], stderr=outputs[1], text=True)
    cli.outputs = outputs  # type: ignore[attr-defined]
    return cli


def finish(cli: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """Wait for the command; its stdout and stderr."""
    cli.wait(timeout=timeout)
    texts = []
    for output in cli.outputs:  # type: ignore[attr-defined]
        output.seek(0)
        texts.append(output.read())
        output.close()
    return texts[0], texts[1]


def test_server_gone_then_back_with_faults_and_the_key_never_written(tmp_path: Path) -> None:
    key = "sk-" + secrets.token_hex(16)
    pacer = Pacer(delay=0.1)
    argv = ["write", BRIEF, "--words", "5000", "-o", "doc.md", "--model", "test-model", "-q", "--debug"]
    with OpenAIServer(pacer) as upstream:
        proxy = FaultProxy(upstream.base_url).__enter__()
        port = proxy.port
        first = start_cli([*argv, "--base-url", proxy.base_url], tmp_path, key)
        assert pacer.wait_for(3, timeout=60), "the run never got to its second section"
        proxy.__exit__(None, None, None)  # the server goes away: connections are refused
        out1, err1 = finish(first, timeout=60)
        lines = [line for line in err1.splitlines() if line.startswith("agentwrite: error:")]
        assert first.returncode == 1
        assert len(lines) == 1 and f"http://127.0.0.1:{port}/v1" in lines[0] and "--resume" in lines[0]
        run_dir = tmp_path / "doc.md.run"
        assert (run_dir / "run.json").exists() and not (tmp_path / "doc.md").exists()
        requests_before = len(upstream.completion_requests())

        # back, on the same port, with every kind of fault and one echoing the key
        schedule = seeded(0.4, seed=5, kinds=[*Fault.__members__.values()])
        with FaultProxy(upstream.base_url, schedule, stall=1.0, port=port) as back:
            again = start_cli(
                [*argv, "--base-url", back.base_url, "--resume", "--keep-run-dir"], tmp_path, key
            )
            out2, err2 = finish(again, timeout=120)
        assert again.returncode == 0, err2
        assert back.faulted >= 1
    written = (tmp_path / "doc.md").read_text("utf-8")
    planned = json.loads((tmp_path / "doc.md.json").read_text())["plan"]["sections"]
    assert written.count("\n## ") == len(planned) == 5  # the fewest sections for 5,000 words
    # the resumed run asked only for sections: the plan was kept
    resumed = upstream.completion_requests()[requests_before:]
    assert not any("response_format" in (r.body or {}) for r in resumed)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), f"the API key is in {path}"
    assert run_dir.is_dir() and any(run_dir.iterdir())
    for text in (out1, err1, out2, err2):
        assert key not in text


def test_unwritable_output_fails_before_any_model_call(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    with OpenAIServer() as server:
        started = time.monotonic()
        cli = start_cli(
            ["write", BRIEF, "--base-url", server.base_url, "-o", "taken/doc.md"], tmp_path, "sk-unused"
        )
        _, err = finish(cli, timeout=60)
        assert server.requests == []
    assert cli.returncode == 2 and err.strip().count("\n") == 0, err
    assert "taken" in err and time.monotonic() - started < 60
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
