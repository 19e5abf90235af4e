"""Deterministic shards of a build, for many machines without a scheduler of their own.

``--shard I/N`` (1-based: shards 1/N to N/N) builds only the instructions whose id hashes
to shard I: the first 8 bytes of the SHA-256 of the id, modulo N. The hash is neither
Python's salted ``hash()`` nor the line order, so every machine that reads the same
instruction file puts every instruction, and every bad input line (by its
``input-line-N`` id), in exactly one shard. ``agentwrite.dataset.merge`` joins the
shard folders again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from agentwrite.errors import InputError

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


Keyed = TypeVar("Keyed", bound=_HasId)


def shard_of(key: str, count: int) -> int:
    """The shard (1 to ``count``) that holds ``key``; the same on every machine and run.

    >>> shard_of("seed-en-001", 4), shard_of("input-line-7", 4), shard_of("seed-en-001", 1)
    (3, 4, 1)
    """
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, key: str) -> bool:
        return shard_of(key, self.count) == self.index

    def select(self, records: Sequence[Keyed]) -> list[Keyed]:
        """The records (instructions or bad lines) of this shard, in their order."""
        return [r for r in records if self.holds(r.id)]


def parse_shard(text: str) -> Shard:
    """Read ``I/N``: shard I of N, numbered from 1. Raises InputError.

    >>> parse_shard("2/4"), str(parse_shard(" 4 / 4 "))
    (Shard(index=2, count=4), '4/4')
    >>> parse_shard("0/4")
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: --shard must be I/N with 1 <= I <= N (shards count from 1), got '0/4'
    """
    found = _SPEC.match(text)
    if found is None or not 1 <= int(found.group(1)) <= int(found.group(2)):
        raise InputError(f"--shard must be I/N with 1 <= I <= N (shards count from 1), got {text!r}")
    return Shard(int(found.group(1)), int(found.group(2)))


def check_resume(build_file: Path, shard: Shard | None) -> None:
    """Refuse to continue a build folder whose earlier sessions (in ``build_file``,
    its ``build.json``) built another shard, or built unsharded while ``shard`` is given,
    or the other way round. A folder with no sessions yet takes any shard."""
    if not build_file.exists():
        return
    sessions = json.loads(build_file.read_text("utf-8"))["sessions"]
    wanted = str(shard) if shard is not None else None
    others = sorted({s.get("shard") for s in sessions} - {wanted}, key=str)
    if others:
        what = f"shard {others[0]}" if others[0] is not None else "an unsharded build"
        asked = f"--shard {wanted}" if wanted is not None else "no --shard"
        raise InputError(f"{build_file.parent} holds {what}, not {asked}; build into another --out")
