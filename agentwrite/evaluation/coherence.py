"""Judge-free coherence metrics of long texts: repetition, cross-section echoes, topical flow.

Tokens follow ``agentwrite.length.count_words``: every CJK character is one token and every
run of Latin letters standing alone between word boundaries is one (lowercased) token, so
``len(word_tokens(t)) == count_words(t)`` for any text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from agentwrite.length import count_words

_TOKEN = re.compile(r"[\u4e00-\u9fff]|\b[a-zA-Z]+\b")
_SENTENCE_END = re.compile(
    r"([.!?]+[\"'”’)\]]*)\s+"  # English: end marks and closing quotes/brackets, then a space
    r"|([。！？；…]+[”’」』）]*)"  # Chinese: end marks and closing quotes, no space needed
)

MIN_SENTENCE_WORDS = 5
"""Sentences shorter than this (in counted words) are too generic to call repeated."""


def word_tokens(text: str) -> list[str]:
    """The counted words of ``text``: CJK characters and lowercased Latin words.

    >>> word_tokens("The cat, THE hat! 猫和帽子")
    ['the', 'cat', 'the', 'hat', '猫', '和', '帽', '子']
    >>> text = "abc123 中文abc it's"
    >>> word_tokens(text), len(word_tokens(text)) == count_words(text)
    (['中', '文', 'it', 's'], True)
    """
    return [token.lower() for token in _TOKEN.findall(text)]


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(text: str, n: int) -> float:
    """Distinct n-grams over all n-grams (1.0 when the text has no n-gram: nothing repeats).

    >>> distinct_n("a b a b", 1), distinct_n("a b a b", 2), distinct_n("a", 2)
    (0.5, 0.6666666666666666, 1.0)
    """
    grams = _ngrams(word_tokens(text), n)
    return len(set(grams)) / len(grams) if grams else 1.0


def repeated_ngram_rate(text: str, n: int = 4) -> float:
    """Share of n-gram occurrences whose n-gram occurs more than once (0.0 without n-grams).

    >>> repeated_ngram_rate("a b a b", n=2)  # ab, ba, ab: both "ab" count
    0.6666666666666666
    >>> repeated_ngram_rate("one two three four five"), repeated_ngram_rate("")
    (0.0, 0.0)
    """
    grams = _ngrams(word_tokens(text), n)
    if not grams:
        return 0.0
    counts = Counter(grams)
    return sum(c for c in counts.values() if c > 1) / len(grams)


def split_sentences(text: str) -> list[str]:
    """Split on English and Chinese sentence ends and on line breaks; drop empty pieces.

    >>> split_sentences("Tea is old. Is it? Yes!\\n# Heading\\n茶很古老。真的吗？是的")
    ['Tea is old.', 'Is it?', 'Yes!', '# Heading', '茶很古老。', '真的吗？', '是的']
    """
    marked = _SENTENCE_END.sub(lambda m: (m.group(1) or m.group(2)) + "\n", text)
    return [line.strip() for line in marked.splitlines() if line.strip()]


def _normalise(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def repeated_sentence_rate(sections: Sequence[str], min_words: int = MIN_SENTENCE_WORDS) -> float:
    """Share of sentences (of ``min_words`` words or more) that also appear in another section.

    Sentences compare after lowercasing and collapsing whitespace. 0.0 when no sentence
    is long enough.

    >>> a = "The river runs north to the sea. It is cold."
    >>> b = "the river  runs north to the SEA. Boats are many on it today."
    >>> repeated_sentence_rate([a, b])  # 3 long sentences, 2 of them shared
    0.6666666666666666
    """
    per_section = [
        [s for s in map(_normalise, split_sentences(text)) if count_words(s) >= min_words]
        for text in sections
    ]
    where: dict[str, set[int]] = {}
    for index, sentences in enumerate(per_section):
        for sentence in sentences:
            where.setdefault(sentence, set()).add(index)
    total = sum(len(sentences) for sentences in per_section)
    repeated = sum(1 for sentences in per_section for s in sentences if len(where[s]) > 1)
    return repeated / total if total else 0.0


def adjacent_similarity(vectors: np.ndarray) -> list[float]:
    """Cosine similarity of each section's embedding with the next one's (n - 1 values).

    >>> adjacent_similarity(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]]))
    [0.7071, 0.7071]
    """
    unit = unit_rows(vectors)
    return [round(float(unit[i] @ unit[i + 1]), 4) for i in range(len(unit) - 1)]


def brief_similarity(brief: np.ndarray, vectors: np.ndarray) -> list[float]:
    """Cosine similarity of each section's embedding with the brief's; drift is 1 minus it.

    >>> brief_similarity(np.array([1.0, 0.0]), np.array([[3.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    [1.0, 0.0, -1.0]
    """
    return [round(float(v), 4) for v in unit_rows(vectors) @ unit_rows(brief[np.newaxis, :])[0]]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (zero rows stay zero).

    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
