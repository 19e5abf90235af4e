"""Judge-free figures of a text alone: tokens, n-grams, sentences, repetition, gibberish.

Core module: plain Python plus ``wordfreq`` (no numpy, nothing from ``agentwrite.evaluation``),
so that the writer can call it on text while it streams.

Tokens follow ``agentwrite.length.count_words``: every CJK character is one token and every
run of Latin letters standing alone between word boundaries is one (lowercased) token, so
``len(word_tokens(t)) == count_words(t)`` for any text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache

from agentwrite.length import CJK_CHARACTER, WORD_TOKEN, count_words

GUARD_TOKEN = re.compile(rf"{WORD_TOKEN.pattern}|[^\W\d_a-zA-Z\u00c0-\u024f\u1e00-\u1eff\u4e00-\u9fff]+")
"""One word as the loop guard sees it: a counted word (``WORD_TOKEN``), or a run of letters
of a script that LongBench-Write does not count (Arabic, Cyrillic, Greek, Hangul, kana...).
Latin letters with accents stay invisible, as in the count, so that on Latin and CJK text
the guard's words are exactly the counted ones."""
_CJK_CHAR = re.compile(CJK_CHARACTER)
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits on
_EN_CLOSING = "\"'”’)\\]"  # closing quotes and brackets that stay with the sentence they end
_ZH_CLOSING = "”’」』）"
SENTENCE_END = re.compile(
    rf"(?<![.!?])[.!?]+[{_EN_CLOSING}]*(?=\s|$)"  # English: a run of end marks from its start (linear on
    # "....x"), closing quotes/brackets, then space or end
    rf"|[。！？；…]+[{_ZH_CLOSING}]*"  # Chinese: end marks and closing quotes, no space needed
)
"""Where a sentence ends (a match's end) for the text figures and the loop guard: after
``.!?`` (with closing quotes or brackets) before whitespace or the end of the text, and after
``。！？`` or the clause marks ``；…`` (with closing quotes) anywhere. So "3.5" and "e.g.this"
end nothing, and in 'It costs 3.5 yuan. "Good!" 茶很老；是的…好' the sentences end after
``.``, ``!"``, ``；`` and ``…`` (``sentence_spans`` also cuts at every line break)."""
FULL_STOP = re.compile(
    rf"(?<![.!?…])[.!?…]+[{_EN_CLOSING}]*(?=\s|$)"  # a run from its start: linear on "....x"
    rf"|[。！？]+[{_EN_CLOSING}{_ZH_CLOSING}]*"
)
"""A sentence end at which a text may stop (``full_stops``): ``SENTENCE_END`` less the clause
marks, whose pieces are sentences to the figures but leave a text unfinished. ``；`` ends no
text, ``…`` ends one before whitespace or the end only (as ``.`` does), and straight quotes
and brackets after ``。！？`` stay with the sentence. In 'He said "wait…" then 茶很老；它来自
云南。"好"' the full stops are after ``…"`` and ``。"`` only."""
_SENTENCE_BREAK = re.compile(rf"{SENTENCE_END.pattern}|[{_LINE_BREAKS}]")  # or any line break
_LIST_MARKER = re.compile(r"^\s*(?:[-*+>]+|\d+[.)])\s+")
_NOT_WORD = re.compile(r"[\W_]+")
_SPACE_NEXT_TO_CJK = re.compile(r"(?<=[\u4e00-\u9fff]) | (?=[\u4e00-\u9fff])")

MIN_SENTENCE_WORDS = 5
"""Sentences shorter than this (in counted words) are too generic to call repeated."""

COMMON_CHINESE_CHARACTERS = 5000
"""How many of the most frequent characters of wordfreq's Chinese list count as common.

A character's frequency is the summed frequency of the listed words that contain it. The
top 5,000 miss none of the characters of a classical poem or of everyday prose, while the
list's tail (9,135 characters) holds rare variants down to its frequency floor."""


def word_tokens(text: str) -> list[str]:
    """The counted words of ``text``: CJK characters and lowercased Latin words.

    >>> word_tokens("The cat, THE hat! 猫和帽子")
    ['the', 'cat', 'the', 'hat', '猫', '和', '帽', '子']
    >>> text = "abc123 中文abc it's"
    >>> word_tokens(text), len(word_tokens(text)) == count_words(text)
    (['中', '文', 'it', 's'], True)
    """
    return [token.lower() for token in WORD_TOKEN.findall(text)]


def guard_tokens(text: str, start: int = 0, end: int | None = None) -> tuple[list[str], int]:
    """The words of ``text[start:end]`` as the loop guard sees them (``GUARD_TOKEN``), and
    how many of them are counted words (the first ``count_words`` of that text).

    >>> guard_tokens("Tea 茶 чай شاي café")
    (['Tea', '茶', 'чай', 'شاي'], 2)
    """
    tokens = GUARD_TOKEN.findall(text, start, len(text) if end is None else end)
    return tokens, sum(1 for t in tokens if t[0] < "\x80" or "\u4e00" <= t[0] <= "\u9fff")


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


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` offsets of each sentence of ``text``, without surrounding whitespace.

    A sentence ends after English end marks (``.!?``, with any closing quotes or brackets)
    followed by whitespace, after Chinese end marks (``。！？；…``, with closing quotes), and
    at every line break; empty pieces are dropped.

    >>> text = "Tea is old. Is it?\\n\\n## Tea\\n茶很古老。是的"
    >>> sentence_spans(text)
    [(0, 11), (12, 18), (20, 26), (27, 32), (32, 34)]
    >>> [text[a:b] for a, b in sentence_spans(text)]
    ['Tea is old.', 'Is it?', '## Tea', '茶很古老。', '是的']
    """
    spans, rest = finished_sentence_spans(text)
    _add_span(text, rest, len(text), spans)
    return spans


def finished_sentence_spans(text: str, start: int = 0) -> tuple[list[tuple[int, int]], int]:
    """The sentences of ``text[start:]`` (``start`` being where one may begin) that no text
    added to ``text`` can change, as ``sentence_spans`` gives them, and where the rest
    begins: a sentence is finished by a sentence end that is not at the very end of the
    text (more end marks or closing quotes may follow, or no space).

    >>> finished_sentence_spans("Tea is old. Is it"), finished_sentence_spans("茶很古老。是的")
    (([(0, 11)], 11), ([(0, 5)], 5))
    >>> finished_sentence_spans("Tea is old."), finished_sentence_spans("茶很古老。是的。", 5)
    (([], 0), ([], 5))
    """
    spans: list[tuple[int, int]] = []
    for match in _SENTENCE_BREAK.finditer(text, start):
        if match.end() == len(text):
            break
        is_line_break = match.group() in _LINE_BREAKS
        _add_span(text, start, match.start() if is_line_break else match.end(), spans)
        start = match.end()
    return spans, start


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def full_stops(text: str) -> list[int]:
    """The offsets just after each ``FULL_STOP`` of ``text``: where the text may be cut (to a
    budget, to a summary, to an excerpt) and still end a sentence.

    >>> text = 'He said "wait…" then left. 茶很老；它来自云南。"好"'
    >>> [text[:end][-6:] for end in full_stops(text)]
    ['wait…"', ' left.', '来自云南。"']
    >>> full_stops("Wait…what? 3.5 is e.g.this"), full_stops("真的吗？！是的")
    ([10], [5])
    """
    return [match.end() for match in FULL_STOP.finditer(text)]


def ends_with_full_stop(text: str) -> bool:
    """Whether ``text`` ends (but for whitespace) at a ``FULL_STOP``: a cut there ends a sentence.

    >>> ends_with_full_stop("Tea is old.\\n"), ends_with_full_stop("茶很老。”")
    (True, True)
    >>> ends_with_full_stop("茶很老；"), ends_with_full_stop("Wait…what")
    (False, False)
    >>> ends_with_full_stop("the road (about 400 words)"), ends_with_full_stop("it isn’")
    (False, False)
    """
    text = text.rstrip()
    ends = full_stops(text)
    return bool(ends) and ends[-1] == len(text)


def split_sentences(text: str) -> list[str]:
    """Split on English and Chinese sentence ends and on line breaks; drop empty pieces.

    >>> split_sentences("Tea is old. Is it? Yes!\\n# Heading\\n茶很古老。真的吗？是的")
    ['Tea is old.', 'Is it?', 'Yes!', '# Heading', '茶很古老。', '真的吗？', '是的']
    """
    return [text[start:end] for start, end in sentence_spans(text)]


def normalise_sentence(sentence: str) -> str:
    """A sentence reduced for comparison: lowercase, without a leading list or quote marker,
    punctuation and markdown markers, with whitespace collapsed (and none next to CJK).

    >>> normalise_sentence("The river  runs **north**.") == normalise_sentence("the river runs north")
    True
    >>> normalise_sentence("## 1. Tea, *today*!"), normalise_sentence("- It's here")
    ('1 tea today', 'it s here')
    >>> normalise_sentence("“茶， 很古老。”")
    '茶很古老'
    """
    text = _LIST_MARKER.sub("", sentence.lower())
    text = " ".join(_NOT_WORD.sub(" ", text).split())
    return _SPACE_NEXT_TO_CJK.sub("", text) if _CJK_CHAR.search(text) else text


def counted_sentences(text: str, min_words: int = MIN_SENTENCE_WORDS) -> list[str]:
    """The sentences of ``text`` that the repetition figures count: those of ``min_words``
    counted words or more, each as ``normalise_sentence`` gives it.

    >>> counted_sentences("Tea is old. The river runs north to the sea!")
    ['the river runs north to the sea']
    """
    return [key for s in split_sentences(text) if (key := counted_key(s, min_words)) is not None]


def counted_key(sentence: str, min_words: int = MIN_SENTENCE_WORDS) -> str | None:
    """One sentence as the repetition figures count it: ``normalise_sentence``'s key when it
    has ``min_words`` counted words or more, else None.

    >>> counted_key("The river runs **north** to the sea!"), counted_key("Tea is old.")
    ('the river runs north to the sea', None)
    """
    key = normalise_sentence(sentence)
    return key if count_words(key) >= min_words else None


def repeated_share(keys: Sequence[str]) -> float:
    """Share of ``keys`` (counted sentences) that occur more than once; 0.0 for none.

    >>> repeated_share(["a b", "c d", "a b"]), repeated_share([])
    (0.6666666666666666, 0.0)
    """
    if not keys:
        return 0.0
    return sum(c for c in Counter(keys).values() if c > 1) / len(keys)


def document_repeated_sentence_rate(text: str, min_words: int = MIN_SENTENCE_WORDS) -> float:
    """Share of sentences (of ``min_words`` counted words or more) that occur more than once
    anywhere in ``text``, within a section as well as across sections.

    Sentences compare after ``normalise_sentence``. 0.0 when no sentence is long enough.

    >>> document_repeated_sentence_rate("A b c d e. F g h i j. A b c d e.")
    0.6666666666666666
    >>> document_repeated_sentence_rate("Short. Short. Short."), document_repeated_sentence_rate("")
    (0.0, 0.0)
    """
    return repeated_share(counted_sentences(text, min_words))


def cross_section_repeated_sentence_rate(
    sections: Sequence[str], min_words: int = MIN_SENTENCE_WORDS
) -> float:
    """Share of sentences (of ``min_words`` words or more) that also appear in another section.

    Sentences compare after ``normalise_sentence``. A sentence repeated only inside its own
    section does not count (``document_repeated_sentence_rate`` counts that). 0.0 when no
    sentence is long enough.

    >>> a = "The river runs north to the sea. It is cold."
    >>> b = "the river  runs north to the SEA! Boats are many on it today."
    >>> cross_section_repeated_sentence_rate([a, b])  # 3 long sentences, 2 of them shared
    0.6666666666666666
    """
    per_section = [counted_sentences(text, min_words) for text in sections]
    where: dict[str, set[int]] = {}
    for index, sentences in enumerate(per_section):
        for sentence in sentences:
            where.setdefault(sentence, set()).add(index)
    total = sum(len(sentences) for sentences in per_section)
    repeated = sum(1 for sentences in per_section for s in sentences if len(where[s]) > 1)
    return repeated / total if total else 0.0


def load_word_lists() -> None:
    """Read the word lists of the gibberish figure now, not at its first use."""
    _english_words()
    _common_chinese_characters()


@cache
def _english_words() -> frozenset[str]:
    from wordfreq import get_frequency_dict

    return frozenset(get_frequency_dict("en"))


@cache
def _common_chinese_characters() -> frozenset[str]:
    from wordfreq import get_frequency_dict

    per_character: dict[str, float] = {}
    for word, frequency in get_frequency_dict("zh").items():
        for character in _CJK_CHAR.findall(word):
            per_character[character] = per_character.get(character, 0.0) + frequency
    ranked = sorted(per_character, key=per_character.__getitem__, reverse=True)
    return frozenset(ranked[:COMMON_CHINESE_CHARACTERS])


@lru_cache(maxsize=65_536)
def is_word(token: str, lang: str = "en") -> bool:
    """Whether one counted token is a real word: for ``"en"`` a lowercase run of Latin letters
    that is a single letter or in wordfreq's English list; for ``"zh"`` one CJK character
    among the ``COMMON_CHINESE_CHARACTERS`` most frequent of wordfreq's Chinese list. Each
    list is loaded once, on first use (about 0.2 s for English, 0.8 s for Chinese).

    >>> is_word("river"), is_word("dunno"), is_word("x"), is_word("alrightdumminmjerry")
    (True, True, True, False)
    >>> is_word("茶", "zh"), is_word("龘", "zh")
    (True, False)
    """
    if lang == "en":
        return len(token) == 1 or token.lower() in _english_words()
    if lang == "zh":
        return token in _common_chinese_characters()
    raise ValueError(f"no word list for language {lang!r}")


def gibberish_rate(text: str) -> float:
    """Share of counted tokens (``word_tokens``: Latin words and CJK characters) that are
    not words by ``is_word``; 0.0 for a text without tokens.

    Latin words are looked up in wordfreq's English list (321,180 words, offline, in the
    wheel); single letters always count as words (``a``, ``I``, and the ``s`` of "it's"), so
    the figure is over exactly ``count_words(text)`` tokens. Gibberish from small models is
    mostly words run together ("biggerandtheir", "lovedones") and invented ones ("scorpice").

    Chinese goes by character: wordfreq's ``zipf_frequency(c, "zh")`` segments with jieba,
    which is not installed (and a per-word figure would need it too), so the list is read
    with ``get_frequency_dict("zh")`` and a character counts as a word when it is among the
    ``COMMON_CHINESE_CHARACTERS`` most frequent characters of that (simplified-script) list.
    That catches rare, garbled and non-simplified characters, not nonsense built from common
    ones; a text in traditional characters scores high.

    >>> gibberish_rate("The garden on the balcony needs sun, water and a little patience.")
    0.0
    >>> gibberish_rate("yahda yeah dunno mr alrightdumminmjerry flibbertyjib")
    0.5
    >>> gibberish_rate("阳台上的小菜园需要阳光、水和一点耐心。"), gibberish_rate("")
    (0.0, 0.0)
    """
    bad, tokens = gibberish_words(text)
    return bad / tokens if tokens else 0.0


def gibberish_words(text: str) -> tuple[int, int]:
    """How many of ``text``'s counted tokens are not words (``gibberish_rate``), and how
    many it has; a text's counts are the sums of its sentences'.

    >>> gibberish_words("yahda yeah dunno mr alrightdumminmjerry"), gibberish_words("")
    ((2, 5), (0, 0))
    """
    tokens = word_tokens(text)
    return sum(1 for t in tokens if not is_word(t, "zh" if _CJK_CHAR.match(t) else "en")), len(tokens)
