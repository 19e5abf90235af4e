"""Preference pairs from what a build wrote, as lines of ``pairs.jsonl``
(``agentwrite.dataset.preference`` reads them).

- **Section pairs**: where the section checks asked the writer for more than one candidate
  (``Section.candidates``), the kept candidate against the weakest one, when their combined
  scores differ by at least the margin. The prompt is the exact request of the kept
  candidate; ``separated_by`` names the checks the weakest failed and the kept one passed.
- **Pairs of a rejected document** (``rejected_pairs``): its section pairs separated by the
  section check of the filter it failed (``FILTER_CHECKS``): a Chinese section chosen over an
  English one in a document rejected for its language.
- **Document pairs**: the agent's document against the one-request answer to the same
  instruction, only where the agent's passes every filter and the answer fails one. Their
  ``margin`` is the number of filters that separate them; their scores are each filter's
  figure.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentwrite.dataset.filters import Verdict
from agentwrite.dataset.preference import PreferencePair
from agentwrite.domain import Section

DIGITS = 6
"""Score differences are rounded to this many places before they are compared with the
margin, so that 0.3 - 0.2 counts as 0.1."""


FILTER_CHECKS = {
    "language": "language",
    "talk": "talk",
    "off_topic": "off_topic",
    "gibberish": "gibberish",
    "repeated_sentences": "repetition",
}
"""A document filter's name to the section check that fails for the same reason."""


def pairs_of_rejected(pairs: Sequence[PreferencePair], failed_filter: str) -> list[PreferencePair]:
    """The section ``pairs`` of a document rejected by ``failed_filter`` that the check of that
    filter separates (none for a filter with no section check, such as the length).

    >>> from agentwrite.dataset.preference import PreferencePair
    >>> def pair(*checks):
    ...     return PreferencePair(id="a#1", instruction_id="a", kind="section", margin=0.5,
    ...         prompt=[{"role": "user", "content": "Write section 2."}], chosen="茶很古老。",
    ...         rejected="Tea is old.", separated_by=list(checks))
    >>> [p.separated_by for p in pairs_of_rejected([pair("language"), pair("talk")], "language")]
    [['language']]
    >>> pairs_of_rejected([pair("language")], "min_words")
    []
    """
    check = FILTER_CHECKS.get(failed_filter)
    return [p for p in pairs if check is not None and check in p.separated_by]


def section_pair(instruction_id: str, section: Section, margin: float) -> PreferencePair | None:
    """The pair of ``section``'s kept and weakest candidates (the first of equals), or None
    when it has fewer than two, their scores differ by less than ``margin`` (which is above
    0), or either text is empty.

    >>> from agentwrite.domain import Candidate, SectionScores, Usage
    >>> def candidate(text, score, problems=()):
    ...     scores = SectionScores(on_topic=0.5, language="en", language_share=1.0,
    ...         repeated_sentences=0.0, gibberish=0.0, problems=list(problems), score=score)
    ...     return Candidate(text=text, scores=scores, finish_reason="stop", usage=Usage(),
    ...         messages=[{"role": "user", "content": "Write section 2."}])
    >>> section = Section(index=1, title="Soil", text="Clay holds water.", target_words=4,
    ...     finish_reason="stop", chosen=1, candidates=[
    ...         candidate("Here is section 2: clay.", 0.2, ["talk"]), candidate("Clay holds water.", 0.3)])
    >>> pair = section_pair("garden", section, 0.1)
    >>> pair.id, pair.rejected, pair.margin, pair.separated_by
    ('garden#s1', 'Here is section 2: clay.', 0.1, ['talk'])
    >>> section_pair("garden", section, 0.2) is None
    True
    """
    if len(section.candidates) < 2:
        return None
    kept = section.candidates[section.chosen]
    weakest = min(section.candidates, key=lambda c: c.scores.score)
    gap = round(kept.scores.score - weakest.scores.score, DIGITS)
    if gap < margin or not kept.text.strip() or not weakest.text.strip():
        return None
    return PreferencePair.model_validate(
        {
            "id": f"{instruction_id}#s{section.index}",
            "instruction_id": instruction_id,
            "kind": "section",
            "prompt": kept.messages,
            "chosen": kept.text,
            "rejected": weakest.text,
            "chosen_scores": kept.scores.model_dump(mode="json"),
            "rejected_scores": weakest.scores.model_dump(mode="json"),
            "margin": gap,
            "separated_by": [p for p in weakest.scores.problems if p not in kept.scores.problems],
        }
    )


def section_pairs(instruction_id: str, sections: Sequence[Section], margin: float) -> list[PreferencePair]:
    """The pairs of a document's sections (``section_pair``), in section order."""
    found = (section_pair(instruction_id, s, margin) for s in sections)
    return [pair for pair in found if pair is not None]


def document_pair(
    instruction_id: str,
    instruction: str,
    document: str,
    answer: str,
    document_verdicts: Sequence[Verdict],
    answer_verdicts: Sequence[Verdict],
) -> PreferencePair | None:
    """The agent's ``document`` (chosen) against the one-request ``answer`` (rejected) to
    ``instruction``, given each one's filter verdicts; None unless the document passes every
    filter and the answer fails one (or the answer is empty).

    >>> passed = [Verdict("min_words", 812, 500, True), Verdict("length_score", 91.0, 80, True)]
    >>> failed = [Verdict("min_words", 640, 500, True), Verdict("length_score", 42.5, 80, False)]
    >>> pair = document_pair("tea", "Write 800 words on tea.", "# Tea ...", "Tea is ...", passed, failed)
    >>> pair.id, pair.kind, pair.margin, pair.separated_by, pair.rejected_scores
    ('tea#document', 'document', 1.0, ['length_score'], {'min_words': 640, 'length_score': 42.5})
    >>> document_pair("tea", "Write 800 words on tea.", "# Tea ...", "Tea is ...", passed, passed) is None
    True
    """
    separated_by = [v.name for v in answer_verdicts if not v.passed]
    if not all(v.passed for v in document_verdicts) or not separated_by or not answer.strip():
        return None
    return PreferencePair.model_validate(
        {
            "id": f"{instruction_id}#document",
            "instruction_id": instruction_id,
            "kind": "document",
            "prompt": [{"role": "user", "content": instruction}],
            "chosen": document,
            "rejected": answer,
            "chosen_scores": {v.name: v.value for v in document_verdicts},
            "rejected_scores": {v.name: v.value for v in answer_verdicts},
            "margin": float(len(separated_by)),
            "separated_by": separated_by,
        }
    )
