"""A writer whose sections come back with candidates, as the section checks' choose loop
keeps them (``Section.candidates``, ``scores``, ``chosen``): the real agent's document, each
section given candidates by its index, so that a build's pairs are known in advance.

- index 0, 3, 6, ...: one candidate asked (no candidates kept);
- index 1, 4, 7, ...: three candidates: the kept text (score 0.9), the same text after a line
  of talk about the writing (0.4, problem ``talk``) and the text after a drifting line (0.6,
  problem ``off_topic``): a pair, margin 0.5, separated by ``talk``;
- index 2, 5, 8, ...: two candidates 0.05 apart (0.9 against 0.85): no pair at margin 0.1.

The kept candidate is first or last by a hash of its text. ``install`` puts the writer in
place of ``agentwrite.runner.awrite`` (a Ray worker's setup hook, for Ray builds).
"""

from __future__ import annotations

import zlib
from typing import Any

from agentwrite import runner
from agentwrite.domain import Candidate, Document, Section, SectionScores, Usage

_AGENT = runner.awrite
TALK = "Here is section {n} as you asked, written to the plan."
DRIFT = "Speaking of which, quarterly sales figures matter more than anything else here."


def scores(score: float, *problems: str) -> SectionScores:
    return SectionScores(
        on_topic=0.8, language="en", language_share=1.0, repeated_sentences=0.0, gibberish=0.0,
        problems=list(problems), score=score,
    )  # fmt: skip


def candidate(section: Section, text: str, score: SectionScores) -> Candidate:
    messages = [
        {"role": "system", "content": "You write one section of a document."},
        {"role": "user", "content": f"Write section {section.index + 1}: {section.title}."},
    ]
    return Candidate(
        text=text, scores=score, messages=messages, finish_reason="stop", usage=Usage(completion_tokens=9)
    )


def with_candidates(section: Section) -> Section:
    """``section`` with the candidates its index calls for (see the module docstring)."""
    turn = section.index % 3
    if turn == 0:
        return section
    kept = candidate(section, section.text, scores(0.9))
    if turn == 1:
        others = [
            candidate(section, f"{TALK.format(n=section.index + 1)} {section.text}", scores(0.4, "talk")),
            candidate(section, f"{DRIFT} {section.text}", scores(0.6, "off_topic")),
        ]
    else:
        others = [candidate(section, f"{section.text} {DRIFT}", scores(0.85))]
    first = zlib.crc32(section.text.encode()) % 2 == 0
    candidates = [kept, *others] if first else [*others, kept]
    return section.model_copy(
        update={"candidates": candidates, "chosen": candidates.index(kept), "scores": kept.scores}
    )


async def awrite(*args: Any, **kwargs: Any) -> Document:
    """The agent's document, its sections with candidates."""
    document = await _AGENT(*args, **kwargs)
    return document.model_copy(update={"sections": [with_candidates(s) for s in document.sections]})


def install() -> None:
    """Make ``agentwrite.runner.awrite`` this writer (in this process)."""
    runner.awrite = awrite  # type: ignore[assignment]
