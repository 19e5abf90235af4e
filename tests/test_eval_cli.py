"""``agentwrite eval run|score|report`` against a loopback OpenAI-compatible server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.evaluation.longbench import DIMENSIONS
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply
from tests.test_eval_run import SMOKE

RATINGS = dict.fromkeys(DIMENSIONS, 3)


def writer_and_judge(request: dict[str, Any]) -> Reply:
    """Writes like ``writer_handler``; answers a grading prompt with fixed ratings."""
    if "grading a piece of writing" in request["messages"][0]["content"]:
        return Reply.completion(f"```json\n{json.dumps(RATINGS)}\n```")
    return writer_handler(request)


def test_run_score_report_through_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "agent"
    with OpenAIServer(writer_and_judge) as server:
        result = runner.invoke(
            app,
            ["eval", "run", str(SMOKE), "--out", str(out), "--target", "agentwrite", "--limit", "2",
             "--base-url", server.base_url, "--concurrency", "2"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "2 answered, 0 failed, 0 already done of 2" in result.output
        result = runner.invoke(
            app, ["eval", "score", str(out), "--judge-base-url", server.base_url, "--no-embeddings"]
        )
        assert result.exit_code == 0, result.output
    assert "S_q 50.00 (2 judged)" in result.output  # every dimension (3 - 1) * 25
    scores = json.loads((out / "scores.json").read_text())
    assert scores["run"]["target"] == "agentwrite" and scores["run"]["model"] == "test-model"
    assert scores["judge"] == "test-model"
    assert "; talk 0.00 lines per 1,000 words, on-topic " in result.output and "(lexical)" in result.output
    assert scores["topic_scorer"] == "lexical" and len(scores["position_curve"]["on_topic"]) == 10

    result = runner.invoke(app, ["eval", "report", str(out), "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report" / "report.md").exists()
    assert (tmp_path / "report" / "position_curve.png").exists()

    result = runner.invoke(app, ["eval", "score", str(out), "--no-embeddings", "--topic-scorer", "nope"])
    assert result.exit_code == 2 and "--topic-scorer" in result.output


def test_bad_input_exits_with_2(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "run", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = runner.invoke(app, ["eval", "run", str(SMOKE), "--out", str(tmp_path / "o"), "--target", "both"])
    assert result.exit_code == 2 and "--target" in result.output
    result = runner.invoke(app, ["eval", "report", str(tmp_path)])
    assert result.exit_code == 2 and "eval score" in result.output


def test_an_unreachable_server_exits_with_1(tmp_path: Path) -> None:
    with OpenAIServer() as server:
        url = server.base_url  # closed on exit: nothing listens there any more
    result = CliRunner().invoke(
        app,
        ["eval", "run", str(SMOKE), "--out", str(tmp_path / "o"), "--target", "direct", "--base-url", url,
         "--config", str(_no_retries(tmp_path))],
    )  # fmt: skip
    assert result.exit_code == 1 and "cannot reach" in result.output


def _no_retries(tmp_path: Path) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text("max_retries: 0\nconnect_timeout: 2\n", "utf-8")
    return path
