"""Word counting as LongBench-Write counts, and word targets parsed from a brief.

LongBench-Write (Bai et al., "LongWriter", arXiv 2408.07055) counts a text's length as
the number of CJK characters (U+4E00 to U+9FFF) plus the number of matches of the
regular expression ``\\b[a-zA-Z]+\\b``. We keep that rule to the letter so that our
figures compare with the paper's, quirks included: a run of letters glued to a digit or
to a CJK character has no word boundary and does not count.
"""

from __future__ import annotations

import math
import re

from agentwrite.errors import InputError

DEFAULT_TARGET_WORDS = 10_000
"""Target used when the brief names no length and no ``--words`` is given."""

MAX_TARGET_WORDS = 100_000
"""Default ceiling on a target; larger ones are refused."""

CJK_CHARACTER = r"[\u4e00-\u9fff]"
"""A counted CJK character (the CJK Unified Ideographs block, as LongBench-Write counts)."""
LATIN_WORD = r"\b[a-zA-Z]+\b"
"""A counted Latin word: a run of ASCII letters standing alone between word boundaries."""
WORD_TOKEN = re.compile(f"{CJK_CHARACTER}|{LATIN_WORD}")
"""One counted word: the project's one spelling of LongBench-Write's word (``count_words``
counts its matches; ``text_stats`` tokenises with it)."""
_CJK = re.compile(CJK_CHARACTER)
_LATIN_WORD = re.compile(LATIN_WORD)


def count_words(text: str) -> int:
    """Count words the LongBench-Write way: CJK characters plus Latin words.

    >>> count_words("Hello, world! It's 2024.")
    4
    >>> count_words("写一篇文章 about Yunnan")
    7
    >>> count_words("abc123 中文abc")
    2
    """
    return len(_CJK.findall(text)) + len(_LATIN_WORD.findall(text))


def cjk_share(text: str) -> float:
    """Share of counted words that are CJK characters (0.0 for an empty text).

    >>> cjk_share("中文 and English")
    0.5
    """
    cjk = len(_CJK.findall(text))
    total = cjk + len(_LATIN_WORD.findall(text))
    return cjk / total if total else 0.0


_NUMBER = r"(\d{1,3}(?:[,，]\d{3})+|\d+(?:\.\d+)?)"
_SCALE = r"\s*([kK]|千|万)?"
_ENGLISH_TARGET = re.compile(_NUMBER + _SCALE + r"(?:\s*-\s*|\s+)?words?\b", re.IGNORECASE)
_CHINESE_TARGET = re.compile(_NUMBER + _SCALE + r"\s*(?:个)?字")
_SCALES = {None: 1, "k": 1000, "K": 1000, "千": 1000, "万": 10000}


def parse_target(brief: str) -> int | None:
    """The word target a brief names, or None. The largest mention wins.

    >>> parse_target("Write a 10,000-word travel guide to Yunnan")
    10000
    >>> parse_target("about 3000 words on tea"), parse_target("a 10k words essay")
    (3000, 10000)
    >>> parse_target("写一篇5000字的文章"), parse_target("约3000字"), parse_target("1.5万字")
    (5000, 3000, 15000)
    >>> parse_target("Write a poem") is None
    True
    """
    found: list[int] = []
    for pattern in (_ENGLISH_TARGET, _CHINESE_TARGET):
        for match in pattern.finditer(brief):
            number = float(re.sub("[,，]", "", match.group(1)))
            found.append(round(number * _SCALES[match.group(2)]))
    return max(found) if found else None


_ENGLISH_LENGTH_ADJECTIVE = re.compile(
    r"\b(?:(an?)\s+)?" + _NUMBER + _SCALE + r"\s*-\s*words?\s+(?=(\w))", re.IGNORECASE
)
_CHINESE_LENGTH = re.compile(_NUMBER + _SCALE + r"\s*(?:个)?字的?")


def without_target(brief: str) -> str:
    """The brief without the length it names where that is an adjective ("a 10,000-word
    history", "一篇500字的短文"): what a section is asked to be part of, without a number that
    a small model copies into its text ("1000-Word History of Lighthouses") or takes for its
    own part's length. Other mentions ("in about 3000 words") are left as they are.

    >>> without_target("Write a 10,000-word history of lighthouses.")
    'Write a history of lighthouses.'
    >>> without_target("Write an 800-word explainer on tides."), without_target("A 500-word essay.")
    ('Write an explainer on tides.', 'An essay.')
    >>> without_target("写一篇500字的短文，介绍薄荷。"), without_target("Write a poem.")
    ('写一篇短文，介绍薄荷。', 'Write a poem.')
    """
    return _CHINESE_LENGTH.sub("", _ENGLISH_LENGTH_ADJECTIVE.sub(_article_for_next, brief))


def _article_for_next(match: re.Match[str]) -> str:
    """What replaces "a 800-word ": the article the next word takes, in the article's case."""
    article = match.group(1)
    if not article:
        return ""
    chosen = "an " if match.group(4) in "aeiouAEIOU" else "a "
    return chosen.capitalize() if article[0].isupper() else chosen


def resolve_target(brief: str, words: int | None = None, ceiling: int = MAX_TARGET_WORDS) -> int:
    """The target for a run: ``words`` if given, else the brief's, else the default.

    Raises InputError for a target below 1 or above ``ceiling``.

    >>> resolve_target("a 3000-word essay"), resolve_target("a 3000-word essay", words=500)
    (3000, 500)
    """
    target = words if words is not None else parse_target(brief)
    if target is None:
        target = DEFAULT_TARGET_WORDS
    if target < 1:
        raise InputError(f"word target must be at least 1, got {target}")
    if target > ceiling:
        raise InputError(f"word target {target} is above the ceiling of {ceiling} words")
    return target


def estimate_tokens(text: str) -> int:
    """A cautious token estimate for budgeting context when no tokenizer is at hand: two
    tokens per CJK character and one per 2.5 other characters. Small models' tokenizers
    spend about 2 tokens per English word (about 2.7 characters a token); a third of the
    characters undercounted them enough for vLLM to refuse prompts near the window.

    >>> estimate_tokens("Hello world, this is tea."), estimate_tokens("云南")
    (10, 4)
    """
    cjk = len(_CJK.findall(text))
    return 2 * cjk + math.ceil((len(text) - cjk) / 2.5)
