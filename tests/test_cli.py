"""The CLI's exit codes and one-line messages for bad input, before any model call."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer

runner = CliRunner()


@pytest.fixture(scope="module")
def server():
    with OpenAIServer(writer_handler) as srv:
        yield srv


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env={"AGENTWRITE_BASE_URL": "", **(env or {})})


def one_line_error(result, code: int, fragment: str) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("agentwrite: error:") and fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["   "], "the brief is empty"),
        (["Write an essay", "--words", "0"], "at least 1"),
        (["Write an essay", "--words", "-5"], "at least 1"),
        (["Write an essay", "--words", "1000000000000"], "above the ceiling"),
        (["Write a 500000-word essay"], "above the ceiling"),
    ],
)
def test_bad_brief_or_target_exits_2(
    tmp_path: Path, server: OpenAIServer, args: list[str], fragment: str
) -> None:
    before = len(server.requests)
    result = invoke("write", *args, "--base-url", server.base_url, "-o", str(tmp_path / "d.md"))
    one_line_error(result, 2, fragment)
    assert len(server.requests) == before, "no model call for bad input"
    assert list(tmp_path.iterdir()) == []


def test_non_number_target_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("write", "Essay", "--words", "abc", "-o", str(tmp_path / "d.md"))
    assert result.exit_code == 2 and "--words" in result.stderr


def test_unreadable_plan_file_exits_2(tmp_path: Path, server: OpenAIServer) -> None:
    missing = invoke("write", "Essay", "--plan", str(tmp_path / "nope.json"), "--base-url", server.base_url)
    one_line_error(missing, 2, "does not exist")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    one_line_error(
        invoke("write", "Essay", "--plan", str(bad), "--base-url", server.base_url), 2, "not valid JSON"
    )


def test_output_in_missing_folder_exits_2_before_any_call(tmp_path: Path, server: OpenAIServer) -> None:
    before = len(server.requests)
    result = invoke("write", "Essay", "--base-url", server.base_url, "-o", str(tmp_path / "no" / "d.md"))
    one_line_error(result, 2, "does not exist")
    assert len(server.requests) == before


def test_unreachable_server_exits_1_naming_the_url(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/v1"  # the discard port: nothing listens there
    result = invoke(
        "write", "Write a 500-word essay", "--base-url", url, "-o", str(tmp_path / "d.md"), "-q",
        env={"AGENTWRITE_MAX_RETRIES": "1", "AGENTWRITE_RETRY_BASE_DELAY": "0.01"},
    )  # fmt: skip
    one_line_error(result, 1, "cannot reach the model server at http://127.0.0.1:9/v1")
    assert not (tmp_path / "d.md").exists()


def test_resume_with_nothing_to_resume_starts_a_new_run(tmp_path: Path, server: OpenAIServer) -> None:
    out = tmp_path / "d.md"
    result = invoke(
        "write", "Write a 400-word essay", "--resume", "-o", str(out), "--base-url", server.base_url, "-q"
    )
    assert result.exit_code == 0, result.output
    assert "nothing to resume" in result.stderr and out.exists()


def test_plan_command_prints_json(server: OpenAIServer) -> None:
    result = invoke("plan", "Write a 3000-word essay on tea", "--base-url", server.base_url)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert sum(s["target_words"] for s in plan["sections"]) == 3000


def test_flags_beat_environment(tmp_path: Path, server: OpenAIServer) -> None:
    result = invoke(
        "write", "Write a 600-word essay", "--base-url", server.base_url, "-o", str(tmp_path / "d.md"), "-q",
        env={"AGENTWRITE_BASE_URL": "http://127.0.0.1:9/v1", "AGENTWRITE_MODEL": "test-model"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sidecar = json.loads((tmp_path / "d.md.json").read_text())
    assert sidecar["model"] == "test-model" and sidecar["words"] >= 600
    assert not (tmp_path / "d.md.run").exists()


def test_help_explains_every_flag() -> None:
    result = invoke("write", "--help")
    assert result.exit_code == 0
    for flag in ("--words", "--output", "--json", "--plan", "--mode", "--resume", "--base-url", "--model"):
        assert flag in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["write", "Essay", "--mode", "zigzag"], "Invalid value for '--mode'"),
        (["serve", "--port", "70000"], "Invalid value for '--port'"),
        (["dataset", "build", "in.jsonl", "--out", "o", "--actors", "0"], "Invalid value for '--actors'"),
        (["write", "Essay", "--no-such-flag"], "No such option"),
        (["wirte", "Essay"], "No such command 'wirte'"),
    ],
)
def test_a_usage_error_is_one_line_and_exit_2(args: list[str], fragment: str) -> None:
    one_line_error(invoke(*args), 2, fragment)


@pytest.mark.parametrize("limit", ["0", "-1"])
@pytest.mark.parametrize("command", ["dataset build", "eval run"])
def test_limit_takes_positive_numbers_only(
    tmp_path: Path, server: OpenAIServer, command: str, limit: str
) -> None:
    items = tmp_path / "in.jsonl"
    items.write_text(json.dumps({"prompt": "Write a 500-word note.", "type": "note", "length": 500}) + "\n")
    before = len(server.requests)
    result = invoke(*command.split(), str(items), "--out", str(tmp_path / "o"), "--limit", limit,
                    "--base-url", server.base_url)  # fmt: skip
    one_line_error(
        result, 2, f"limit must be a positive number of {'documents' if 'dataset' in command else 'prompts'}"
    )
    assert len(server.requests) == before and sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_eval_score_checks_its_input_before_loading_anything(tmp_path: Path) -> None:
    one_line_error(invoke("eval", "score", str(tmp_path / "nowhere")), 2, "does not exist or is not a file")
    (tmp_path / "predictions.jsonl").write_text("")
    one_line_error(invoke("eval", "score", str(tmp_path), "--concurrency", "0"), 2, "must be at least 1")
