"""How closely a text keeps to its brief (and a section to its planned main point).

A ``TopicScorer`` gives the similarity of texts to a reference text and carries the threshold
at or above which a text counts as on the reference's subject, calibrated on the ``dev`` half
of the labelled set (eval/labels/, ``eval/brief_checks.py --calibrate``). Two scorers:

- ``LexicalScorer`` (``"lexical"``, the default): IDF-weighted cosine of word counts, plain
  Python plus wordfreq, so it gives the same figure whatever is installed. English words are
  lowercased Latin runs, plurals folded and cut to their first ``STEM_LETTERS`` letters (a
  truncation stemmer: "clockmakers" and "clock", "vaccination" and "vaccines" meet), Chinese
  is read as characters and the character bigrams that are words in wordfreq's Chinese list
  ("云南", "美食"; not "的美"); a token's weight is ``-log`` of its wordfreq
  frequency (of the whole word; a floor for unknown tokens), the most frequent words ("the",
  "的") and the words every brief uses to ask for writing ("write", "words", "写", "字"...) are
  left out of both sides. On the dev paragraphs, cutting words to 5 letters beat whole words
  and 6 or 7 letters, leaving out words above a frequency of 1e-2 beat keeping them (and
  leaving out more), and adding the main point to the brief did not help.
- ``EmbeddingScorer`` (``"minilm"``): cosine of all-MiniLM-L6-v2 sentence embeddings from the
  bundled package (the ``eval`` extra), loaded on first use, offline.

``on_topic_share`` is the share of a text's 150-word chunks that are on the brief (the
issue's held-out figure is that share with MiniLM at cosine 0.25); ``section_on_topic`` how
close a section stays to its brief and main point, in [0, 1].
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Protocol

from agentwrite.length import count_words
from agentwrite.text_stats import split_sentences

CHUNK_WORDS = 150
"""Words per chunk of a long text (well inside MiniLM's 256 word pieces)."""
SECTION_CHUNK_WORDS = 60
"""Words per chunk when a section is scored against its main point."""
STEM_LETTERS = 5
"""Letters an English word is cut to before words are compared."""
STOP_FREQUENCY = 1e-2
"""Tokens at least this frequent in wordfreq ("the", "of", "and", "的"...) are left out."""
UNKNOWN_FREQUENCY = 1e-8
"""The frequency given to a token wordfreq does not list (a weight of about 18.4)."""
INSTRUCTION_WORDS = frozenset(
    {"write", "writes", "writing", "written", "wrote", "rewrite", "word", "words", "piece", "text", "texts"}
    | {"section", "sections", "paragraph", "paragraphs", "please", "写", "篇", "字", "请", "则", "段"}
)
"""Words a brief uses to ask for writing, not to say what about: left out of both sides."""

_STOP_WEIGHT = -math.log(STOP_FREQUENCY)
_TOKEN = re.compile(r"[\u4e00-\u9fff]+|[a-zA-Z]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")


class TopicScorer(Protocol):
    """Similarity of texts to a reference, and the threshold for "on the reference's subject"."""

    name: str
    threshold: float

    def similarities(self, texts: Sequence[str], reference: str) -> list[float]:
        """One similarity per text, in the order given."""
        ...


def chunk_text(text: str, max_words: int = CHUNK_WORDS) -> list[str]:
    """Group consecutive sentences into chunks of at most ``max_words`` words (a longer
    sentence is a chunk of its own). An empty text gives one empty chunk.

    >>> chunk_text("One two three. Four five. Six seven eight nine.", max_words=5)
    ['One two three. Four five.', 'Six seven eight nine.']
    """
    sentences = split_sentences(text)
    return [chunk for chunk, _ in group_sentences(sentences, [count_words(s) for s in sentences], max_words)]


def group_sentences(sentences: Sequence[str], words: Sequence[int], max_words: int) -> list[tuple[str, int]]:
    """``chunk_text``'s chunks of ``sentences`` (their counted ``words`` given), each with
    its words.

    >>> group_sentences(["One two three.", "Four five.", "Six seven."], [3, 2, 2], 5)
    [('One two three. Four five.', 5), ('Six seven.', 2)]
    """
    grouper = SentenceGrouper(max_words)
    closed = (grouper.add(sentence, n) for sentence, n in zip(sentences, words, strict=True))
    return [*(chunk for chunk in closed if chunk is not None), grouper.end()]


class SentenceGrouper:
    """``group_sentences`` one sentence at a time, as a text streams: ``add`` gives the chunk
    that a sentence closes (it starts the next), ``end`` the last one.

    >>> grouper = SentenceGrouper(5)
    >>> grouper.add("One two three.", 3), grouper.add("Four five.", 2), grouper.add("Six seven.", 2)
    (None, None, ('One two three. Four five.', 5))
    >>> grouper.end()
    ('Six seven.', 2)
    """

    def __init__(self, max_words: int) -> None:
        self.max_words = max_words
        self._current: list[str] = []
        self._words = 0

    def add(self, sentence: str, words: int) -> tuple[str, int] | None:
        """Take the next sentence (``words`` counted); the chunk it closed, if any."""
        closed = None
        if self._current and self._words + words > self.max_words:
            closed = self.end()
        self._current.append(sentence)
        self._words += words
        return closed

    def end(self) -> tuple[str, int]:
        """The chunk being filled (empty when nothing was added), and start a new one."""
        chunk = (" ".join(self._current), self._words)
        self._current, self._words = [], 0
        return chunk


def _fold(word: str) -> str:
    """A lowercase English word with its plural ending folded.

    >>> [_fold(w) for w in ("Vaccines", "stories", "glass", "bus", "is", "cells")]
    ['vaccine', 'story', 'glass', 'bus', 'is', 'cell']
    """
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@cache
def _chinese_frequencies() -> tuple[dict[str, float], dict[str, float]]:
    """wordfreq's Chinese words, and each character's summed frequency over them."""
    from wordfreq import get_frequency_dict

    words = get_frequency_dict("zh")
    characters: dict[str, float] = {}
    for word, frequency in words.items():
        for character in _HAN.findall(word):
            characters[character] = characters.get(character, 0.0) + frequency
    return words, characters


def load_frequencies() -> None:
    """Read the English and Chinese frequency lists the word weights use now, not at their
    first use."""
    from wordfreq import word_frequency

    _chinese_frequencies()
    word_frequency("the", "en")


@lru_cache(maxsize=131_072)
def token_weight(token: str) -> float:
    """The inverse-frequency weight of one lexical token: ``-ln`` of its wordfreq frequency.

    >>> token_weight("the") < token_weight("vaccine") < token_weight("zzyzxq")
    True
    >>> token_weight("的") < token_weight("云南")
    True
    """
    if _HAN.match(token):
        words, characters = _chinese_frequencies()
        frequency = characters.get(token, 0.0) if len(token) == 1 else words.get(token, 0.0)
    else:
        from wordfreq import word_frequency

        frequency = word_frequency(token, "en")
    return -math.log(max(frequency, UNKNOWN_FREQUENCY))


def lexical_tokens(text: str) -> list[str]:
    """The tokens ``LexicalScorer`` counts: folded English words of two letters or more, and
    Chinese characters with the character bigrams that are Chinese words; instruction words
    and words more frequent than ``STOP_FREQUENCY`` left out.

    >>> lexical_tokens("Write 300 words on the vaccines: 写云南的美食")
    ['on', 'vaccine', '云', '云南', '南', '美', '美食', '食']
    """
    tokens: list[str] = []
    chinese_words = _chinese_frequencies()[0] if _HAN.search(text) else {}
    for run in _TOKEN.findall(text):
        if _HAN.match(run):
            for i, character in enumerate(run):
                if character not in INSTRUCTION_WORDS:
                    tokens.append(character)
                pair = run[i : i + 2]
                if len(pair) == 2 and pair in chinese_words and not (set(pair) & INSTRUCTION_WORDS):
                    tokens.append(pair)
        elif len(run) > 1 and (word := _fold(run)) not in INSTRUCTION_WORDS:
            tokens.append(word)
    return [token for token in tokens if token_weight(token) > _STOP_WEIGHT]


def _vector(text: str) -> dict[str, float]:
    """Sublinear counts of ``lexical_tokens`` cut to their stems, times the heaviest weight
    among the tokens of each stem."""
    counts: Counter[str] = Counter()
    weights: dict[str, float] = {}
    for token in lexical_tokens(text):
        stem = token if _HAN.match(token) else token[:STEM_LETTERS]
        counts[stem] += 1
        weights[stem] = max(weights.get(stem, 0.0), token_weight(token))
    return {stem: (1 + math.log(n)) * weights[stem] for stem, n in counts.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(weight * b[token] for token, weight in a.items() if token in b)
    return dot / math.sqrt(sum(w * w for w in a.values()) * sum(w * w for w in b.values()))


class LexicalScorer:
    """IDF-weighted cosine of lexical tokens (see the module's docstring); no model.

    >>> scorer = LexicalScorer()
    >>> brief = "Write a 3000-word explainer on how vaccines train the immune system"
    >>> on, off = scorer.similarities(["Vaccines show the immune system an antigen.",
    ...                                "Our bakery sells bread made from local grain."], brief)
    >>> on > scorer.threshold > off
    True
    """

    name = "lexical"
    threshold = 0.10
    """Calibrated on the dev paragraphs of eval/labels/brief_checks.jsonl (eval/README.md)."""

    def similarities(self, texts: Sequence[str], reference: str) -> list[float]:
        ref = _vector(reference)
        return [_cosine(_vector(text), ref) for text in texts]


class EmbeddingScorer:
    """Cosine of all-MiniLM-L6-v2 embeddings (the ``eval`` extra), loaded on first use."""

    name = "minilm"
    threshold = 0.38
    """Calibrated on the dev paragraphs of eval/labels/brief_checks.jsonl (eval/README.md)."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    def similarities(self, texts: Sequence[str], reference: str) -> list[float]:
        from agentwrite.llm.embedding import load_embedder

        rows = load_embedder(self.device)([reference, *texts])
        ref = rows[0]
        return [float(row @ ref) for row in rows[1:]]


SCORERS = ("lexical", "minilm")
"""The names ``scorer`` knows."""


def scorer(name: str = "lexical") -> TopicScorer:
    """The topic scorer called ``name`` (``SCORERS``).

    >>> scorer().name, scorer("minilm").threshold > 0
    ('lexical', True)
    """
    if name == "lexical":
        return LexicalScorer()
    if name == "minilm":
        return EmbeddingScorer()
    raise ValueError(f"no topic scorer named {name!r}; known: {', '.join(SCORERS)}")


def on_topic_share(text: str, brief: str, topic: TopicScorer, chunk_words: int = CHUNK_WORDS) -> float:
    """Share of ``text``'s chunks of at most ``chunk_words`` words whose similarity to
    ``brief`` reaches ``topic.threshold``; 1.0 for a text without words (nothing drifted).

    >>> brief = "Write a guide to keeping a sourdough starter alive"
    >>> on_topic_share("Feed the sourdough starter flour. " * 30 + "Drones fly over busy markets. " * 30,
    ...                brief, LexicalScorer())  # 150 words each: two chunks
    0.5
    """
    chunks = [chunk for chunk in chunk_text(text, chunk_words) if count_words(chunk)]
    if not chunks:
        return 1.0
    similarities = topic.similarities(chunks, brief)
    return sum(1 for s in similarities if s >= topic.threshold) / len(chunks)


def section_on_topic(text: str, brief: str, main_point: str | None, topic: TopicScorer) -> float:
    """How closely a section keeps to its brief and its planned main point, in [0, 1].

    The section is cut into chunks of at most ``SECTION_CHUNK_WORDS`` words; each chunk
    scores its similarity to the brief and the main point together, as a fraction of the
    scorer's threshold, capped at 1; the result is the mean weighted by the chunks' words. So
    1.0 means every part of the section is at least as close as an on-brief paragraph, 0.5
    that on average it is half as close. A section without words scores 0.0.

    >>> brief, point = "Write a guide to keeping a sourdough starter alive", "Feeding the starter"
    >>> on = "Feed the starter flour and water every day, and keep the sourdough jar warm."
    >>> section_on_topic(on, brief, point, LexicalScorer())
    1.0
    >>> section_on_topic("Drones fly over the city markets at night.", brief, point, LexicalScorer())
    0.0
    """
    sentences = split_sentences(text)
    grouped = group_sentences(sentences, [count_words(s) for s in sentences], SECTION_CHUNK_WORDS)
    chunks = [(chunk, words) for chunk, words in grouped if words]
    reference = section_reference(brief, main_point)
    return weighted_closeness(chunks, topic.similarities([c for c, _ in chunks], reference), topic.threshold)


def section_reference(brief: str, main_point: str | None) -> str:
    """What a section's chunks are compared with: the brief, and its main point if any."""
    return f"{brief}\n{main_point}" if main_point else brief


def weighted_closeness(
    chunks: Sequence[tuple[str, int]], similarities: Sequence[float], threshold: float
) -> float:
    """``section_on_topic`` from its ``chunks`` (text, words) and their ``similarities``: each
    similarity as a fraction of ``threshold``, capped at 1, averaged by words; 0.0 for none.

    >>> weighted_closeness([("a", 30), ("b", 10)], [0.2, 0.05], 0.1)
    0.875
    """
    total = sum(words for _, words in chunks)
    if not total:
        return 0.0
    closeness = (min(1.0, max(0.0, s) / threshold) for s in similarities)
    return sum(words * c for (_, words), c in zip(chunks, closeness, strict=True)) / total
