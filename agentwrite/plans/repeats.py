"""When two titles (or main points) say the same thing, and a field that loops on one word.

Small models repeat one heading for several sections and give main points that only
restate the heading; the writer then writes the same section twice.
"""

from __future__ import annotations

import re

from agentwrite.plans.labels import strip_labels
from agentwrite.text_stats import split_sentences

TOKEN = re.compile(r"[\u4e00-\u9fff]|[^\W_\u4e00-\u9fff]+(?:[-'’][^\W_\u4e00-\u9fff]+)*")
"""A word of a title or main point: a CJK character, or a run of letters and digits with
inner hyphens and apostrophes."""
_STOPWORD_TEXT = (
    "a an the of to in on at for from by with about into and or but nor as its it this "
    "that these those your you our my their his her is are be being was were will can "
    "的 了 和 与 及 在 之 是 等"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

NEAR_JACCARD = 0.8
"""Two titles (or main points) whose content words overlap this much are near repeats."""
NEAR_PREFIX_TOKENS = 3
"""...as are two whose shorter starts the longer, when it has at least this many content words."""


def content_words(text: str) -> list[str]:
    """Content words of a title or main point, labels stripped: lowercased word runs (with
    inner hyphens and apostrophes) and single CJK characters, without stopwords.

    >>> content_words("Title 3: Planning the Vegetable Garden..."), content_words("昆明的春天")
    (['planning', 'vegetable', 'garden'], ['昆', '明', '春', '天'])
    """
    return [t for t in TOKEN.findall(strip_labels(text).lower()) if t not in _STOPWORDS]


def near_repeat(a: str, b: str) -> bool:
    """Whether two titles (or main points) say the same thing: the same content words after
    labels, case and punctuation are dropped, a Jaccard overlap of those words of at least
    ``NEAR_JACCARD``, or the shorter one (of at least ``NEAR_PREFIX_TOKENS`` content words)
    being how the longer one starts.

    >>> near_repeat("Title 1: Planning a Garden", "planning the garden!")
    True
    >>> near_repeat("Planning a vegetable garden", "Planning a vegetable garden: the tools")
    True
    >>> near_repeat("Soil preparation for tomatoes", "Soil preparation for peppers")
    False
    >>> near_repeat("Tea", "Tea ceremonies"), near_repeat("In part twenty", "In part twenty-one")
    (False, False)
    """
    ta, tb = content_words(a), content_words(b)
    sa, sb = set(ta), set(tb)
    if not sa or not sb:
        return False
    if len(sa & sb) / len(sa | sb) >= NEAR_JACCARD:
        return True
    short, long = sorted((ta, tb), key=len)
    return len(short) >= NEAR_PREFIX_TOKENS and long[: len(short)] == short


def restates(point: str, title: str) -> bool:
    """Whether a main point says nothing its title does not: none of its content words is
    new (it may be the title again, the title behind a label, or a piece of the title).

    >>> restates("Title 2: Planning a garden.", "Planning a Garden")
    True
    >>> restates("How to plan the beds and choose seeds.", "Planning a garden")
    False
    """
    return set(content_words(point)) <= set(content_words(title))


def looping_word(text: str) -> str | None:
    """The word a title or main point keeps repeating (a model looping inside a field): one
    word of at least three letters that makes up half of four or more words, three times or
    more. None for ordinary text.

    >>> looping_word("Planning. Planning. Planning. Planning. 1. Planning."), looping_word("Tea and tea")
    ('planning', None)
    >>> looping_word("Water, water everywhere: the water butts and the water rota")
    """
    words = [w for w in TOKEN.findall(text.lower()) if len(w) >= 3]
    if len(words) < 4:
        return None
    word = max(set(words), key=words.count)
    count = words.count(word)
    return word if count >= 3 and 2 * count >= len(words) else None


def unlooped(text: str) -> str:
    """A looping field with its repeated sentences (and the numbering between them) dropped,
    each sentence kept once.

    >>> unlooped("Planning. Planning. 2. Planning.Planning 3."), unlooped("Soil. Seeds.")
    ('Planning.', 'Soil. Seeds.')
    """
    kept: dict[tuple[str, ...], str] = {}
    for sentence in split_sentences(text):
        words = [w for w in TOKEN.findall(sentence.lower()) if not w.isdigit()]
        key = tuple(w for i, w in enumerate(words) if i == 0 or w != words[i - 1])  # "a.a" is "a"
        if key:
            kept.setdefault(key, sentence.strip())
    return " ".join(kept.values()) or text


def repeats(texts: list[str]) -> list[tuple[int, int]]:
    """``(later, earlier)`` index pairs: each text that nearly repeats an earlier one, with
    the first it repeats.

    >>> repeats(["Soil", "Seeds", "soil!", "Harvest", "SOIL"])
    [(2, 0), (4, 0)]
    """
    pairs = []
    for later in range(1, len(texts)):
        earlier = next((i for i in range(later) if near_repeat(texts[later], texts[i])), None)
        if earlier is not None:
            pairs.append((later, earlier))
    return pairs
