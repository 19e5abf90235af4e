"""``agentwrite eval run | score | report`` on the smoke suite's first two prompts (an English
note and a Chinese one: ``--limit``), against the real vLLM server of tests/conftest.py: the
bundled model answers directly and through the agent, then judges both. All four prompts took
146 s of the suite's 10 minutes on two cores; two test the same commands.

The scripted-model version of the same pipeline, checked against hand-computed scores, is
tests/test_eval_end_to_end.py; this one proves the commands work over HTTP with a real engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentwrite.evaluation.report import DPI, FIGSIZE
from agentwrite.evaluation.suites import load_suite
from agentwrite.length import count_words
from agentwrite.writing.language import brief_language
from tests.conftest import ServedModel
from tests.test_eval_end_to_end import png_size

pytestmark = pytest.mark.vllm

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "eval" / "suites" / "smoke.jsonl"
LIMIT = 2


def eval_cli(*args: str, server: ServedModel) -> subprocess.CompletedProcess[str]:
    """``agentwrite eval ...`` as a process, pointed at the test server."""
    env = {
        **os.environ,
        "AGENTWRITE_BASE_URL": server.base_url,
        "AGENTWRITE_MODEL": server.model_name,
    }
    return subprocess.run(
        [sys.executable, "-m", "agentwrite.cli", "eval", *args],
        capture_output=True, text=True, timeout=1800, cwd=ROOT, env=env,
    )  # fmt: skip


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def test_run_score_and_report_the_smoke_suite(vllm_server: ServedModel, tmp_path: Path) -> None:
    direct, agent, report = tmp_path / "direct", tmp_path / "agent", tmp_path / "report"
    # A 512-token window bounds the direct answers (the 135M model can run on to the limit: the
    # Chinese note took 898 tokens of a 1,024 window; at 2 to 10 tokens/s on a 2-core CPU,
    # 8,192 tokens would take most of CI's time).
    result = eval_cli(
        "run", str(SMOKE), "--out", str(direct), "--target", "direct", "--max-context", "512",
        "--concurrency", "4", "--limit", str(LIMIT), "--quiet", server=vllm_server,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    result = eval_cli(
        "run", str(SMOKE), "--out", str(agent), "--target", "agentwrite", "--mode", "parallel",
        "--max-context", "4096", "--concurrency", "4", "--limit", str(LIMIT), "--quiet",
        server=vllm_server,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    suite = load_suite(SMOKE)[:LIMIT]
    assert {brief_language(item.prompt).code for item in suite} == {"en", "zh"}
    suite_keys = {item.key for item in suite}
    answered = rows(direct / "predictions.jsonl")
    assert {r["key"] for r in answered} == suite_keys
    for row in answered:
        assert row["response_length"] == count_words(row["response"]) > 0
        assert row["model"] == vllm_server.model_name and row["usage"]["completion_tokens"] > 0
    written = rows(agent / "predictions.jsonl")
    failed = rows(agent / "failures.jsonl") if (agent / "failures.jsonl").exists() else []
    # A plan the 135M model cannot produce is a recorded failure, never a response.
    assert {r["key"] for r in written} | {r["key"] for r in failed} == suite_keys
    assert written, f"the agent wrote nothing: {failed}"
    for row in written:
        assert row["response_length"] == count_words(row["response"]) > 0
        assert (agent / "documents" / f"{row['key']}.json").exists()

    for run in (direct, agent):
        result = eval_cli(
            "score", str(run), "--judge-base-url", vllm_server.base_url,
            "--judge-model", vllm_server.model_name, "--judge-max-context", "2048", server=vllm_server,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("S_l ")
        scores = json.loads((run / "scores.json").read_text("utf-8"))
        assert scores["judge"] == vllm_server.model_name
        # structured output holds the judge to six integers from 1 to 5
        assert scores["judged"] == scores["items"] and scores["judge_failures"] == []
        assert 0 <= scores["s_q"] <= 100 and 0 <= scores["s_l"] <= 100
        assert scores["overall"] == pytest.approx((scores["s_l"] + scores["s_q"]) / 2, abs=0.01)
        assert 0 < scores["coherence"]["distinct_2"] <= 1 and "brief_similarity" in scores["coherence"]
        judged = rows(run / "judgements.jsonl")
        assert all(set(j["ratings"].values()) <= {1, 2, 3, 4, 5} for j in judged)
    assert "heading_match" in json.loads((agent / "scores.json").read_text("utf-8"))["plan_adherence"]

    result = eval_cli("report", str(direct), str(agent), "--out", str(report), server=vllm_server)
    assert result.returncode == 0, result.stderr
    text = (report / "report.md").read_text("utf-8")
    assert "| | direct | agent |" in text and "| **S_q** |" in text
    for name in ("length", "s_l_by_bucket", "s_l_by_type", "coherence_by_position"):
        png = report / f"{name}.png"
        assert png.stat().st_size > 1000
        assert png_size(png) == (FIGSIZE[0] * DPI, FIGSIZE[1] * DPI)
