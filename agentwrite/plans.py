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

from pydantic import ValidationError

from agentwrite.domain import MAX_SECTIONS, Plan
from agentwrite.errors import InputError, PlanError

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_LINE = re.compile(
    r"^\W*(?:paragraph|section|part|段落|第)\s*(\d+)\s*(?:段|部分|节)?\s*[-–—:：.]\s*"
    r"(?:main\s*point|主要内容|要点)\s*[:：]\s*(?P<point>.+?)\s*[-–—]+\s*"
    r"(?:word\s*count|字数)\s*[:：]\s*(?P<words>[\d,，]+)\s*(?:words?|字)?\W*$",
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
    candidate = text.strip()
    fenced = _FENCE.search(candidate)
    if fenced:
        candidate = fenced.group(1).strip()
    start, end = candidate.find("{"), candidate.rfind("}")
    if start < 0 or end < start:
        raise PlanError("the plan is not a JSON object")
    try:
        data = json.loads(candidate[start : end + 1])
    except json.JSONDecodeError as exc:
        raise PlanError(f"the plan is not valid JSON: {exc.msg} at character {exc.pos}") from None
    return _validate(data)


def parse_plan_lines(text: str, title: str) -> Plan:
    """Parse AgentWrite's ``Paragraph N - Main Point: ... - Word Count: N words`` lines.

    Section titles are taken from the main point; ``title`` is used unless a
    ``Title: ...`` line gives one.

    >>> p = parse_plan_lines("Paragraph 1 - Main Point: The old tea road. - Word Count: 400 words\\n"
    ...                      "Paragraph 2 - Main Point: Pu'er today. - Word Count: 1,200 words", "Tea")
    >>> [(s.title, s.target_words) for s in p.sections]
    [('The old tea road', 400), ("Pu'er today", 1200)]
    """
    sections = []
    for line in text.splitlines():
        if found := _TITLE_LINE.match(line):
            title = found.group(1)
            continue
        if match := _LINE.match(line.strip()):
            point = match.group("point").strip()
            words = int(re.sub("[,，]", "", match.group("words")))
            sections.append({"title": _title_from_point(point), "main_point": point, "target_words": words})
    if not sections:
        raise PlanError("no 'Paragraph N - Main Point: ... - Word Count: N words' lines found")
    return _validate({"title": title, "sections": sections})


def parse_plan(text: str, title: str) -> Plan:
    """JSON first, then the line format; PlanError says why both failed."""
    try:
        return parse_plan_json(text)
    except PlanError as json_error:
        try:
            return parse_plan_lines(text, title)
        except PlanError:
            raise json_error from None


def _title_from_point(point: str, max_words: int = 8) -> str:
    """A heading from a main point: its first clause, at most ``max_words`` words.

    >>> _title_from_point("Getting there: flights, trains and the long bus rides in between.")
    'Getting there'
    """
    clause = re.split(r"[:;.,，。；：!?！？]", point, maxsplit=1)[0].strip()
    words = clause.split()
    if len(words) > max_words:
        clause = " ".join(words[:max_words])
    return clause[:60] if clause else point[:60]


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
