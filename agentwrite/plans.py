"""Plans from model output: JSON or AgentWrite's line format, then budgets normalised.

Two formats are accepted. JSON that matches ``Plan`` (what structured output returns):

    {"title": "...", "sections": [{"title": "...", "main_point": "...", "target_words": 400}]}

and the line format of AgentWrite's planning step (for servers without structured output):

    Paragraph 1 - Main Point: Why Yunnan... - Word Count: 400 words
"""

from __future__ import annotations

import json
import math
import re
from typing import Literal

from pydantic import ValidationError

from agentwrite.domain import (
    ASKED_PLAN_TITLE_CHARS,
    ASKED_SECTION_TITLE_CHARS,
    MAX_SECTIONS,
    Plan,
    SectionPlan,
)
from agentwrite.errors import InputError, PlanError
from agentwrite.llm.structured import NoJsonObject, json_object
from agentwrite.text_stats import split_sentences
from agentwrite.writing.talk import talk_kind

_LINE = re.compile(
    r"^\W*(?:paragraph|section|part|段落|第)\s*(\d+)\s*(?:段|部分|节)?\s*[-–—:：.]\s*"
    r"(?:main\s*point|主要内容|要点)\s*[:：]\s*(?P<point>.+?)\s*[-–—]+\s*"
    r"(?:word\s*count|字数)\s*[:：]\s*(?P<words>[\d,，]+)\s*(?:words?|字)?"
    r"(?:\W*?(?:sources?|materials?|来源|资料)\s*[:：]\s*(?P<sources>.*?))?\W*$",
    re.IGNORECASE,
)
_TITLE_LINE = re.compile(r"^\s*(?:#+\s*)?(?:title|标题)\s*[:：]\s*(.+?)\s*$", re.IGNORECASE)


def parse_plan_json(text: str) -> Plan:
    """Parse a plan from JSON, tolerating code fences and text around the object.

    >>> p = parse_plan_json('Sure! ```json\\n{"title": "Tea", "sections": '
    ...     '[{"title": "Origins", "main_point": "Where tea began", "target_words": 300}]}```')
    >>> p.title, p.sections[0].target_words
    ('Tea', 300)
    """
    try:
        return _validate(json_object(text))
    except NoJsonObject as exc:
        raise PlanError(f"the plan is {exc}") from None


_SECTIONS_KEY = re.compile(r'"sections"\s*:\s*\[')
_TITLE_KEY = re.compile(r'"title"\s*:\s*("(?:[^"\\]|\\.)*")')
_BETWEEN_ITEMS = re.compile(r"[\s,]*")
_JSON = json.JSONDecoder()


def whole_sections(text: str) -> Plan | None:
    """The plan a JSON answer cut off part-way holds: its title and the sections it gave
    whole, before the one it stopped in (a planner out of tokens, most often in a field that
    ran on); None when not even one section is whole.

    >>> cut = ('```json\\n{"title": "Tides", "sections": [{"title": "The Moon", "main_point": '
    ...        '"How the Moon pulls", "target_words": 400}, {"title": "Springs", "main_point": '
    ...        '"Spring tides come when the Sun and the Moon line up and then they line up and')
    >>> plan = whole_sections(cut)
    >>> plan.title, [s.title for s in plan.sections]
    ('Tides', ['The Moon'])
    >>> whole_sections('{"title": "Tides", "sections": [{"title": "The Mo') is None
    True
    """
    start = text.find("{")
    key = _SECTIONS_KEY.search(text, max(start, 0))
    title = _TITLE_KEY.search(text, start, key.start()) if start >= 0 and key else None
    if key is None or title is None:
        return None
    sections, at = [], key.end()
    while (at := _BETWEEN_ITEMS.match(text, at).end()) < len(text) and text[at] == "{":
        try:
            section, at = _JSON.raw_decode(text, at)
        except json.JSONDecodeError:
            break
        sections.append(section)
    try:
        return Plan.model_validate({"title": json.loads(title.group(1)), "sections": sections})
    except ValidationError:
        return None


def parse_plan_lines(text: str, title: str) -> Plan:
    """Parse AgentWrite's ``Paragraph N - Main Point: ... - Word Count: N words`` lines.

    Section titles are taken from the main point; ``title`` is used unless a
    ``Title: ...`` line gives one.

    >>> p = parse_plan_lines("Paragraph 1 - Main Point: The old tea road. - Word Count: 400 words\\n"
    ...                      "Paragraph 2 - Main Point: Pu'er today. - Word Count: 1,200 words", "Tea")
    >>> [(s.title, s.target_words) for s in p.sections]
    [('The old tea road', 400), ("Pu'er today", 1200)]

    A line may end with the ids of the user's material the section draws on:

    >>> parse_plan_lines("Paragraph 1 - Main Point: Tea. - Word Count: 400 words - Sources: n#1, n#3",
    ...                  "Tea").sections[0].sources
    ['n#1', 'n#3']
    """
    sections = []
    for line in text.splitlines():
        if found := _TITLE_LINE.match(line):
            title = found.group(1)
            continue
        if match := _LINE.match(line.strip()):
            point = match.group("point").strip()
            words = int(re.sub("[,，]", "", match.group("words")))
            section = {"title": _title_from_point(point), "main_point": point, "target_words": words}
            if match.group("sources"):
                section["sources"] = match.group("sources")
            sections.append(section)
    if not sections:
        raise PlanError("no 'Paragraph N - Main Point: ... - Word Count: N words' lines found")
    return _validate({"title": title, "sections": sections})


def parse_plan(text: str, title: str) -> Plan:
    """JSON first, then the line format; PlanError says why both failed."""
    return parse_plan_with_format(text, title)[0]


def parse_plan_with_format(text: str, title: str) -> tuple[Plan, Literal["json", "lines"]]:
    """``parse_plan``, also saying which format the plan came in (in the line format the
    section titles are derived from the main points, not written by the model).

    >>> parse_plan_with_format("Paragraph 1 - Main Point: Tea. - Word Count: 300 words", "T")[1]
    'lines'
    """
    try:
        return parse_plan_json(text), "json"
    except PlanError as json_error:
        try:
            return parse_plan_lines(text, title), "lines"
        except PlanError:
            raise json_error from None


def _title_from_point(point: str, max_words: int = 8) -> str:
    """A heading from a main point: its first clause, at most ``max_words`` words.

    A label the model put in front of the point is not part of the heading.

    >>> _title_from_point("Getting there: flights, trains and the long bus rides in between.")
    'Getting there'
    >>> _title_from_point("Title 2: Planning a vegetable garden, from soil to seeds.")
    'Planning a vegetable garden'

    A heading cut at ``max_words`` does not end on a word that needs one after it, and the
    ``<<...>>`` a model puts around a heading is not part of it:

    >>> _title_from_point("<<Planning and creating a sustainable living garden is something>>")
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


def _validate(data: object) -> Plan:
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "plan"
        raise PlanError(f"the plan does not match the schema at {where}: {first['msg']}") from None


def section_count_bounds(target: int, lo: int, hi: int) -> tuple[int, int]:
    """How many sections a plan for ``target`` words may have, given budget bounds.

    >>> section_count_bounds(10_000, 200, 1000), section_count_bounds(150, 200, 1000)
    ((10, 50), (1, 1))
    """
    fewest = max(1, math.ceil(target / hi))
    most = max(fewest, min(MAX_SECTIONS, target // lo))
    return min(fewest, MAX_SECTIONS), most


def normalise_budgets(budgets: list[int], target: int, lo: int, hi: int) -> list[int]:
    """Scale budgets to add up to ``target``, each within ``[lo, hi]`` where that is possible.

    Bounds that cannot hold for this many sections are widened just enough (a 150-word
    target split in 2 gets 75 each). Rounding keeps the exact sum.

    >>> normalise_budgets([100, 100, 200], 2000, 200, 1000)
    [500, 500, 1000]
    >>> normalise_budgets([1, 1, 10], 1200, 200, 1000)
    [200, 200, 800]
    >>> normalise_budgets([300, 300], 150, 200, 1000)
    [75, 75]
    """
    if not budgets:
        raise ValueError("no budgets to normalise")
    n = len(budgets)
    lo = min(lo, target // n) or 1
    hi = max(hi, math.ceil(target / n))
    weights = [max(b, 1) for b in budgets]

    def clamped(scale: float) -> list[float]:
        return [min(max(w * scale, lo), hi) for w in weights]

    # The clamped total grows with the scale: bisect for the scale that hits the target.
    low, high = 0.0, hi / min(weights)
    for _ in range(100):
        mid = (low + high) / 2
        if sum(clamped(mid)) < target:
            low = mid
        else:
            high = mid
    shares = clamped(high)
    return _round_to_sum(shares, target)


def _round_to_sum(shares: list[float], target: int) -> list[int]:
    """Largest-remainder rounding that keeps the sum.

    >>> _round_to_sum([1.5, 1.5, 1.0], 4)
    [2, 1, 1]
    """
    floors = [math.floor(s) for s in shares]
    short = target - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: shares[i] - floors[i], reverse=True)
    for i in order[: max(short, 0)]:
        floors[i] += 1
    return floors


def with_budgets(plan: Plan, budgets: list[int]) -> Plan:
    """A copy of ``plan`` with new section budgets."""
    sections = [s.model_copy(update={"target_words": b}) for s, b in zip(plan.sections, budgets, strict=True)]
    return plan.model_copy(update={"sections": sections})


def load_plan_file(text: str, source: str) -> Plan:
    """Read a user-supplied plan (JSON), with a one-line InputError naming the file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"plan file {source} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    try:
        return _validate(data)
    except PlanError as exc:
        raise InputError(f"plan file {source}: {exc}") from None


def render_outline(plan: Plan) -> str:
    """The plan as section prompts show it: the title, then each section's title and main
    point, without word counts (a small model copies "(about 300 words)" into its text).

    >>> from agentwrite.domain import SectionPlan
    >>> print(render_outline(Plan(title="Tea", sections=[SectionPlan(title="Origins",
    ...     main_point="Where tea began.", target_words=300)])))
    Tea
    1. Origins: Where tea began.
    """
    lines = [plan.title]
    lines += [f"{i}. {s.title}: {s.main_point}" for i, s in enumerate(plan.sections, start=1)]
    return "\n".join(lines)


def render_plan(plan: Plan) -> str:
    """The plan as numbered lines, as prompts show it to the model.

    >>> from agentwrite.domain import SectionPlan
    >>> print(render_plan(Plan(title="Tea", sections=[SectionPlan(title="Origins",
    ...     main_point="Where tea began.", target_words=300)])))
    Title: Tea
    1. Origins (about 300 words): Where tea began.
    """
    lines = [f"Title: {plan.title}"]
    lines += [
        f"{i}. {s.title} (about {s.target_words} words): {s.main_point}"
        for i, s in enumerate(plan.sections, start=1)
    ]
    return "\n".join(lines)


# --- plan hygiene ----------------------------------------------------------------------------
#
# Small models label their headings ("Title 1: ...", "Paragraph 2"), repeat one heading for
# several sections and give main points that only restate the heading. Such a plan parses and
# fits the target, but the writer echoes the labels and writes the same section twice.

_EN_LABEL_WORD = r"(?:title|subtitle|heading|paragraph|section|part|chapter|step|topic|main\s*point)"
_EN_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)"
)
_ZH_NUMBER = r"[\d一二三四五六七八九十百零〇两]+"
_ZH_LABEL_WORD = r"(?:标题|段落|部分|章节|小节|主要内容|要点|主题)"
_LABEL = re.compile(
    r"^(?P<lead>[\s*_#>`\"'“‘\[(]*)"
    r"(?P<label>"
    # "Title 1", "Section 3.2:", "Part #4 The Harvest": a number, then the end, a separator or
    # a capital ("Chapter 11 bankruptcy" and "Section 8 housing" are titles, not labels)
    rf"{_EN_LABEL_WORD}\s*#?\s*\d{{1,3}}(?:\.\d{{1,3}})*"
    r"(?=\s*$|\s*[:：.\-–—)\]*_]|\s+(?-i:[A-Z])|\s+[\u4e00-\u9fff\"“'‘])"
    # "Part One:", "Chapter two -" (a number word needs a separator after it)
    rf"|{_EN_LABEL_WORD}\s+{_EN_NUMBER_WORD}(?=\s*[:：.\-–—)\]*_])"
    # "Title:", "Main point:", "Title - " (no number: a colon or a spaced dash)
    rf"|{_EN_LABEL_WORD}(?=\s*[:：]|\s+[-–—]\s)"
    # "1. Local food", "2) Getting there": an enumeration (the stitcher numbers nothing)
    r"|\d{1,3}[.):](?=\s+\S)"
    # "第3部分", "第二章"
    rf"|第\s*{_ZH_NUMBER}\s*(?:部分|段落|段|章|节|篇|部)"
    # "段落2", "部分 3", "标题："
    rf"|{_ZH_LABEL_WORD}\s*{_ZH_NUMBER}|{_ZH_LABEL_WORD}(?=\s*[:：])"
    r")"
    r"[\s:：.\-–—、，,)）\]]*[*_`]*\s*",
    re.IGNORECASE,
)
_CLOSERS = {"*": "*", "_": "_", "`": "`", '"': '"', "'": "'", "“": "”", "‘": "’"}

_TOKEN = re.compile(r"[\u4e00-\u9fff]|[^\W_\u4e00-\u9fff]+(?:[-'’][^\W_\u4e00-\u9fff]+)*")
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
MAX_PROBLEMS_SHOWN = 10
"""How many problems one hygiene error names (the rest are counted)."""


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
_ELLIPSIS = re.compile(r"\s*(?:\.{2,}|…)\s*$")
_SUBTITLE_BREAK = re.compile(r":|\s[-–—|]\s|\.\s")
_BRACKETS = re.compile(r"^[\s\"“”'‘’]*(?:<<)?[\s\"“”'‘’]*|[\s\"“”'‘’]*(?:>>)?[\s\"“”'‘’]*$")


def _last_word(text: str) -> str:
    words = _TOKEN.findall(text.lower())
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
        return bool(_TOKEN.search(stripped))
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
    if breaks and _TOKEN.search(head := text[: breaks[-1].start()]):
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
    r"^\W*(?:here(?:'s|’s|\s+is|\s+are)|below\s+is|let\s+me|i\s+will|i'll|i\s+am\s+going\s+to|sure|certainly|okay)\b"
    r"|\{\{|\{#",
    re.IGNORECASE,
)


def talks(heading: str) -> bool:
    """Whether a heading talks about the writing instead of naming its subject: a line of
    talk (``talk_kind``: a label, a file name, the task restated), one that opens like an
    answer to the asker, or a template's placeholder.

    >>> [talks(h) for h in ["Here's a practical guide to tides", "Let me finish up the guide",
    ...                     "{{#8.section}}", "tides_how_they_work.json", "Spring tides", "Here and there"]]
    [True, True, True, True, False, False]
    """
    return bool(_ANSWER_OPENING.search(heading) or talk_kind(heading))


def label_of(text: str) -> str:
    """The label at the start of a title or main point, or ``""`` when there is none.

    A label is a label word (title, paragraph, section, part, chapter, heading, topic, main
    point, or 标题, 段落, 部分, 第N章...) at the very start, followed by a number or a colon.
    Markdown around it does not hide it. Ordinary titles that begin with such a word do not
    count.

    >>> label_of("Title 1: Starting a Vegetable Garden"), label_of("**Section 3 -** Soil")
    ('Title 1', 'Section 3')
    >>> label_of("Paragraph 2"), label_of("第3部分：昆明"), label_of("段落2 大理"), label_of("Title: Tea")
    ('Paragraph 2', '第3部分', '段落2', 'Title')
    >>> label_of("Part of the problem"), label_of("Chapter and verse"), label_of("Chapter 11 bankruptcy")
    ('', '', '')
    """
    found = _LABEL.match(text)
    return found.group("label").strip() if found else ""


def strip_labels(text: str) -> str:
    """``text`` without the labels at its start (and markdown left unbalanced by removing them).

    >>> strip_labels("**Title 1:** Starting a Vegetable Garden")
    'Starting a Vegetable Garden'
    >>> strip_labels("Paragraph 1 - Main Point: The soil."), strip_labels("Title 2:")
    ('The soil.', '')
    >>> strip_labels("Chapter and verse")
    'Chapter and verse'
    """
    stripped = text
    for _ in range(4):  # "Paragraph 1 - Main Point: ..." carries two
        found = _LABEL.match(stripped)
        if not found:
            break
        stripped = stripped[found.end() :]
        for opener in found.group("lead"):
            closer = _CLOSERS.get(opener)
            if closer and stripped.endswith(closer):
                stripped = stripped.rstrip(closer).rstrip()
    return stripped.strip()


def _tokens(text: str) -> list[str]:
    """Content words of a title or main point, labels stripped: lowercased word runs (with
    inner hyphens and apostrophes) and single CJK characters, without stopwords.

    >>> _tokens("Title 3: Planning the Vegetable Garden..."), _tokens("昆明的春天")
    (['planning', 'vegetable', 'garden'], ['昆', '明', '春', '天'])
    """
    return [t for t in _TOKEN.findall(strip_labels(text).lower()) if t not in _STOPWORDS]


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
    ta, tb = _tokens(a), _tokens(b)
    sa, sb = set(ta), set(tb)
    if not sa or not sb:
        return False
    if len(sa & sb) / len(sa | sb) >= NEAR_JACCARD:
        return True
    short, long = sorted((ta, tb), key=len)
    return len(short) >= NEAR_PREFIX_TOKENS and long[: len(short)] == short


def _restates(point: str, title: str) -> bool:
    """Whether a main point says nothing its title does not: none of its content words is
    new (it may be the title again, the title behind a label, or a piece of the title).

    >>> _restates("Title 2: Planning a garden.", "Planning a Garden")
    True
    >>> _restates("How to plan the beds and choose seeds.", "Planning a garden")
    False
    """
    return set(_tokens(point)) <= set(_tokens(title))


def looping_word(text: str) -> str | None:
    """The word a title or main point keeps repeating (a model looping inside a field): one
    word of at least three letters that makes up half of four or more words, three times or
    more. None for ordinary text.

    >>> looping_word("Planning. Planning. Planning. Planning. 1. Planning."), looping_word("Tea and tea")
    ('planning', None)
    >>> looping_word("Water, water everywhere: the water butts and the water rota")
    """
    words = [w for w in _TOKEN.findall(text.lower()) if len(w) >= 3]
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
        words = [w for w in _TOKEN.findall(sentence.lower()) if not w.isdigit()]
        key = tuple(w for i, w in enumerate(words) if i == 0 or w != words[i - 1])  # "a.a" is "a"
        if key:
            kept.setdefault(key, sentence.strip())
    return " ".join(kept.values()) or text


def plan_problems(plan: Plan, *, titles_from_points: bool = False) -> list[str]:
    """What makes a plan untidy, one short sentence each, fit to feed back to the model.

    - a title (the document's or a section's) or a main point that starts with a label
      (``label_of``): "Title 1:", "Paragraph 2", "Section 3 -", "第3部分：";
    - a main point that is empty once its label is gone, or that only restates its title
      (``_restates``);
    - a section whose title repeats or nearly repeats an earlier section's (``near_repeat``),
      or the document's title (in a plan of more than one section);
    - a title that stops mid-phrase (``cut_off``): "Guide to Planning and Creating a";
    - a title or main point that keeps repeating one word (``looping_word``);
    - a title that talks about the writing instead of naming a subject (``talks``): "Here's
      a practical guide...", "{{#8.section}}", a file name.

    With ``titles_from_points`` (the line format, where each heading is cut from the start of
    its main point) a main point is not held to differ from its title, and a repeated
    heading is put to the model as a main point that begins like another.

    >>> plan = Plan(title="Title: Gardens", sections=[
    ...     SectionPlan(title="Title 1: Starting a garden", main_point="Title 1: Starting a garden.",
    ...                 target_words=300),
    ...     SectionPlan(title="Starting a Garden", main_point="Choosing the spot and the soil.",
    ...                 target_words=300)])
    >>> for problem in plan_problems(plan):
    ...     print(problem)
    the document title starts with a label ("Title"); give the title alone
    section 1's title starts with a label ("Title 1"); give the heading alone
    section 1's main point starts with a label ("Title 1"); give the point alone
    section 1's main point only restates its title; say what the section covers
    sections 1 and 2 have the same title ("Starting a Garden"); give each section its own subject
    >>> plan_problems(Plan(title="Gardens", sections=[SectionPlan(title="Part of the problem",
    ...     main_point="Why beds fail.", target_words=300)]))
    []
    """
    problems = []
    if label := label_of(plan.title):
        problems.append(f'the document title starts with a label ("{label}"); give the title alone')
    elif talks(plan.title):
        problems.append(
            f'the document title talks about the writing ("{plan.title.strip()[:80]}"); give the title alone'
        )
    if word := looping_word(plan.title):
        problems.append(f'the document title repeats "{word}" over and over; give a short title')
    if cut_off(plan.title, ASKED_PLAN_TITLE_CHARS):
        problems.append(
            f'the document title stops mid-phrase ("{plan.title.strip()[:80]}"); give a whole title'
        )
    for number, section in enumerate(plan.sections, start=1):
        for field, text in (("title", section.title), ("main point", section.main_point)):
            if word := looping_word(text):
                problems.append(f'section {number}\'s {field} repeats "{word}" over and over; write it once')
        if label := label_of(section.title):
            problems.append(
                f'section {number}\'s title starts with a label ("{label}"); give the heading alone'
            )
        elif talks(section.title):
            problems.append(
                f'section {number}\'s title talks about the writing ("{section.title.strip()[:80]}"); '
                "give a heading that names its subject"
            )
        if cut_off(section.title, ASKED_SECTION_TITLE_CHARS):
            problems.append(
                f'section {number}\'s title stops mid-phrase ("{section.title.strip()[:80]}"); '
                "give a short heading"
            )
        if not _TOKEN.search(strip_labels(section.main_point)):
            problems.append(f"section {number} has no main point, only a label; say what the section covers")
            continue
        if label := label_of(section.main_point):
            problems.append(
                f'section {number}\'s main point starts with a label ("{label}"); give the point alone'
            )
        if not titles_from_points and _restates(section.main_point, section.title):
            problems.append(
                f"section {number}'s main point only restates its title; say what the section covers"
            )
    if not titles_from_points and len(plan.sections) > 1:
        for number, section in enumerate(plan.sections, start=1):
            if near_repeat(section.title, plan.title):
                problems.append(
                    f"section {number}'s title repeats the document's title; give the section its own heading"
                )
    titles = [s.title for s in plan.sections]
    for later, earlier in _repeats(titles):
        same = "the same" if _tokens(titles[later]) == _tokens(titles[earlier]) else "nearly the same"
        quoted = strip_labels(titles[later])[:80]
        if titles_from_points:
            repeat = (
                f'the main points of sections {earlier + 1} and {later + 1} begin in {same} way ("{quoted}")'
            )
        else:
            repeat = f'sections {earlier + 1} and {later + 1} have {same} title ("{quoted}")'
        problems.append(f"{repeat}; give each section its own subject")
    return problems


def _repeats(texts: list[str]) -> list[tuple[int, int]]:
    """``(later, earlier)`` index pairs: each text that nearly repeats an earlier one, with
    the first it repeats.

    >>> _repeats(["Soil", "Seeds", "soil!", "Harvest", "SOIL"])
    [(2, 0), (4, 0)]
    """
    pairs = []
    for later in range(1, len(texts)):
        earlier = next((i for i in range(later) if near_repeat(texts[later], texts[i])), None)
        if earlier is not None:
            pairs.append((later, earlier))
    return pairs


def describe_problems(problems: list[str]) -> str:
    """The problems as one message (the first ``MAX_PROBLEMS_SHOWN`` of them).

    >>> describe_problems(["a", "b"])
    'a; b'
    """
    shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    hidden = len(problems) - MAX_PROBLEMS_SHOWN
    return shown + (f"; and {hidden} more like these" if hidden > 0 else "")


def clean_plan(plan: Plan, *, titles_from_points: bool = False) -> tuple[Plan, list[str]]:
    """The plan with what ``plan_problems`` finds cleaned where that can be done without
    inventing content, and a note on each thing cleaned or left as it was.

    - Labels are stripped from the document title, the section titles and the main points
      (a title that is nothing but a label is cut from its main point instead).
    - A main point that is empty once its label is gone becomes the section's title.
    - A title cut mid-phrase is brought back to its last whole part (``uncut``).
    - Every section title that repeats an earlier one, or the document's title (in a plan
      of more than one section), is replaced by a heading cut from its own main point, when
      that one is new; otherwise it stays.
    - A main point that restates its title stays as it is: nothing better is known.
    - A title or main point that loops (``looping_word``) keeps each of its sentences once.
    - A section title that talks about the writing (``talks``) is replaced by a heading cut
      from its main point, when that one is new and no talk, else by itself without the
      task it restates (``title_without_task``); a document title that is a file name is
      said in words, one that restates the task loses the directions and the length.

    No section is dropped or merged: the section count and the budgets never change.

    ``titles_from_points`` as for ``plan_problems``.

    >>> plan = Plan(title="Title: Gardens", sections=[
    ...     SectionPlan(title="**Title 1:** Soil", main_point="Title 1: Soil", target_words=300),
    ...     SectionPlan(title="Soil", main_point="Seeds: what to sow first.", target_words=500)])
    >>> cleaned, notes = clean_plan(plan)
    >>> cleaned.title, [(s.title, s.main_point, s.target_words) for s in cleaned.sections]
    ('Gardens', [('Soil', 'Soil', 300), ('Seeds', 'Seeds: what to sow first.', 500)])
    >>> for note in notes:
    ...     print(note)
    document title: label "Title" removed
    section 1: label "Title 1" removed from the title
    section 1: label "Title 1" removed from the main point
    section 1: the main point only restates the title; kept
    section 2: the title "Soil" repeated section 1's; replaced by "Seeds", from its main point
    """
    notes: list[str] = []
    plan, notes = _unloop_fields(plan)
    title = plan.title
    if label := label_of(title):
        if stripped := strip_labels(title):
            title = stripped
            notes.append(f'document title: label "{label}" removed')
        else:
            notes.append(f'document title: only a label ("{label}"); kept')
    if words := _file_name_words(title):
        notes.append(f'document title: the file name "{title}" said in words, "{words}"')
        title = words
    if cut_off(title, ASKED_PLAN_TITLE_CHARS):
        whole = uncut(title, ASKED_PLAN_TITLE_CHARS)
        notes.append(f'document title: "{title.strip()}" stopped mid-phrase; "{whole}" kept')
        title = whole
    if talks(title) and (subject := title_without_task(title)):
        notes.append(f'document title: "{title}" restated the task; "{subject}" kept')
        title = subject
    sections: list[SectionPlan] = []
    for number, section in enumerate(plan.sections, start=1):
        heading, point = strip_labels(section.title), strip_labels(section.main_point)
        if not heading and not _TOKEN.search(point):
            notes.append(f"section {number}: the title and the main point are only labels; kept")
            sections.append(section)
            continue
        if heading and (label := label_of(section.title)):
            notes.append(f'section {number}: label "{label}" removed from the title')
        if _TOKEN.search(point) and (label := label_of(section.main_point)):
            notes.append(f'section {number}: label "{label}" removed from the main point')
        if not _TOKEN.search(point):
            point = heading
            notes.append(f"section {number}: no main point beyond a label; the title stands in for it")
        elif not titles_from_points and _restates(point, heading):
            notes.append(f"section {number}: the main point only restates the title; kept")
        if not heading:
            heading = _title_from_point(point)
            notes.append(f'section {number}: the title was only a label; "{heading}" cut from the main point')
        if cut_off(heading, ASKED_SECTION_TITLE_CHARS):
            whole = uncut(heading, ASKED_SECTION_TITLE_CHARS)
            notes.append(f'section {number}: the title "{heading}" stopped mid-phrase; "{whole}" kept')
            heading = whole
        sections.append(section.model_copy(update={"title": heading, "main_point": point}))
    for number, section in enumerate(sections, start=1):
        if label_of(section.title) or not talks(section.title):
            continue
        others = [title, *(s.title for s in sections if s is not section)]
        candidate = _new_heading(section.main_point, [section.title, *others])
        if candidate := candidate or title_without_task(section.title):
            sections[number - 1] = section.model_copy(update={"title": candidate})
            notes.append(
                f'section {number}: the title "{section.title}" talked about the writing; '
                f'replaced by "{candidate}"'
            )
        else:
            notes.append(f'section {number}: the title "{section.title}" talks about the writing; kept')
    against_title = not titles_from_points and len(sections) > 1
    for later, earlier in _repeats(
        [title, *(s.title for s in sections)] if against_title else [s.title for s in sections]
    ):
        if against_title:
            later, earlier = later - 1, earlier - 1  # -1: the document's title
        what = "the document's title" if earlier < 0 else f"section {earlier + 1}'s"
        repeated = sections[later].title
        others = [title] * against_title + [s.title for i, s in enumerate(sections) if i != later]
        candidate = _new_heading(sections[later].main_point, [repeated, *others])
        if candidate:
            sections[later] = sections[later].model_copy(update={"title": candidate})
            notes.append(
                f'section {later + 1}: the title "{repeated}" repeated {what}; '
                f'replaced by "{candidate}", from its main point'
            )
        else:
            notes.append(f'section {later + 1}: the title "{repeated}" repeats {what}; kept')
    return plan.model_copy(update={"title": title, "sections": sections}), notes


_FILE_NAME = re.compile(r"^\s*([\w.-]*[\w][_-][\w.-]*)\.(?:json|md|txt|docx?|pdf|html?)\s*$", re.IGNORECASE)


def _file_name_words(title: str) -> str:
    """A title that is a file name said in words ("" for any other title).

    >>> _file_name_words("tutorial_explainer_on_ocean_tides_how_they_work.json")
    'Tutorial explainer on ocean tides how they work'
    >>> _file_name_words("Ocean tides"), _file_name_words("notes.md")
    ('', '')
    """
    if not (found := _FILE_NAME.match(title)):
        return ""
    words = " ".join(re.split(r"[_\-.]+", found.group(1))).strip()
    return words[:1].upper() + words[1:]


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
    if not _TOKEN.search(rest) or talks(rest):
        return ""
    return rest[:1].upper() + rest[1:]


def _new_heading(point: str, taken: list[str]) -> str:
    """A heading cut from a main point that repeats none of ``taken`` and is no line of talk
    about the writing (``talk_kind``: "What the plan must be", a line of the planner's own
    prompt): its first clause's first 8 words, else its first 16; ``""`` when neither will do.

    >>> _new_heading("Choose the right type of vegetable for your city balcony.",
    ...              ["Choose the right type of vegetable to start"])
    'Choose the right type of vegetable for your city balcony'
    >>> _new_heading("Soil.", ["Soil"]), _new_heading("What the plan must be", [])
    ('', '')
    """
    for max_words in (8, 16):
        candidate = _title_from_point(point, max_words)
        if not talk_kind(candidate) and not any(near_repeat(candidate, other) for other in taken):
            return candidate
    return ""


def _unloop_fields(plan: Plan) -> tuple[Plan, list[str]]:
    """The plan with each looping title and main point (``looping_word``) said once."""
    notes: list[str] = []
    title = plan.title
    if looping_word(title):
        title = unlooped(title).rstrip(".")
        notes.append(f'document title: a repeated phrase said once ("{title}")')
    sections = []
    for number, section in enumerate(plan.sections, start=1):
        fields = {}
        for name, text in (("title", section.title), ("main_point", section.main_point)):
            if looping_word(text):
                fields[name] = unlooped(text).rstrip(".") if name == "title" else unlooped(text)
                notes.append(f"section {number}: a repeated phrase said once in the {name.replace('_', ' ')}")
        sections.append(section.model_copy(update=fields))
    return plan.model_copy(update={"title": title, "sections": sections}), notes


def titles_from_text(plan: Plan, texts: list[str]) -> tuple[Plan, list[str]]:
    """Headings for written sections whose planned title is only a label, repeats an
    earlier one or (after the first section) the document's title: what ``clean_plan`` could
    not mend. The new heading is the opening clause of the section's own
    text (its first letter a capital), where that is new. Returns the plan and a note for
    each heading replaced.

    >>> plan = Plan(title="Gardens", sections=[
    ...     SectionPlan(title="Soil", main_point="Soil.", target_words=300),
    ...     SectionPlan(title="Title 2", main_point="Title 2", target_words=300),
    ...     SectionPlan(title="Soil", main_point="Soil.", target_words=300),
    ...     SectionPlan(title="gardens!", main_point="Gardens.", target_words=300)])
    >>> texts = ["Good soil drains.", "Seeds want warmth, light and water. They sprout.", "Soil again.",
    ...          "planning the beds: where a balcony garden begins."]
    >>> fixed, notes = titles_from_text(plan, texts)
    >>> [s.title for s in fixed.sections], len(notes)
    (['Soil', 'Seeds want warmth', 'Soil again', 'Planning the beds'], 3)
    """
    sections = list(plan.sections)
    notes: list[str] = []
    for i, (section, text) in enumerate(zip(sections, texts, strict=True)):
        earlier = [s.title for s in sections[:i]]
        if i > 0:  # the first section under the document's title is its opening (stitch drops the heading)
            earlier.append(plan.title)
        label_only = not strip_labels(section.title)
        if not label_only and not any(near_repeat(section.title, t) for t in earlier):
            continue
        candidate = _title_from_point(_opening_sentence(text))
        candidate = candidate[:1].upper() + candidate[1:]
        others = [plan.title] + [s.title for j, s in enumerate(sections) if j != i]
        if (
            not _TOKEN.search(candidate)
            or label_of(candidate)
            or talk_kind(candidate)
            or any(near_repeat(candidate, t) for t in others)
        ):
            continue
        sections[i] = section.model_copy(update={"title": candidate})
        notes.append(
            f'section {i + 1}: heading "{candidate}" taken from its text (the plan had "{section.title}")'
        )
    return plan.model_copy(update={"sections": sections}), notes


def _opening_sentence(text: str) -> str:
    """The first line of prose in a section: not a heading, a rule, a fence or a table row,
    and at least two words, with any label stripped.

    >>> _opening_sentence("---\\n\\n### Intro\\n| a | b |\\nNew restaurants open. More come.")
    'New restaurants open.'
    """
    for sentence in split_sentences(text):
        if re.match(r"\s*(?:#|[-*_=~`|]{3}|\|)", sentence):
            continue
        sentence = strip_labels(sentence.strip("*_>•–—- "))
        if len(_TOKEN.findall(sentence)) >= 2:
            return sentence
    return ""
