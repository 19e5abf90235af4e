"""`agentwrite write` as a real process against a real OpenAI-compatible HTTP server.

The server fails some requests and cuts some completions short, so the HTTP path, the
retries and the continuation all run over a socket.
"""

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply
from tests.scripted import asked_section

ROOT = Path(__file__).resolve().parents[1]


class FlakyWriter:
    """writer_handler, but every 7th request fails (503, then 429 with Retry-After) and
    every 5th prose answer is cut at 40 words with finish_reason "length"."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.failed = 0
        self.cut = 0

    def __call__(self, request: dict) -> Reply:
        with self.lock:
            self.count += 1
            n = self.count
        if n % 7 == 1:
            self.failed += 1
            return Reply.error(503) if n % 2 else Reply.error(429, headers={"Retry-After": "0"})
        reply = writer_handler(request)
        if n % 5 == 0 and "response_format" not in request and reply.text:
            self.cut += 1
            return Reply.completion(" ".join(reply.text.split()[:40]), "length")
        return reply


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentwrite.cli", *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "AGENTWRITE_RETRY_BASE_DELAY": "0.01", **env},
    )  # fmt: skip


def test_ten_thousand_word_document_over_http(tmp_path: Path) -> None:
    handler = FlakyWriter()
    out = tmp_path / "yunnan.md"
    with OpenAIServer(handler) as server:
        result = run_cli(
            "write", "Write a 10000-word travel guide to Yunnan", "-o", str(out),
            "--base-url", server.base_url, env={"AGENTWRITE_API_KEY": "sk-test-secret"},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        auth = {r.headers.get("authorization") for r in server.completion_requests()}
    assert auth == {"Bearer sk-test-secret"}
    assert handler.failed >= 2 and handler.cut >= 2

    markdown = out.read_text()
    sidecar = json.loads((tmp_path / "yunnan.md.json").read_text())
    assert sidecar["words"] >= 10_000
    plan_titles = [s["title"] for s in sidecar["plan"]["sections"]]
    assert [s["title"] for s in sidecar["sections"]] == plan_titles
    assert re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE) == plan_titles
    assert sidecar["plan_source"] == "model" and sidecar["model"] == "test-model"
    assert sidecar["usage"]["completion_tokens"] > 0
    for section in sidecar["sections"]:
        assert section["words"] > 0 and section["finish_reason"] in ("stop", "length")
        assert section["usage"]["requests"] >= 1
    assert "sk-test-secret" not in (tmp_path / "yunnan.md.json").read_text() + result.stderr
    assert "injected error" not in markdown
    assert "wrote" in result.stderr and not (tmp_path / "yunnan.md.run").exists()


def test_run_killed_by_a_dead_server_resumes(tmp_path: Path) -> None:
    out = tmp_path / "tea.md"
    calls = {"n": 0}

    def dies_after_three(request: dict) -> Reply:  # the plan and two of the three sections
        calls["n"] += 1
        return writer_handler(request) if calls["n"] <= 3 else Reply.error(500, "server is down")

    with OpenAIServer(dies_after_three) as server:
        first = run_cli(
            "write", "Write a 3000-word essay on tea", "--base-url", server.base_url, "-o", str(out), "-q",
            env={"AGENTWRITE_MAX_RETRIES": "1"},
        )  # fmt: skip
    assert first.returncode == 1
    last = first.stderr.strip().splitlines()[-1]  # retry warnings come before it
    assert last.startswith("agentwrite: error: HTTP 500") and last.endswith("continue with --resume)")
    assert "Traceback" not in first.stderr
    assert not out.exists() and (tmp_path / "tea.md.run" / "checkpoints.sqlite").exists()

    with OpenAIServer(writer_handler) as server:
        second = run_cli(
            "write", "Write a 3000-word essay on tea", "--resume", "-o", str(out),
            "--base-url", server.base_url, env={},
        )  # fmt: skip
        asked = [r.body["messages"][-1]["content"] for r in server.completion_requests()]
    assert second.returncode == 0, second.stderr
    assert not any(asked_section(a) in (1, 2) for a in asked)
    assert not any("Plan a document" in a for a in asked)
    assert json.loads((tmp_path / "tea.md.json").read_text())["words"] >= 3000
