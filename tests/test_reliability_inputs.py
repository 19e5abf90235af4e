"""Hostile input: each case exits 2 with one line, makes no model call and writes nothing."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.dataset.instructions import read_instructions
from agentwrite.errors import InputError
from agentwrite.files import read_numbered_jsonl
from agentwrite.testing.openai_server import OpenAIServer

SECTION = {"title": "Part", "main_point": "What it covers.", "target_words": 500}


def plan_json(sections: int) -> str:
    return json.dumps({"title": "T", "sections": [SECTION] * sections})


# (what, files to create in the folder, CLI arguments after "write", fragment of the message)
CASES: list[tuple[str, dict[str, bytes], list[str], str]] = [
    ("1 MB brief", {"brief.txt": b"Write about tea. " * 61_681}, ["@brief.txt"], "the limit is 20000"),
    ("NUL in brief file", {"brief.txt": b"Write about\x00 tea."}, ["@brief.txt"], "NUL"),
    ("invalid UTF-8 brief file", {"brief.txt": b"Write \xff\xfe tea."}, ["@brief.txt"], "not valid UTF-8"),
    ("NUL in plan file", {"p.json": plan_json(2).replace("Part", "Pa\x00rt").encode()},
     ["Essay", "--plan", "p.json"], "not valid JSON"),
    ("invalid UTF-8 plan file", {"p.json": plan_json(2).encode().replace(b"Part", b"P\xffrt")},
     ["Essay", "--plan", "p.json"], "not valid UTF-8"),
    ("plan not JSON", {"p.json": b"Title: Tea\nParagraph 1 - Main Point: x - Word Count: 5 words"},
     ["Essay", "--plan", "p.json"], "not valid JSON"),
    ("plan with 0 sections", {"p.json": plan_json(0).encode()}, ["Essay", "--plan", "p.json"], "sections"),
    ("plan with 10,000 sections", {"p.json": plan_json(10_000).encode()},
     ["Essay", "--plan", "p.json"], "at most 200"),
    ("plan budgets not adding up", {"p.json": plan_json(4).encode()},
     ["Essay", "--plan", "p.json", "--words", "5000"], "add up to 2000 words, but the target is 5000"),
    ("output inside a missing folder", {}, ["Essay", "-o", "missing/doc.md"], "does not exist"),
    ("sidecar inside a missing folder", {}, ["Essay", "--json", "missing/doc.json"], "does not exist"),
    ("output path is a folder", {"doc.md/keep": b""}, ["Essay", "-o", "doc.md"], "is a folder"),
    ("run folder under a file", {"file": b""}, ["Essay", "--run-dir", "file/run"], "cannot create run"),
]  # fmt: skip


@pytest.fixture(scope="module")
def server():
    with OpenAIServer() as srv:
        yield srv


@pytest.mark.parametrize(("what", "files", "args", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    server: OpenAIServer,
    what: str,
    files: dict[str, bytes],
    args: list[str],
    fragment: str,
) -> None:
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["write", *args, "--base-url", server.base_url, "-q"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("agentwrite: error:"), result.stderr
    assert fragment in lines[0]
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
