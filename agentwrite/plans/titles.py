"""How a heading reads: cut off mid-phrase and brought back whole, talking about the writing
instead of naming a subject, restating the task, or cut from a main point."""

from __future__ import annotations

import re

from agentwrite.plans.labels import strip_labels
from agentwrite.plans.repeats import TOKEN
from agentwrite.writing.talk import talk_kind

_DANGLING = frozenset(
    ["a", "an", "the", "and", "or", "nor", "of", "to", "its", "your", "our", "their", "my", "his", "her"]
)
"""Words a whole title does not end on: one that does was cut mid-phrase (a schema's length
limit stops a field wherever it falls)."""
_DANGLING_AFTER_CUT = _DANGLING | frozenset(
    ["for", "with", "on", "in", "at", "by", "from", "into", "as", "is", "are", "was", "were", "be",
     "that", "which", "than", "but", "this", "these"]
)  # fmt: skip
"""...and the words a heading cut at a word count should not end on either."""
_ELLIPSIS = re.compile(r"\s*(?:(?<!\.)\.{2,}|…)\s*$")  # a run of dots from its start: linear on "....x"
_SUBTITLE_BREAK = re.compile(r":|\s[-–—|]\s|\.\s")
_BRACKETS = re.compile(r"^[\s\"“”'‘’]*(?:<<)?[\s\"“”'‘’]*|[\s\"“”'‘’]*(?:>>)?[\s\"“”'‘’]*$")


def _last_word(text: str) -> str:
    words = TOKEN.findall(text.lower())
    return words[-1] if words else ""


def cut_off(title: str, limit: int | None = None) -> bool:
    """Whether a title stops mid-phrase: on "..." or on a word that needs another after it
    ("Creating a", "Guide to"), or at ``limit`` characters (the plan schema's length limit,
    where a constrained decoder ends the field wherever it is: "...with a 20").

    >>> cut_off("Starting a Vegetable Garden on a City balcony: Guide to Planning and Creating a ")
    True
    >>> cut_off("Planning a garden..."), cut_off("Things to Look Out For"), cut_off("A"), cut_off("潮汐")
    (True, False, False, False)
    >>> cut_off("A balcony with a 20", limit=19), cut_off("A balcony with a 20", limit=20)
    (True, False)
    """
    stripped = title.strip()
    if limit is not None and len(title) >= limit:
        return True
    if _ELLIPSIS.search(stripped):
        return bool(TOKEN.search(stripped))
    return len(stripped.split()) > 1 and _last_word(stripped) in _DANGLING


def uncut(title: str, limit: int | None = None) -> str:
    """A title cut mid-phrase (``cut_off``) brought back to its last whole part: the part
    before its subtitle where it has one (the subtitle is what was cut), else the title
    without the words left dangling (and, cut at ``limit``, without its last word, which
    may be a part). Other titles are returned as they are.

    >>> uncut("Starting a Vegetable Garden on a City balcony: Guide to Planning and Creating a")
    'Starting a Vegetable Garden on a City balcony'
    >>> uncut("Planning and Creating a Plan to"), uncut("Soil, water and light..."), uncut("Tea")
    ('Planning and Creating a Plan', 'Soil, water and light', 'Tea')
    >>> uncut("Planning a vegetable garden, a practical guide for a balcony with a 20", limit=70)
    'Planning a vegetable garden, a practical guide for a balcony'
    """
    if not cut_off(title, limit):
        return title
    text = _ELLIPSIS.sub("", title.strip())
    breaks = list(_SUBTITLE_BREAK.finditer(text))
    if breaks and TOKEN.search(head := text[: breaks[-1].start()]):
        return head.strip()
    if limit is not None and len(title) >= limit:
        return _without_dangling(text.rsplit(maxsplit=1)[0], _DANGLING_AFTER_CUT).rstrip(",;:-–— ")
    return _without_dangling(text, _DANGLING).rstrip(",;:-–— ")


def _without_dangling(text: str, dangling: frozenset[str]) -> str:
    """``text`` without the words at its end that need a word after them (the first stays).

    >>> _without_dangling("Planning a garden is", _DANGLING_AFTER_CUT), _without_dangling("The", _DANGLING)
    ('Planning a garden', 'The')
    """
    words = text.split()
    while len(words) > 1 and _last_word(words[-1]) in dangling:
        words.pop()
    return " ".join(words)


def _unbracketed(text: str) -> str:
    """``text`` without the ``<<...>>`` (closed or not) a model may put around a heading, or
    the quotes (a heading cut from a quoted sentence would keep only the opening one).

    >>> _unbracketed("<<Sustainability in Urban Agriculture>>"), _unbracketed("<<Guide to planting")
    ('Sustainability in Urban Agriculture', 'Guide to planting')
    >>> _unbracketed('"Starting a Vegetable Garden'), _unbracketed("“Tea”"), _unbracketed("Rock 'n' roll")
    ('Starting a Vegetable Garden', 'Tea', "Rock 'n' roll")
    """
    return _BRACKETS.sub("", text)


_ANSWER_OPENING = re.compile(
    r"^\W*(?:here(?:'s|’s|\s+is|\s+are)|below\s+is|let\s+me|i\s+will|i'll|i\s+am\s+going\s+to|sure|certainly|okay"
    r"|this\s+is\s+(?:a|an|the|my|our)\s)\b"
    r"|\{\{|\{#",
    re.IGNORECASE,
)


def talks(heading: str) -> bool:
    """Whether a heading talks about the writing instead of naming its subject: a line of
    talk (``talk_kind``: a label, a file name, the task restated), one that opens like an
    answer to the asker, or a template's placeholder.

    >>> [talks(h) for h in ["Here's a practical guide to tides", "This is a practical guide for starting",
    ...                     "{{#8.section}}", "tides_how_they_work.json", "Spring tides", "Here and there"]]
    [True, True, True, True, False, False]
    """
    return bool(_ANSWER_OPENING.search(heading) or talk_kind(heading))


def title_from_point(point: str, max_words: int = 8) -> str:
    """A heading from a main point: its first clause, at most ``max_words`` words.

    A label the model put in front of the point is not part of the heading.

    >>> title_from_point("Getting there: flights, trains and the long bus rides in between.")
    'Getting there'
    >>> title_from_point("Title 2: Planning a vegetable garden, from soil to seeds.")
    'Planning a vegetable garden'

    A heading cut at ``max_words`` does not end on a word that needs one after it, and the
    ``<<...>>`` a model puts around a heading is not part of it:

    >>> title_from_point("<<Planning and creating a sustainable living garden is something>>")
    'Planning and creating a sustainable living garden'
    """
    point = _unbracketed(strip_labels(point) or point)
    clause = re.split(r"[:;.,，。；：!?！？]", point, maxsplit=1)[0].strip()
    words = clause.split()
    if len(words) > max_words:
        clause = _without_dangling(" ".join(words[:max_words]), _DANGLING_AFTER_CUT)
    return _unbracketed(_at_most(clause or point, 60))


def _at_most(text: str, chars: int) -> str:
    """``text`` cut to at most ``chars`` characters at a word's end (and on no dangling word).

    >>> _at_most("Festinagion's Elytus Farm is committed to providing innovative", 60)
    "Festinagion's Elytus Farm is committed to providing"
    >>> _at_most("Tea", 60), _at_most("Supercalifragilistic", 5)
    ('Tea', 'Super')
    """
    if len(text) <= chars:
        return text
    cut = text[: text.rfind(" ", 0, chars + 1)] if " " in text[: chars + 1] else text[:chars]
    return _without_dangling(cut, _DANGLING_AFTER_CUT)


_ZH_GENRE = "(?:短文|文章|散文|科普文章|报道|方案|策划方案|故事|报告|指南|信)"
_TASK_PARTS = (
    re.compile(r"^\W*(?:please\s+)?(?:write|compose|draft)\s+(?:me\s+)?(?:an?\s+|the\s+)?", re.IGNORECASE),
    re.compile(r"\(\s*(?:about|around|roughly)?\s*\d[\d,]*\s*words?\s*\)", re.IGNORECASE),
    re.compile(r"\b\d[\d,]*\s*-?\s*words?\b", re.IGNORECASE),
    re.compile(r"^\W*请?(?:写|撰写|创作|编写)(?:一|两)?[篇份个段封]?"),
    re.compile(r"(?:约|大约)?\d+\s*字(?:左右)?的?"),
    re.compile(rf"(?:^\s*|(?<=[:：] )|(?<=[:：])){_ZH_GENRE}?(?:[，,]\s*)?(?:介绍|描写|讲述|说明)?"),
)
_SPACE_IN_CJK = re.compile(r"(?<=[\u4e00-\u9fff，。、]) (?=[\u4e00-\u9fff])")


def title_without_task(title: str) -> str:
    """A title that restates the task ("Write a 1500-word guide to...", "写一篇800字的散文，
    描写...") without the directions and the length; "" when nothing else is left or what is
    left still talks about the writing (``talks``).

    >>> title_without_task("Write a 1500-word guide for a neighbourhood group starting a garden")
    'Guide for a neighbourhood group starting a garden'
    >>> title_without_task("Growing Vegetables (about 2000 words)")
    'Growing Vegetables'
    >>> title_without_task("写一篇800字的散文，描写秋天清晨的北京胡同。")
    '秋天清晨的北京胡同'
    >>> title_without_task("Tiny Tasty: 500字的短文，介绍如何在阳台上用花盆种植薄荷。")
    'Tiny Tasty: 如何在阳台上用花盆种植薄荷'
    >>> title_without_task("写一篇1500字的科普文章"), title_without_task("section1")
    ('', '')
    """
    rest = title
    for part in _TASK_PARTS:
        rest = " ".join(part.sub(" ", rest).split())
    rest = _SPACE_IN_CJK.sub("", rest).strip(" ,，.。:：;；-–—")
    if not TOKEN.search(rest) or talks(rest):
        return ""
    return rest[:1].upper() + rest[1:]
