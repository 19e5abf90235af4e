"""Hostile inputs to ``agentwrite write``: each must exit 2 with one line, make no model
call and write nothing. ``tests/test_reliability_inputs.py`` asserts that of every case and
``eval/reliability.py`` counts the cases that pass."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple


def secret_forms(secret: str) -> set[bytes]:
    """The bytes a secret may be found as: as it is, JSON- or Python-escaped, percent-encoded.

    >>> sorted(secret_forms('k"1'))
    [b'k"1', b'k%221', b'k\\\\"1']
    """
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], urllib.parse.quote(secret, safe="")}
    return {form.encode("utf-8", "backslashreplace") for form in forms}


def secrets_found(folder: Path, streams: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """Where any of ``secrets`` is found: each file under ``folder`` by its path, and each
    of ``streams`` (standard output, standard error) by its number."""
    forms = {form for secret in secrets for form in secret_forms(secret)}
    found = [
        str(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and any(form in path.read_bytes() for form in forms)
    ]
    found += [f"stream {i}" for i, text in enumerate(streams) if any(form in text.encode() for form in forms)]
    return found


SECTION = {"title": "Part", "main_point": "What it covers.", "target_words": 500}


def plan_json(sections: int) -> str:
    return json.dumps({"title": "T", "sections": [SECTION] * sections})


class HostileInput(NamedTuple):
    """One case: the files it lays out in an empty folder, the CLI arguments after ``write``,
    and a fragment of the one-line error it must give."""

    what: str
    files: dict[str, bytes]
    args: list[str]
    fragment: str

    def lay_out(self, folder: Path) -> None:
        for name, data in self.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)


CASES = [
    HostileInput("1 MB brief", {"brief.txt": b"Write about tea. " * 61_681}, ["@brief.txt"],
                 "the limit is 20000"),
    HostileInput("NUL in brief file", {"brief.txt": b"Write about\x00 tea."}, ["@brief.txt"], "NUL"),
    HostileInput("invalid UTF-8 brief file", {"brief.txt": b"Write \xff\xfe tea."}, ["@brief.txt"],
                 "not valid UTF-8"),
    HostileInput("NUL in plan file", {"p.json": plan_json(2).replace("Part", "Pa\x00rt").encode()},
                 ["Essay", "--plan", "p.json"], "not valid JSON"),
    HostileInput("invalid UTF-8 plan file", {"p.json": plan_json(2).encode().replace(b"Part", b"P\xffrt")},
                 ["Essay", "--plan", "p.json"], "not valid UTF-8"),
    HostileInput("plan not JSON",
                 {"p.json": b"Title: Tea\nParagraph 1 - Main Point: x - Word Count: 5 words"},
                 ["Essay", "--plan", "p.json"], "not valid JSON"),
    HostileInput("plan with 0 sections", {"p.json": plan_json(0).encode()}, ["Essay", "--plan", "p.json"],
                 "sections"),
    HostileInput("plan with 10,000 sections", {"p.json": plan_json(10_000).encode()},
                 ["Essay", "--plan", "p.json"], "at most 200"),
    HostileInput("plan budgets not adding up", {"p.json": plan_json(4).encode()},
                 ["Essay", "--plan", "p.json", "--words", "5000"],
                 "add up to 2000 words, but the target is 5000"),
    HostileInput("output inside a missing folder", {}, ["Essay", "-o", "missing/doc.md"], "does not exist"),
    HostileInput("sidecar inside a missing folder", {}, ["Essay", "--json", "missing/doc.json"],
                 "does not exist"),
    HostileInput("output path is a folder", {"doc.md/keep": b""}, ["Essay", "-o", "doc.md"], "is a folder"),
    HostileInput("run folder under a file", {"file": b""}, ["Essay", "--run-dir", "file/run"],
                 "cannot create run"),
]  # fmt: skip
