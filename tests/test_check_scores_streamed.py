"""The section checks' scores as the writer gets them, each sentence's part worked out as it
streams (issue 27: the checks keep their state as text streams in), are the figures of the
whole text read at once."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from agentwrite.text_stats import document_repeated_sentence_rate, gibberish_rate
from agentwrite.writing.checks import SectionChecks
from agentwrite.writing.language import CHINESE, ENGLISH, Language, language_of, language_share, matches
from agentwrite.writing.loop_guard import LoopGuard
from agentwrite.writing.topic import LexicalScorer, section_on_topic

BRIEF = "Write a 2000-word guide to keeping a sourdough starter alive"
POINT = "Feeding the starter flour and water"
ENGLISH_TEXT = (
    "## Feeding\n\nFeed the sourdough starter equal weights of flour and water every day. "
    "Stir the fresh flour in well, so that the starter takes up air and stays lively. "
    "A warm kitchen makes the starter rise faster, and a cold one slows its feeding!\n\n"
    "- Discard half of the starter before each feeding, or the jar will overflow.\n"
    "- Rye flour wakes a sluggish starter, because its bran feeds the yeast.\n\n"
    "Drones fly over the busy city markets at night, and the traders count their coins. "
    "Feed the sourdough starter equal weights of flour and water every day. "
    "The blorfy znaxit wumbled the grindlewocks quixotically yesterday morning.\n\n"
    "```\nflour = 50  # grams, fed daily to the starter\n```\n\n"
    "After a few days of regular feeding the starter doubles within hours and smells sweet."
)
CHINESE_TEXT = (
    "每天用等量的面粉和水喂养酸面团酵种。把新面粉搅拌均匀，让酵种吸入空气，保持活力。"
    "温暖的厨房让酵种发得更快，寒冷的厨房会减慢它的发酵。\n"
    "Feed the starter every day, and keep the jar warm in winter.\n"
    "每天用等量的面粉和水喂养酸面团酵种。几天之后，酵种会在几个小时内膨胀一倍，闻起来有甜味。"
)
FRENCH_TEXT = "Le levain se nourrit de farine et d'eau chaque jour. Gardez le bocal au chaud."


def whole_text_figures(text: str, language: Language) -> tuple[float, ...]:
    """The figures as the whole-text functions give them, rounded as the scores are."""
    return (
        round(section_on_topic(text, BRIEF, POINT, LexicalScorer()), 4),
        round(language_share(text, language), 4),
        round(document_repeated_sentence_rate(text), 4),
        round(gibberish_rate(text), 4),
        matches(text, language),
        language_of(text).code,
    )


def score_figures(checks: SectionChecks, text: str) -> tuple[float, ...]:
    s = checks.scores(text, talk_lines=0)
    assert checks.language is not None
    matched = "language" not in s.problems
    return (s.on_topic, s.language_share, s.repeated_sentences, s.gibberish, matched, s.language)


class CountingScorer(LexicalScorer):
    """The lexical scorer, counting the chunks it is asked to score."""

    def __init__(self) -> None:
        self.scored: list[str] = []

    def similarities(self, texts: Sequence[str], reference: str) -> list[float]:
        self.scored.extend(texts)
        return super().similarities(texts, reference)


def stream(checks: SectionChecks, text: str, piece: int = 7) -> None:
    """Feed ``text`` in pieces to a loop guard's reading with the checks' tally, as the writer does."""
    reading = LoopGuard(judges=[checks.judge]).read("", checks.tally())
    watch = reading.watch()
    for start in range(0, len(text), piece):
        watch(text[start : start + piece])
    reading.end()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (ENGLISH_TEXT, ENGLISH),
        (CHINESE_TEXT, CHINESE),
        (CHINESE_TEXT, ENGLISH),
        (FRENCH_TEXT, ENGLISH),
        ("", ENGLISH),
    ],
)
def test_scores_are_the_whole_texts_figures_streamed_or_not(text: str, language: Language) -> None:
    expected = whole_text_figures(text, language)
    read_at_the_end = SectionChecks(BRIEF, POINT, LexicalScorer(), min_on_topic=0.5, language=language)
    assert score_figures(read_at_the_end, text) == expected
    streamed = SectionChecks(BRIEF, POINT, LexicalScorer(), min_on_topic=0.5, language=language)
    stream(streamed, text)
    assert score_figures(streamed, text) == expected


def test_a_streamed_section_leaves_only_its_last_chunk_to_score_at_the_end() -> None:
    text = " ".join(f"Feed the starter on day {n} with fresh rye flour and warm water." for n in range(60))
    scorer = CountingScorer()
    checks = SectionChecks(BRIEF, POINT, scorer, min_on_topic=0.5)
    stream(checks, text)
    while_streaming = len(scorer.scored)
    assert while_streaming >= 5  # 60 sentences of about 12 words: chunks of at most 60 words
    checks.scores(text, talk_lines=0)
    assert len(scorer.scored) == while_streaming + 1  # the chunk the text's end closed


def test_sentences_the_guard_drops_are_not_part_of_the_kept_texts_chunks() -> None:
    checks = SectionChecks(BRIEF, POINT, CountingScorer(), min_on_topic=0.5)
    stream(checks, "Here is the rewritten version of the guide:\n" + ENGLISH_TEXT)
    scored = " ".join(checks.topic.scored)  # type: ignore[attr-defined]
    assert "rewritten version" not in scored
