"""Which language a text is in, told by its script, and whether a text is in a given language.

Words are counted as LongBench-Write counts them, widened to every script: each Han or kana
character is one word, and each run of letters of one other script (Latin with its accented
letters, Cyrillic, Greek, Hangul, Arabic, Hebrew, Devanagari, Thai...) is one. A text's
language is the language of the script most of its words are in: Han is Chinese (Japanese
when a tenth or more of its Han and kana characters are kana), Hangul Korean, Cyrillic Russian
(Ukrainian with its own letters), and so on. Latin script is told apart cheaply between
English, French, German, Spanish, Italian, Portuguese and Dutch by how many of the text's
words are among each language's most common words in wordfreq's lists (offline, in its
wheel); English when no other language clearly wins. Plain Python plus ``wordfreq``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Language:
    """A language as the checks name it: ``code`` (ISO 639-1) and ``name``, as a prompt says it.

    >>> Language("zh", "Chinese").name
    'Chinese'
    """

    code: str
    name: str


ENGLISH = Language("en", "English")
CHINESE = Language("zh", "Chinese")
JAPANESE = Language("ja", "Japanese")

_BY_SCRIPT: dict[str, Language] = {
    "han": CHINESE,
    "kana": JAPANESE,
    "hangul": Language("ko", "Korean"),
    "cyrillic": Language("ru", "Russian"),
    "greek": Language("el", "Greek"),
    "hebrew": Language("he", "Hebrew"),
    "arabic": Language("ar", "Arabic"),
    "devanagari": Language("hi", "Hindi"),
    "bengali": Language("bn", "Bengali"),
    "tamil": Language("ta", "Tamil"),
    "thai": Language("th", "Thai"),
    "georgian": Language("ka", "Georgian"),
    "armenian": Language("hy", "Armenian"),
    "latin": ENGLISH,
}
UKRAINIAN = Language("uk", "Ukrainian")
LATIN_LANGUAGES = (
    ENGLISH,
    Language("fr", "French"),
    Language("de", "German"),
    Language("es", "Spanish"),
    Language("it", "Italian"),
    Language("pt", "Portuguese"),
    Language("nl", "Dutch"),
)
"""The Latin-script languages ``language_of`` tells apart (English first: it wins ties)."""

_LANGUAGES = {lang.code: lang for lang in (*_BY_SCRIPT.values(), UKRAINIAN, *LATIN_LANGUAGES)}
_SCRIPTS_OF: dict[str, frozenset[str]] = {
    **{lang.code: frozenset({script}) for script, lang in _BY_SCRIPT.items()},
    **{lang.code: frozenset({"latin"}) for lang in LATIN_LANGUAGES},
    "uk": frozenset({"cyrillic"}),
    "ja": frozenset({"han", "kana"}),
}

_TOKEN = re.compile(
    r"(?P<han>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])"
    r"|(?P<kana>[\u3040-\u30ff])"
    r"|(?P<latin>[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]+)"
    r"|(?P<hangul>[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]+)"
    r"|(?P<cyrillic>[\u0400-\u04ff]+)"
    r"|(?P<greek>[\u0370-\u03ff]+)"
    r"|(?P<hebrew>[\u0590-\u05ff]+)"
    r"|(?P<arabic>[\u0600-\u06ff\u0750-\u077f]+)"
    r"|(?P<devanagari>[\u0900-\u097f]+)"
    r"|(?P<bengali>[\u0980-\u09ff]+)"
    r"|(?P<tamil>[\u0b80-\u0bff]+)"
    r"|(?P<thai>[\u0e00-\u0e7f]+)"
    r"|(?P<georgian>[\u10a0-\u10ff]+)"
    r"|(?P<armenian>[\u0530-\u058f]+)"
)
_UKRAINIAN_LETTERS = re.compile(r"[іїєґІЇЄҐ]")

KANA_SHARE_JAPANESE = 0.1
"""Kana among Han and kana characters from which a text is Japanese, not Chinese."""
COMMON_WORDS = 300
"""How many of a language's most frequent words (wordfreq) tell Latin languages apart."""
OTHER_LATIN_SHARE = 0.2
"""Share of a Latin text's words that must be another language's common words (and more of
them than English's) for the text to be in that language rather than English."""
LATIN_SAMPLE = 500
"""Latin words looked up per text: enough to tell the language, bounded in time."""
MOSTLY = 0.5
"""``matches``: the share of a text's counted words, in the language's script, above which
the text is in the language (see ``matches``)."""


def _tokens(text: str) -> list[tuple[str, str]]:
    return [(match.lastgroup or "", match.group()) for match in _TOKEN.finditer(text)]


@cache
def _common_words(code: str) -> frozenset[str]:
    from wordfreq import top_n_list

    return frozenset(top_n_list(code, COMMON_WORDS))


def load_common_words() -> None:
    """Read the word lists that tell Latin languages apart now, not at their first use."""
    for language in LATIN_LANGUAGES:
        _common_words(language.code)


def _latin_language(words: list[str]) -> Language:
    sample = [word.lower() for word in words[:LATIN_SAMPLE]]
    hits = {lang: sum(1 for word in sample if word in _common_words(lang.code)) for lang in LATIN_LANGUAGES}
    best = max(LATIN_LANGUAGES, key=lambda lang: hits[lang])  # the first of equals: English
    if hits[best] > hits[ENGLISH] and hits[best] >= OTHER_LATIN_SHARE * len(sample):
        return best
    return ENGLISH


@dataclass(frozen=True)
class ScriptCounts:
    """What tells a text's language: its counted words by script, its first ``LATIN_SAMPLE``
    Latin words, and whether its Cyrillic has Ukrainian letters. The counts of texts joined
    by whitespace or a sentence end are the sum of theirs (``total``), so a text read
    sentence by sentence is counted once (the section checks do so as it streams).

    >>> counts = ScriptCounts.of("茶是一种古老的饮料。Tea is old.")
    >>> counts.language().name, counts.share(CHINESE), counts.matches(CHINESE)
    ('Chinese', 0.75, True)
    >>> parts = ScriptCounts.total([ScriptCounts.of("茶是一种古老的饮料。"), ScriptCounts.of("Tea is old.")])
    >>> parts == counts
    True
    """

    scripts: tuple[tuple[str, int], ...] = ()
    latin: tuple[str, ...] = ()
    ukrainian: bool = False

    @classmethod
    def of(cls, text: str) -> ScriptCounts:
        """The counts of one text."""
        tokens = _tokens(text)
        counts = Counter(script for script, _ in tokens)
        latin = tuple(word for script, word in tokens if script == "latin")[:LATIN_SAMPLE]
        ukrainian = bool(counts["cyrillic"]) and any(
            _UKRAINIAN_LETTERS.search(word) for script, word in tokens if script == "cyrillic"
        )
        return cls(tuple(sorted(counts.items())), latin, ukrainian)

    @classmethod
    def total(cls, parts: Iterable[ScriptCounts]) -> ScriptCounts:
        """The counts of the texts of ``parts`` joined, in order."""
        counts: Counter[str] = Counter()
        latin: list[str] = []
        ukrainian = False
        for part in parts:
            counts.update(dict(part.scripts))
            if len(latin) < LATIN_SAMPLE:
                latin.extend(part.latin[: LATIN_SAMPLE - len(latin)])
            ukrainian = ukrainian or part.ukrainian
        return cls(tuple(sorted(counts.items())), tuple(latin), ukrainian)

    def words(self) -> int:
        """Counted words in every script."""
        return sum(count for _, count in self.scripts)

    def votes(self) -> Counter[str]:
        """Counted words by script, Han counted as kana where there is kana (Japanese
        writes both: one script for the vote).

        >>> ScriptCounts.of("お茶は日本の文化です。Tea").votes()
        Counter({'kana': 10, 'latin': 1})
        """
        counts = Counter(dict(self.scripts))
        if counts["kana"]:
            counts["kana"] += counts.pop("han", 0)
        return +counts

    def language(self) -> Language:
        """The language of the script most words are in (``language_of``)."""
        votes = self.votes()
        return self.language_of_script(votes.most_common(1)[0][0]) if votes else ENGLISH

    def language_of_script(self, script: str) -> Language:
        counts = dict(self.scripts)
        if script in ("han", "kana"):
            kana, han = counts.get("kana", 0), counts.get("han", 0)
            return JAPANESE if kana >= KANA_SHARE_JAPANESE * (han + kana) else CHINESE
        if script == "latin":
            return _latin_language(list(self.latin))
        if script == "cyrillic" and self.ukrainian:
            return UKRAINIAN
        return _BY_SCRIPT[script]

    def share(self, language: Language) -> float:
        """Share of the counted words in ``language``'s script (``language_share``)."""
        total = self.words()
        if not total:
            return 0.0
        scripts = _SCRIPTS_OF.get(language.code, frozenset())
        return sum(count for script, count in self.scripts if script in scripts) / total

    def matches(self, language: Language) -> bool:
        """Whether the text is mostly in ``language`` (``matches``)."""
        return self.share(language) > MOSTLY and self.language().code == language.code


def language_of(text: str) -> Language:
    """The language of the script most of ``text``'s words are in; English for a text
    without words (see the module's docstring for how Latin languages are told apart).

    >>> [language_of(t).name for t in ("写一篇关于云南的旅游指南", "A guide to Yunnan", "")]
    ['Chinese', 'English', 'English']
    >>> language_of("Le thé est une boisson que l'on prépare avec des feuilles.").name
    'French'
    >>> language_of("お茶は日本の文化です。").name, language_of("Чай — это напиток.").name
    ('Japanese', 'Russian')
    """
    return ScriptCounts.of(text).language()


def brief_language(instruction: str) -> Language:
    """The language a brief is written in, whatever names it quotes.

    Where a brief mixes scripts, each script's language scores the brief's words that are
    among that language's most common words (for Chinese and Japanese, single characters);
    the higher score wins, then the larger word count. So "为 Sony WH-1000XM5 写一篇评测" is
    Chinese (它 has 为, 一, 的-like words, the Latin part none) and "Write a guide to
    Yunnan's 过桥米线" English.

    >>> brief_language("为 Sony WH-1000XM5 Wireless Noise Cancelling Headphones 写一篇3000字的评测").name
    'Chinese'
    >>> brief_language("Write a 2000-word guide to Yunnan's 过桥米线 and 汽锅鸡").name
    'English'
    >>> brief_language("写一篇8000字的旅行指南，介绍云南十日游的路线、交通、美食和注意事项。").name
    'Chinese'
    """
    read = ScriptCounts.of(instruction)
    votes = read.votes()
    if len(votes) <= 1:
        return read.language()
    tokens = _tokens(instruction)
    scored = []
    for script, count in votes.items():
        language = read.language_of_script(script)
        common = _common_words(language.code)
        scripts = _SCRIPTS_OF[language.code]
        score = sum(1 for s, word in tokens if s in scripts and word.lower() in common)
        scored.append((score, count, language))
    return max(scored, key=lambda row: row[:2])[2]


def language_share(text: str, language: Language) -> float:
    """Share of ``text``'s counted words that are in ``language``'s script (0.0 without words).

    Latin languages share one script, so this is the Latin share for each of them; Japanese
    counts Han and kana.

    >>> language_share("中文 and English", CHINESE), language_share("中文 and English", ENGLISH)
    (0.5, 0.5)
    >>> language_share("", CHINESE)
    0.0
    """
    return ScriptCounts.of(text).share(language)


def matches(text: str, language: Language) -> bool:
    """Whether ``text`` is mostly in ``language``: more than ``MOSTLY`` (half) of its counted
    words are in the language's script, and ``language_of`` names that language (so a French
    answer to an English brief does not match, though both are Latin). A text without words
    matches nothing.

    >>> matches("茶是一种古老的饮料。Tea is old.", CHINESE), matches("Tea is old. 茶。", CHINESE)
    (True, False)
    >>> matches("Le thé est une boisson que l'on prépare avec des feuilles.", ENGLISH)
    False
    """
    return ScriptCounts.of(text).matches(language)


def language_named(code: str) -> Language:
    """The language of an ISO 639-1 code these checks know.

    >>> language_named("zh")
    Language(code='zh', name='Chinese')
    """
    try:
        return _LANGUAGES[code]
    except KeyError:
        raise ValueError(f"no language with code {code!r}; known: {', '.join(sorted(_LANGUAGES))}") from None
