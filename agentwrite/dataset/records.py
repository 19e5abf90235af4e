"""The lines a dataset build commits, as types: a ``meta.jsonl`` record for every
instruction and a ``rejects.jsonl`` line for every rejected one.

Fields a record has not reached are left out of its line: a bad input line has no
``type``; an instruction whose document failed has no figures.

>>> record = BuildRecord(id="tea-1", line=3, session="2026-12-02")
>>> record.reject("plan failed")
>>> record.line_json()
{'id': 'tea-1', 'status': 'rejected', 'reason': 'plan failed', 'line': 3, 'session': '2026-12-02'}
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


def timestamp() -> str:
    """Now, as the records and ``build.json`` stamp their times: ISO 8601 in UTC, to the
    millisecond (a build session is named by the time it started)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class BuildRecord(BaseModel):
    """One instruction's ``meta.jsonl`` line: what it asked for, how it was written, the
    filters' figures and verdicts, and how it ended. With document pairs asked for,
    ``one_request`` holds the one-request answer's words, usage and failed filters; an
    accepted document with pairs has ``pairs``, the number of its lines in ``pairs.jsonl``."""

    model_config = ConfigDict(extra="allow")  # a figure a newer filter adds still lands

    id: str
    status: Literal["accepted", "rejected"] = "rejected"
    reason: str | None = None
    type: str | None = None
    language: str | None = None
    requested_words: int | None = None
    length_source: str | None = None
    line: int
    session: str
    sampling: dict[str, Any] | None = None
    started_at: str | None = None
    endpoints: dict[str, dict[str, int]] | None = None
    model: str | None = None
    plan_source: str | None = None
    plan: dict[str, Any] | None = None
    sections: list[dict[str, Any]] | None = None
    usage: dict[str, int] | None = None
    words: int | None = None
    length_score: float | None = None
    repeated_ngram_rate: float | None = None
    repeated_ngram_n: int | None = None
    document_repeated_sentence_rate: float | None = None
    cross_section_repeated_sentence_rate: float | None = None
    gibberish_rate: float | None = None
    plan_artefacts: int | None = None
    tokens: int | None = None
    tokenizer: str | None = None
    filters: dict[str, dict[str, Any]] | None = None
    seconds: float | None = None
    write_seconds: float | None = None
    finished_at: str | None = None
    near_duplicate_of: str | None = None
    one_request: dict[str, Any] | None = None
    pairs: int | None = None

    def accept(self) -> None:
        self.status, self.reason = "accepted", None

    def reject(self, reason: str) -> None:
        self.status, self.reason = "rejected", reason

    def add(self, **fields: Any) -> None:
        """Set fields as the build learns them (a figure no field names is kept too)."""
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def completion_tokens(self) -> int:
        """The completion tokens its document took (0 when none was written)."""
        return (self.usage or {}).get("completion_tokens", 0)

    def line_json(self) -> dict[str, Any]:
        """The record as its line holds it: the fields it reached, in their order."""
        return self.model_dump(mode="json", exclude_unset=True)
