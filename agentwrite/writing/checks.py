"""A section's checks as the writer runs them: talk judged per sentence, scores at the end.

``SectionChecks`` is made once per section from the brief, the section's main point and the
settings. Its ``judge`` is a loop-guard judge (``agentwrite.writing.loop_guard``): each finished
sentence that is talk about the writing (``agentwrite.writing.talk``) is named ``TALK`` and
dropped by the guard's ``clean`` like an echo, its words counted in ``words_dropped``. Its
``scores`` give a candidate's kept text its figures: on-topic (``section_on_topic`` with the
chosen scorer), the text's language and the share of its words in the brief's script,
repeated sentences and gibberish as ``agentwrite.text_stats`` figures them, and the checks it
fails, which the choose loop names in its next request.

Each figure is a sum over the text's sentences (and on-topic over chunks of sentences), so
each sentence's part is worked out once and kept: its ``tally``, told each sentence as the
section streams (a loop-guard tally), works out the sentences the guard keeps and the
chunks they close while the model is still writing; ``scores`` at the section's end then
only adds them up (a sentence or chunk it was not told of, it works out then). The
figures are those of the whole text read at once: ``tests/test_section_checks.py`` checks it.

The combined ``score`` is the product of on-topic, language share, and the shares of
sentences not repeated and of words not gibberish, less ``TALK_PENALTY`` per line of talk
found and ``SHORT_PENALTY`` for a section short of its budget: a candidate in the wrong
language or off its point scores near 0 whatever else it does well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from agentwrite.domain import SectionScores
from agentwrite.length import count_words
from agentwrite.llm.base import Message
from agentwrite.prompts import render
from agentwrite.text_stats import counted_key, gibberish_words, repeated_share, split_sentences
from agentwrite.text_stats import load_word_lists as load_text_stats_lists
from agentwrite.writing.language import Language, ScriptCounts, brief_language, load_common_words
from agentwrite.writing.loop_guard import Sentence, Tally, tidy
from agentwrite.writing.talk import sentence_talk, talk_spans
from agentwrite.writing.topic import (
    SECTION_CHUNK_WORDS,
    SentenceGrouper,
    TopicScorer,
    group_sentences,
    load_frequencies,
    section_reference,
    weighted_closeness,
)

TALK = "talk about the writing"
"""The fault the judge names; the guard drops such sentences."""
MAX_REPEATED_SENTENCES = 0.10
"""A text with a larger share of repeated sentences fails ``repetition`` (the dataset
filter's default, ``max_repeated_sentence_rate``)."""
MAX_GIBBERISH = 0.10
"""A text with a larger share of gibberish words fails ``gibberish`` (the dataset filter's
default, ``max_gibberish_rate``)."""
TALK_PENALTY = 0.05
"""Taken off the combined score per line of talk found (removed, but a sign of a weak answer)."""
SHORT_PENALTY = 0.2
"""Taken off the combined score of a section shorter than its short-section share."""


@dataclass
class SectionChecks:
    """The checks of one section against its ``brief`` and ``main_point``: ``min_on_topic``
    and ``min_words`` the least on-topic score and words that pass, ``planned_words`` the
    document's (for ``CheckBudget``), ``language`` the brief's (found from it when not given),
    ``learned_talk`` whether the talk model judges sentences the patterns pass (``sentence_talk``).

    >>> from agentwrite.writing.topic import LexicalScorer
    >>> checks = SectionChecks("Write a guide to keeping a sourdough starter alive",
    ...                        "Feeding the starter", LexicalScorer(), min_on_topic=0.5,
    ...                        min_words=5)
    >>> checks.judge("Here is section 2 of the guide:"), checks.judge("Feed the starter daily.")
    ('talk about the writing', None)
    >>> s = checks.scores("Feed the sourdough starter flour and water every day.", talk_lines=1)
    >>> s.problems, s.language, round(s.score, 2)
    (['talk'], 'en', 0.95)
    >>> checks.scores("Drones fly over the city markets at night.", 0).problems
    ['off_topic']
    """

    brief: str
    main_point: str
    topic: TopicScorer
    min_on_topic: float
    min_words: int = 0
    planned_words: int = 0
    language: Language | None = None
    learned_talk: bool = False
    _sentences: dict[str, _SentenceFigures] = field(default_factory=dict, init=False, repr=False)
    _chunks: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.language is None:
            self.language = brief_language(self.brief)
        self._reference = section_reference(self.brief, self.main_point)

    def judge(self, sentence: str) -> str | None:
        """``TALK`` when ``sentence`` talks about the writing instead of being it."""
        return TALK if sentence_talk(sentence, learned=self.learned_talk) is not None else None

    def tally(self) -> Tally:
        """A tally for one reading of a candidate as it streams (``LoopGuard.read``): the
        figures of each sentence the guard keeps, and the similarity of each chunk those
        sentences close, worked out as they end."""
        grouper = SentenceGrouper(SECTION_CHUNK_WORDS)

        def take(sentence: Sentence) -> None:
            if sentence.fault is not None:
                return
            if (chunk := grouper.add(sentence.text, self._figures(sentence.text).words)) is not None:
                self._similarities([chunk[0]])

        return take

    def scores(self, text: str, talk_lines: int) -> SectionScores:
        """The figures of a candidate's kept ``text`` (``talk_lines`` found and removed)."""
        assert self.language is not None
        sentences = split_sentences(text)
        figures = [self._figures(sentence) for sentence in sentences]
        words = sum(f.words for f in figures)
        grouped = group_sentences(sentences, [f.words for f in figures], SECTION_CHUNK_WORDS)
        chunks = [(chunk, n) for chunk, n in grouped if n]
        similarities = self._similarities([chunk for chunk, _ in chunks])
        on_topic = weighted_closeness(chunks, similarities, self.topic.threshold)
        scripts = ScriptCounts.total(f.scripts for f in figures)
        share = scripts.share(self.language)
        repeated = repeated_share([f.key for f in figures if f.key is not None])
        gibberish = sum(f.gibberish for f in figures) / words if words else 0.0
        short = words < self.min_words
        failed = {
            "talk": talk_lines > 0,
            "off_topic": on_topic < self.min_on_topic,
            "language": not scripts.matches(self.language),
            "repetition": repeated > MAX_REPEATED_SENTENCES,
            "gibberish": gibberish > MAX_GIBBERISH,
            "short": short,
        }
        score = on_topic * share * (1 - repeated) * (1 - gibberish)
        score -= TALK_PENALTY * talk_lines + (SHORT_PENALTY if short else 0.0)
        return SectionScores(
            talk_lines=talk_lines,
            on_topic=round(on_topic, 4),
            language=scripts.language().code,
            language_share=round(share, 4),
            repeated_sentences=round(repeated, 4),
            gibberish=round(gibberish, 4),
            problems=[name for name, failed_it in failed.items() if failed_it],
            score=round(score, 4),
        )

    def _figures(self, sentence: str) -> _SentenceFigures:
        figures = self._sentences.get(sentence)
        if figures is None:
            bad, words = gibberish_words(sentence)  # its tokens are the counted words (count_words)
            figures = _SentenceFigures(words, ScriptCounts.of(sentence), bad, counted_key(sentence))
            self._sentences[sentence] = figures
        return figures

    def _similarities(self, chunks: list[str]) -> list[float]:
        missing = list(dict.fromkeys(c for c in chunks if c not in self._chunks))
        if missing:
            self._chunks.update(zip(missing, self.topic.similarities(missing, self._reference), strict=True))
        return [self._chunks[c] for c in chunks]


class _SentenceFigures(NamedTuple):
    """One sentence's part of a text's figures."""

    words: int
    scripts: ScriptCounts
    gibberish: int
    key: str | None


def load_word_lists() -> None:
    """Read every word list the checks and the loop guard's gibberish figure use (wordfreq's
    files) now, so that their first use in a run reads no file inside its event loop (a
    LangGraph server refuses such a blocking call). ``write_context`` does it in a thread."""
    load_common_words()
    load_frequencies()
    load_text_stats_lists()


def remove_talk(text: str, *, learned: bool = False) -> tuple[str, int, int]:
    """``text`` without its sentences of talk (``talk_spans``), how many there were and their
    counted words (for a section written without the loop guard, which otherwise removes them).

    >>> remove_talk("Sure! Here is the text:\\nTea is old. I hope this helps!")
    ('Tea is old.', 3, 9)
    """
    spans = talk_spans(text, learned=learned)
    kept, last = [], 0
    for talk in spans:
        kept.append(text[last : talk.start])
        last = talk.end
    kept.append(text[last:])
    return tidy("".join(kept)), len(spans), sum(count_words(text[t.start : t.end]) for t in spans)


def problem_request(problems: list[str], language: Language | None, main_point: str) -> str:
    """The line that names a failed candidate's ``problems`` in the next request.

    >>> from agentwrite.writing.language import CHINESE
    >>> print(problem_request(["off_topic", "language"], CHINESE, "Feeding the starter."))
    Above all, in this answer: Stay on: Feeding the starter. Write in Chinese.
    """
    asks = {
        "talk": "Write only the text itself, with no notes about the writing.",
        "off_topic": f"Stay on: {main_point.rstrip('.')}.",
        "language": f"Write in {language.name}." if language else "Write in the language of the task.",
        "repetition": "Never repeat a sentence.",
        "gibberish": "Write only real words, in plain sentences.",
        "short": "Write the section at its full length.",
    }
    return render("section_problems", problems=" ".join(asks[p] for p in problems)).strip()


def with_problems(messages: list[Message], line: str) -> list[Message]:
    """``messages`` with ``line`` added at the end of the last user message.

    >>> with_problems([{"role": "user", "content": "Write section 2."}], "Write in Chinese.")
    [{'role': 'user', 'content': 'Write section 2.\\nWrite in Chinese.'}]
    """
    last = max(i for i, m in enumerate(messages) if m["role"] == "user")
    changed = {**messages[last], "content": f"{messages[last]['content'].rstrip()}\n{line}"}
    return [*messages[:last], changed, *messages[last + 1 :]]  # type: ignore[list-item]
