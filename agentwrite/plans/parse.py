"""Plans from model output: JSON or AgentWrite's line format, checked against ``Plan``.

Two formats are accepted. JSON that matches ``Plan`` (what structured output returns):

    {"title": "...", "sections": [{"title": "...", "main_point": "...", "target_words": 400}]}

and the line format of AgentWrite's planning step (for servers without structured output):

    Paragraph 1 - Main Point: Why Yunnan... - Word Count: 400 words

A plan file the user supplies is read here too (``load_plan_file``).
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import ValidationError

from agentwrite.domain import Plan
from agentwrite.errors import InputError, PlanError
from agentwrite.llm.structured import NoJsonObject, json_object
from agentwrite.plans.titles import title_from_point

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
    while True:
        gap = _BETWEEN_ITEMS.match(text, at)  # always matches ("[\s,]*")
        at = gap.end() if gap else at
        if at >= len(text) or text[at] != "{":
            break
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
            section = {"title": title_from_point(point), "main_point": point, "target_words": words}
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


def _validate(data: object) -> Plan:
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "plan"
        raise PlanError(f"the plan does not match the schema at {where}: {first['msg']}") from None


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
