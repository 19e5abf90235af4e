"""The extra tokens a document's section checks may spend on asking again.

A document's allowance is ``share`` times its tokens without the checks: the tokens of
every section's first candidate. While sections are still being written (all at once in
parallel mode), the sections not yet answered are estimated at the tokens per budget word
of those answered so far, so that the first sections may ask again too. A re-ask is allowed
only when its estimated cost (the tokens of the section's first candidate) fits in what is
left, and it is reserved until the answer comes back and its real cost is spent. A re-ask
sends no request once it has spent its estimate (``write_draft``'s ``token_cap``), so a
document goes over by at most one request a re-ask, which ``Document.check_tokens``
records. A resumed run starts from what its checkpointed sections spent (``resume``).

A document of one to three sections has no room for a re-ask at a share of 0.3: one
section's tokens are a third or more of its own. So the first ``floor`` re-asks of a
document are allowed whatever the share (``min_reasks``): such a document spends at most
``floor`` sections' tokens more, and a long one, whose share pays for more, is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from agentwrite.domain import Section


@dataclass
class CheckBudget:
    """What a document's re-asks have spent and may spend.

    >>> budget = CheckBudget()
    >>> budget.first(1000, words=500, planned_words=1000)  # one of two sections answered
    >>> budget.allowance(0.3)  # 0.3 x (1000 + 1000 estimated)
    600.0
    >>> budget.reserve(1000, 0.3), budget.reserve(500, 0.3), budget.reserve(200, 0.3)
    (False, True, False)
    >>> budget.spend(500, 520); budget.extra
    520
    >>> short = CheckBudget(); short.first(700, words=250, planned_words=250)
    >>> short.reserve(700, 0.3), short.reserve(700, 0.3, floor=1), short.reserve(700, 0.3, floor=1)
    (False, True, False)
    """

    first_tokens: int = 0
    first_words: int = 0
    planned_words: int = 0
    extra: int = 0
    reserved: int = 0
    reasks: int = 0

    def first(self, tokens: int, *, words: int, planned_words: int) -> None:
        """A section's first candidate cost ``tokens`` for a budget of ``words``, in a
        document planned at ``planned_words``."""
        self.first_tokens += tokens
        self.first_words += words
        self.planned_words = max(self.planned_words, planned_words)

    def allowance(self, share: float) -> float:
        """``share`` of the document's estimated tokens without checks."""
        left = max(0, self.planned_words - self.first_words)
        per_word = self.first_tokens / self.first_words if self.first_words else 0.0
        return share * (self.first_tokens + per_word * left)

    def reserve(self, tokens: int, share: float, floor: int = 0) -> bool:
        """Hold ``tokens`` for a re-ask if they fit in what is left, or if the document has
        asked again fewer than ``floor`` times; whether they were held."""
        if self.reasks >= floor and self.extra + self.reserved + tokens > self.allowance(share):
            return False
        self.reserved += tokens
        self.reasks += 1
        return True

    def spend(self, reserved: int, tokens: int) -> None:
        """A re-ask that held ``reserved`` came back having cost ``tokens``."""
        self.reserved -= reserved
        self.extra += tokens

    def resume(self, sections: Iterable[Section], planned_words: int) -> None:
        """Count what the checked ``sections`` of a resumed run spent, first answers and re-asks.

        >>> from agentwrite.domain import Candidate, SectionScores, Usage
        >>> scores = SectionScores(on_topic=1, language="en", language_share=1,
        ...                        repeated_sentences=0, gibberish=0, score=1)
        >>> asked = [Candidate(text="t", scores=scores, messages=[], finish_reason="stop",
        ...                    usage=Usage(completion_tokens=n)) for n in (100, 90)]
        >>> done = Section(index=0, title="T", text="t", target_words=50, finish_reason="stop",
        ...                scores=scores, candidates=asked, chosen=1)
        >>> budget = CheckBudget(); budget.resume([done], planned_words=500)
        >>> budget.first_tokens, budget.first_words, budget.extra, budget.reasks
        (100, 50, 90, 1)
        """
        for section in sections:
            if section.scores is None:
                continue  # written with the checks off
            first = section.candidates[0].usage if section.candidates else section.usage
            self.first(first.total_tokens, words=section.target_words, planned_words=planned_words)
            self.extra += section.check_tokens
            self.reasks += sum(1 for c in section.candidates[1:] if not c.revision)
