"""Hostile input: each case exits 2 with one line, makes no model call and writes nothing."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.dataset.instructions import read_instructions
from agentwrite.errors import InputError
from agentwrite.files import read_numbered_jsonl
from agentwrite.testing.hostile_inputs import CASES, HostileInput
from agentwrite.testing.openai_server import OpenAIServer


@pytest.fixture(scope="module")
def server():
    with OpenAIServer() as srv:
        yield srv


@pytest.mark.parametrize("case", CASES, ids=[c.what for c in CASES])
def test_hostile_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAIServer, case: HostileInput
) -> None:
    case.lay_out(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["write", *case.args, "--base-url", server.base_url, "-q"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("agentwrite: error:"), result.stderr
    assert case.fragment in lines[0]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "something was written"
    assert server.completion_requests() == [] and server.requests == [], "a model call was made"


GOOD = {"prompt": "Write a 600-word essay on tea.", "type": "essay", "length": 600}


def test_instruction_jsonl_with_bom_crlf_and_a_truncated_last_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(GOOD | {"id": "a"}), json.dumps(GOOD | {"id": "b", "prompt": "On coffee."})]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b'\r\n{"prompt": "On wa')
    good, bad = read_instructions(path)
    assert [i.id for i in good] == ["a", "b"] and good[0].prompt == GOOD["prompt"]
    assert [(b.line, b.reason) for b in bad] == [(3, "truncated last line")]


def test_suite_jsonl_accepts_bom_and_crlf_and_names_the_truncated_line(tmp_path: Path) -> None:
    path = tmp_path / "suite.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\r\n" + json.dumps(GOOD).encode() + b"\r\n"
    )
    assert [n for n, _ in read_numbered_jsonl(path)] == [1, 2]
    path.write_bytes(path.read_bytes() + b'{"prompt": "Wri')
    with pytest.raises(InputError, match=r"suite.jsonl:3: not valid JSON"):
        list(read_numbered_jsonl(path))
