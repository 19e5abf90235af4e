"""Suite files: LongBench-Write's format, tolerant of BOM and CRLF, strict about content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentwrite.errors import InputError
from agentwrite.evaluation.longbench import bucket_of
from agentwrite.evaluation.suites import item_key, load_suite
from agentwrite.length import parse_target
from agentwrite.writing.language import brief_language

SUITES = Path(__file__).resolve().parent.parent / "eval" / "suites"


def test_bom_crlf_blank_lines_and_extra_fields(tmp_path: Path) -> None:
    lines = [
        json.dumps({"prompt": "Write a 300-word story", "type": "Literature", "length": 300}),
        "",
        json.dumps(
            {"prompt": "写一篇500字的文章", "type": "科普介绍", "length": 500, "idx": 7}, ensure_ascii=False
        ),
    ]
    path = tmp_path / "suite.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    items = load_suite(path)
    assert [(i.prompt, i.type, i.length) for i in items] == [
        ("Write a 300-word story", "Literature", 300),
        ("写一篇500字的文章", "科普介绍", 500),
    ]
    assert items[1].extra == {"idx": 7}
    assert items[1].fields() == {"prompt": "写一篇500字的文章", "type": "科普介绍", "length": 500, "idx": 7}


def test_repeated_prompts_get_distinct_keys(tmp_path: Path) -> None:
    line = json.dumps({"prompt": "Same", "type": "t", "length": 100})
    path = tmp_path / "suite.jsonl"
    path.write_text(f"{line}\n{line}\n", "utf-8")
    keys = [i.key for i in load_suite(path)]
    assert keys == [item_key("Same", 100), item_key("Same", 100) + "-2"]


@pytest.mark.parametrize(
    ("second_line", "message"),
    [
        ("{not json", "suite.jsonl:2: not valid JSON"),
        ("[1, 2]", "suite.jsonl:2: expected a JSON object"),
        ('{"type": "t", "length": 5}', 'suite.jsonl:2: "prompt" must be a non-empty string'),
        ('{"prompt": " ", "type": "t", "length": 5}', 'suite.jsonl:2: "prompt" must be'),
        ('{"prompt": "p", "length": 5}', 'suite.jsonl:2: "type" must be a string'),
        ('{"prompt": "p", "type": "t", "length": 0}', 'suite.jsonl:2: "length" must be a positive integer'),
        ('{"prompt": "p", "type": "t", "length": 2.5}', '"length" must be a positive integer'),
        ('{"prompt": "p", "type": "t", "length": true}', '"length" must be a positive integer'),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, second_line: str, message: str) -> None:
    path = tmp_path / "suite.jsonl"
    path.write_text('{"prompt": "ok", "type": "t", "length": 10}\n' + second_line + "\n", "utf-8")
    with pytest.raises(InputError, match=message):
        load_suite(path)


def test_missing_empty_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_suite(tmp_path / "absent.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n", "utf-8")
    with pytest.raises(InputError, match="no suite items"):
        load_suite(tmp_path / "empty.jsonl")
    (tmp_path / "latin1.jsonl").write_bytes('{"prompt": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(InputError, match="not valid UTF-8"):
        load_suite(tmp_path / "latin1.jsonl")


def test_the_length_suite_spans_what_it_promises() -> None:
    items = load_suite(SUITES / "length.jsonl")
    assert 24 <= len(items) <= 40
    assert min(i.length for i in items) == 100 and max(i.length for i in items) == 20_000
    assert {brief_language(i.prompt).code for i in items} == {"en", "zh"}
    assert len({i.type for i in items}) >= 5
    assert {bucket_of(i.length) for i in items} == {"[0,500)", "[500,2k)", "[2k,4k)", "[4k,20k]"}
    assert all(parse_target(i.prompt) == i.length for i in items)  # each prompt states its length
    assert len({i.key for i in items}) == len(items)


def test_the_smoke_suite_is_small_and_short() -> None:
    items = load_suite(SUITES / "smoke.jsonl")
    assert 3 <= len(items) <= 4
    assert all(100 <= i.length <= 600 for i in items)
    assert all(parse_target(i.prompt) == i.length for i in items)
