"""Benchmark suites and prediction files: JSONL in LongBench-Write's format.

A suite line is ``{"prompt": str, "type": str, "length": int}`` (required words); any
other fields are kept and written through to predictions. The official LongBench-Write
and LongWrite-Ruler files load as they are. A UTF-8 byte-order mark, CRLF line ends and
blank lines are tolerated; anything else that is not a valid item is an ``InputError``
naming the file and line.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agentwrite.errors import InputError
from agentwrite.files import read_numbered_jsonl


@dataclass(frozen=True)
class SuiteItem:
    """One benchmark prompt. ``key`` identifies it within its suite (for resuming)."""

    prompt: str
    type: str
    length: int
    key: str
    extra: dict[str, Any] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        """The item as a suite line: the three standard fields, then the extra ones."""
        return {"prompt": self.prompt, "type": self.type, "length": self.length, **self.extra}


def item_key(prompt: str, length: int, occurrence: int = 1) -> str:
    """A stable id from the prompt and the length; repeats of a pair get ``-2``, ``-3``...

    >>> item_key("Write a poem", 100), item_key("Write a poem", 100, occurrence=2)
    ('01a050da267e', '01a050da267e-2')
    """
    digest = hashlib.sha256(f"{length}\n{prompt}".encode()).hexdigest()[:12]
    return digest if occurrence == 1 else f"{digest}-{occurrence}"


def parse_item(data: dict[str, Any], where: str) -> SuiteItem:
    """Validate one suite line (``where`` prefixes error messages).

    >>> parse_item({"prompt": "Write a 300-word story", "type": "fiction", "length": 300, "id": 7}, "x").extra
    {'id': 7}
    >>> parse_item({"prompt": "Hi", "type": "t", "length": "300"}, "suite.jsonl:4")
    Traceback (most recent call last):
    agentwrite.errors.InputError: suite.jsonl:4: "length" must be a positive integer, got '300'
    """
    prompt, kind, length = data.get("prompt"), data.get("type"), data.get("length")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError(f'{where}: "prompt" must be a non-empty string')
    if not isinstance(kind, str):
        raise InputError(f'{where}: "type" must be a string, got {kind!r}')
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise InputError(f'{where}: "length" must be a positive integer, got {length!r}')
    extra = {k: v for k, v in data.items() if k not in ("prompt", "type", "length")}
    return SuiteItem(prompt, kind, length, item_key(prompt, length), extra)


def load_suite(path: Path) -> list[SuiteItem]:
    """All items of a suite file, in file order. An empty suite is an InputError."""
    items: list[SuiteItem] = []
    seen: Counter[tuple[str, int]] = Counter()
    for number, data in read_numbered_jsonl(path):
        item = parse_item(data, f"{path}:{number}")
        seen[item.prompt, item.length] += 1
        if seen[item.prompt, item.length] > 1:
            item = replace(item, key=item_key(item.prompt, item.length, seen[item.prompt, item.length]))
        items.append(item)
    if not items:
        raise InputError(f"{path} holds no suite items")
    return items
