"""Hostile input to every command and to the LangGraph app: each case exits 2 with one
line and no traceback, makes no model call, writes nothing, leaves every file as it was and
shows no secret (``agentwrite.testing.hostile_drill``)."""

import json
from pathlib import Path

import pytest

from agentwrite.dataset.instructions import read_instructions
from agentwrite.errors import InputError
from agentwrite.files import read_numbered_jsonl
from agentwrite.testing.hostile_drill import try_case
from agentwrite.testing.hostile_inputs import CASES, HostileInput
from agentwrite.testing.openai_server import OpenAIServer


@pytest.fixture(scope="module")
def server():
    with OpenAIServer() as srv:
        yield srv


def test_the_drill_has_at_least_60_distinct_cases_across_the_commands() -> None:
    assert len({c.what for c in CASES}) == len(CASES) >= 60
    commands = {" ".join(c.command) for c in CASES}
    assert {"write", "plan", "dataset build", "dataset merge", "dataset export", "eval run", "eval score",
            "eval report", "serve", "app"} <= commands  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.what for c in CASES])
def test_hostile_input_exits_2_in_one_line_and_touches_nothing(
    tmp_path: Path, server: OpenAIServer, case: HostileInput
) -> None:
    assert try_case(case, tmp_path, server) == []


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
