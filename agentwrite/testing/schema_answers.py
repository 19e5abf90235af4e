"""A valid JSON instance of a JSON schema, built from the schema alone: what a fake model
answers to a request for structured output (as pydantic-ai's ``TestModel`` does).

It reads what pydantic's ``model_json_schema()`` writes:

- ``$ref`` (into ``$defs``), ``allOf`` (merged), ``anyOf``/``oneOf`` and a list of types
  (the first choice that is not ``null``), ``const``, ``enum`` (the values in turn) and
  ``default`` (taken as it is);
- objects: their ``required`` properties (the others are left out, for their defaults);
- arrays: ``items`` (and ``prefixItems``), as many as the caller's ``items`` preference,
  clamped into ``[minItems, maxItems]``; without one, ``minItems`` (0 if unset);
- strings: a few distinct words ("Quiet river mornings"), different for every string of
  one answer, within ``minLength``/``maxLength`` (``pattern`` and ``format`` are not honoured);
- integers and numbers: the lowest allowed (``minimum``, ``exclusiveMinimum``), else 0
  kept under ``maximum``; booleans are true.

The same schema, seed and preference give the same answer. Strings are readable words,
no digits, and no two of one answer have the same words, so a plan built this way
passes ``agentwrite.plans.plan_problems``.

>>> schema = {"type": "object", "required": ["title", "tags", "score"], "properties": {
...     "title": {"type": "string", "maxLength": 40},
...     "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
...     "score": {"type": "integer", "minimum": 1, "maximum": 5},
...     "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}}}
>>> schema_answer(schema)
{'title': 'Quiet river mornings', 'tags': ['Ancient mountain evenings'], 'score': 1}
>>> schema_answer(schema, items=9)["tags"]  # the preference, clamped to maxItems
['Ancient mountain evenings', 'Bright valley seasons', 'Green market festivals']
>>> schema_answer(schema, seed=5)["title"]
'Misty bridge stones'

The planner's schema gets a tidy plan of its fewest sections, the most a plan may have too:

>>> from agentwrite.domain import MAX_SECTIONS, Plan
>>> from agentwrite.graph.nodes.plan import plan_schema
>>> from agentwrite.plans import plan_problems
>>> plans = [Plan.model_validate(schema_answer(plan_schema(n, MAX_SECTIONS))) for n in (3, MAX_SECTIONS)]
>>> [(len(plan.sections), plan_problems(plan)) for plan in plans]
[(3, []), (200, [])]
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

_ADJECTIVES = (
    "quiet", "ancient", "bright", "green", "early", "misty", "golden", "narrow", "wooden",
    "hidden", "gentle", "distant", "steep", "humble", "late",
)  # fmt: skip
_PLACES = (
    "river", "mountain", "valley", "market", "temple", "bridge", "road", "village", "garden",
    "lake", "forest", "city", "harbour", "orchard", "meadow",
)  # fmt: skip
_THINGS = (
    "mornings", "evenings", "seasons", "festivals", "paths", "stones", "lanterns", "travellers",
    "guides", "songs", "stories", "crafts", "harvests", "journeys", "walls",
)  # fmt: skip
_ZH_ADJECTIVES = (
    "安静", "古老", "明亮", "青翠", "清早", "薄雾", "金色", "狭窄", "木造", "隐秘", "温和", "遥远",
    "陡峭", "朴素", "深秋",
)  # fmt: skip
_ZH_PLACES = ("河", "山", "谷", "集", "庙", "桥", "路", "村", "园", "湖", "林", "城", "港", "果", "草")
_ZH_THINGS = (
    "早晨", "傍晚", "季节", "节日", "小径", "石头", "灯笼", "旅人", "向导", "歌谣", "故事", "手艺",
    "收成", "旅程", "城墙",
)  # fmt: skip
PHRASES = len(_ADJECTIVES) * len(_PLACES) * len(_THINGS)
"""How many strings one answer can hold before its phrases come round again."""


def schema_answer(
    schema: dict[str, Any], *, seed: int = 0, items: int | None = None, topic: Sequence[str] = ()
) -> Any:
    """A value that ``schema`` accepts (see the module docstring); ``items`` is the preferred
    length of every array, clamped into the array's bounds; with the words of an instruction
    (``topic``: ``agentwrite.testing.on_topic.instruction_words``), each string names one of
    them, in the instruction's script (``topical``), as a plan that keeps to its brief does.

    >>> schema_answer({"type": "array", "items": {"enum": ["a#1", "a#2"]}, "minItems": 3})
    ['a#1', 'a#2', 'a#1']
    >>> schema_answer({"type": "array", "items": {"type": "string"}, "minItems": 2}, topic=["on", "tide"])
    ['Quiet river tide mornings', 'Ancient mountain tide evenings']
    """
    return _Answer(schema, seed, items, topic).value(schema)


def phrase(n: int, chinese: bool = False) -> str:
    """The ``n``-th string: an adjective, a place and a plural (in Chinese: an adjective, a
    place and a thing), which together differ for every ``n`` below ``PHRASES``, and each
    word from ``n`` to ``n + 1`` changes.

    >>> phrase(0), phrase(1), phrase(15), phrase(PHRASES) == phrase(0), phrase(1, chinese=True)
    ('Quiet river mornings', 'Ancient mountain evenings', 'Quiet mountain mornings', True, '古老的山傍晚')
    """
    size = len(_ADJECTIVES)  # the word lists are all the same length
    n %= PHRASES
    lists = (_ZH_ADJECTIVES, _ZH_PLACES, _ZH_THINGS) if chinese else (_ADJECTIVES, _PLACES, _THINGS)
    picks = (n % size, (n // size + n) % size, (n // size**2 + n) % size)
    adjective, place, thing = (words[i] for words, i in zip(lists, picks, strict=True))
    return f"{adjective}的{place}{thing}" if chinese else f"{adjective} {place} {thing}".capitalize()


def topical(n: int, topic: Sequence[str]) -> str:
    """The ``n``-th string that names the instruction whose words are ``topic``: for a
    Chinese one (single characters), two of its characters (the ``n``-th pair, round and
    round) before a Chinese ``phrase``; else an English ``phrase`` with one of its words but
    "about" before its last (the ``n``-th of those of five letters or more, else of three or
    more; four words in all, short of a sentence that repetition figures count), or the
    phrase alone when it has none.

    >>> topical(0, ["about", "tide"]), topical(1, ["with", "ocean", "tide", "lunar"]), topical(0, ["on"])
    ('Quiet river tide mornings', 'Ancient mountain lunar evenings', 'Quiet river mornings')
    >>> topical(1, ["潮", "汐", "月", "亮"])
    '月亮古老的山傍晚'
    """
    if topic and all(not word.isascii() for word in topic):
        pair = "".join(topic[(2 * n + j) % len(topic)] for j in range(2))
        return pair + phrase(n, chinese=True)
    named = [word for word in topic if word != "about"]  # "about" is the prose's own word (weave)
    words = [w for w in named if len(w) >= 5] or [w for w in named if len(w) >= 3]
    if not words:
        return phrase(n)
    *before, thing = phrase(n).split()
    return " ".join([*before, words[n % len(words)], thing])


class _Answer:
    """One answer's walk through the schema, counting its strings and enum choices."""

    def __init__(self, root: dict[str, Any], seed: int, items: int | None, topic: Sequence[str]) -> None:
        self.root = root
        self.items = items
        self.topic = topic
        self.strings = seed
        self.choices = 0

    def value(self, schema: dict[str, Any]) -> Any:
        schema = self.resolved(schema)
        if "default" in schema:
            return copy.deepcopy(schema["default"])
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            self.choices += 1
            return schema["enum"][(self.choices - 1) % len(schema["enum"])]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [o for o in schema[key] if self.resolved(o).get("type") != "null"]
                return self.value(options[0]) if options else None
        kind = schema.get("type", "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        make: Callable[[dict[str, Any]], Any] | None = getattr(self, f"_{kind}", None)
        if make is None:
            raise ValueError(f"no answer for a schema of type {kind!r}")
        return make(schema)

    def resolved(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` with its ``$ref`` followed and its ``allOf`` merged into it."""
        if "$ref" in schema:
            target: Any = self.root
            for part in schema["$ref"].removeprefix("#").split("/"):
                target = target[part] if part else target
            schema = {**self.resolved(target), **{k: v for k, v in schema.items() if k != "$ref"}}
        if "allOf" in schema:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged = {**self.resolved(part), **merged}
            schema = merged
        return schema

    def _object(self, schema: dict[str, Any]) -> dict[str, Any]:
        properties = schema.get("properties", {})
        return {name: self.value(properties.get(name, {})) for name in schema.get("required", [])}

    def _array(self, schema: dict[str, Any]) -> list[Any]:
        low = schema.get("minItems", 0)
        wanted = low if self.items is None else self.items
        count = min(max(wanted, low), schema.get("maxItems", math.inf))
        prefix = schema.get("prefixItems", [])
        return [self.value(prefix[i] if i < len(prefix) else schema.get("items", {})) for i in range(count)]

    def _string(self, schema: dict[str, Any]) -> str:
        text = topical(self.strings, self.topic)
        self.strings += 1
        while len(text) < schema.get("minLength", 0):
            text += " and " + topical(self.strings, self.topic).lower()
            self.strings += 1
        return _cut(text, schema.get("maxLength"))

    def _integer(self, schema: dict[str, Any]) -> int:
        return math.ceil(_lowest(schema))

    def _number(self, schema: dict[str, Any]) -> float:
        return float(_lowest(schema))

    def _boolean(self, schema: dict[str, Any]) -> bool:
        return True

    def _null(self, schema: dict[str, Any]) -> None:
        return None


def _lowest(schema: dict[str, Any]) -> float:
    """The lowest number ``schema`` allows, else 0 (or its maximum, when that is lower).

    >>> _lowest({"minimum": 2.5}), _lowest({"exclusiveMinimum": 1}), _lowest({"maximum": -3}), _lowest({})
    (2.5, 2, -3, 0)
    """
    if "minimum" in schema:
        return schema["minimum"]
    if "exclusiveMinimum" in schema:
        return schema["exclusiveMinimum"] + 1
    return min(0, schema.get("maximum", schema.get("exclusiveMaximum", 1) - 1))


def _cut(text: str, limit: int | None) -> str:
    """``text`` cut to at most ``limit`` characters, at a word's end where one fits.

    >>> _cut("Quiet river mornings", 12), _cut("Quiet river mornings", 3), _cut("Tea", None)
    ('Quiet river', 'Qui', 'Tea')
    """
    if limit is None or len(text) <= limit:
        return text
    return text[: text.rfind(" ", 0, limit + 1)] if " " in text[: limit + 1] else text[:limit]
