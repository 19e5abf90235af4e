"""The one writer of a dataset build: it checks each outcome against the documents accepted
before it (near-duplicates), commits it through the ``Journal`` and reports progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agentwrite.dataset.document import RUNS, Outcome
from agentwrite.dataset.filters import Verdict
from agentwrite.dataset.instructions import BadLine
from agentwrite.dataset.journal import Journal
from agentwrite.dataset.near_duplicates import NearDuplicateIndex
from agentwrite.dataset.recipe import Recipe
from agentwrite.dataset.records import BuildRecord
from agentwrite.files.run_folder import clear_run_dir


@dataclass(frozen=True)
class BuildProgress:
    """Sent to ``on_event`` after each committed instruction; ``tokens`` are the completion
    tokens its document took (0 when none was written)."""

    id: str
    status: str
    reason: str | None
    done: int
    accepted: int
    total: int
    tokens: int = 0


class Committer:
    """The one writer: checks near-duplicates against accepted documents, then commits."""

    def __init__(
        self,
        journal: Journal,
        index: NearDuplicateIndex,
        out_dir: Path,
        recipe: Recipe,
        accepted: int,
        done: int,
        total: int,
        on_event: Callable[[BuildProgress], None] | None,
    ) -> None:
        self.journal, self.index, self.out_dir, self.recipe = journal, index, out_dir, recipe
        self.accepted, self.done, self.total = accepted, done, total
        self.on_event = on_event

    def commit(self, outcome: Outcome) -> None:
        meta, item = outcome.meta, outcome.item
        if outcome.document is not None:
            duplicate_of, similarity = self.index.add(item.id, outcome.document)
            passed = similarity < self.index.threshold
            verdict = Verdict("near_duplicate", round(similarity, 4), self.index.threshold, passed)
            meta.add(filters={**(meta.filters or {}), "near_duplicate": verdict.as_json()})
            meta.add(near_duplicate_of=duplicate_of)
            if not passed:
                outcome.reject, outcome.document, outcome.pairs = "duplicate", None, []
                outcome.detail = f"near-duplicate of {duplicate_of} (estimated Jaccard {similarity:.2f})"
        if outcome.document is not None:
            meta.accept()
            if outcome.pairs:
                meta.add(pairs=len(outcome.pairs))
            messages = [
                {"role": "user", "content": item.prompt},
                {"role": "assistant", "content": outcome.document},
            ]
            self.journal.commit(meta.line_json(), train={"messages": messages}, pairs=outcome.pairs)
            self.accepted += 1
        else:
            meta.reject(outcome.reject or "rejected")
            reject = {
                "id": item.id,
                "reason": outcome.reject,
                "detail": outcome.detail,
                "prompt": item.prompt,
                "length": item.length,
                "type": item.type,
            }
            if outcome.pairs:
                meta.add(pairs=len(outcome.pairs))
            self.journal.commit(meta.line_json(), reject=reject, pairs=outcome.pairs)
        self.done += 1
        if not self.recipe.keep_runs:
            clear_run_dir(self.out_dir / RUNS / item.id)
        self._progress(item.id, meta.status, meta.reason, meta.completion_tokens)

    def commit_bad_line(self, bad: BadLine, session: str) -> None:
        """Record an unusable input line as a reject."""
        meta = BuildRecord(
            id=bad.id, status="rejected", reason="bad input line", line=bad.line, session=session
        )
        reject = {
            "id": bad.id,
            "reason": "bad input line",
            "detail": bad.reason,
            "line": bad.line,
            "text": bad.text,
        }
        self.journal.commit(meta.line_json(), reject=reject)
        self.done += 1
        self._progress(bad.id, "rejected", "bad input line")

    def _progress(self, doc_id: str, status: str, reason: str | None, tokens: int = 0) -> None:
        if self.on_event is not None:
            self.on_event(BuildProgress(doc_id, status, reason, self.done, self.accepted, self.total, tokens))
