"""JSON out of a model's answer: the one place that finds objects in free text.

Models asked for JSON wrap it in code fences, put sentences around it, or stop halfway.
The planner, the sketcher, the instruction generator and the judge all read their
answers through ``json_object`` (the answer's object) or ``json_objects`` (every object in
it, for answers that hold several candidates).
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()


class NoJsonObject(ValueError):
    """The answer holds no usable JSON object; the message says why, for the model to read."""


def unfenced(text: str) -> str:
    """The inside of the first code fence, or the whole text when there is none."""
    fenced = _FENCE.search(text)
    return (fenced.group(1) if fenced else text).strip()


def json_object(text: str) -> dict[str, Any]:
    """The JSON object an answer gives: the first one in its first code fence, else the
    first one in the text. ``NoJsonObject`` says why there is none.

    >>> json_object('Sure! ```json\\n{"title": "Tea"}\\n``` Anything else?')
    {'title': 'Tea'}
    >>> json_object('Here: {"a": 1} and {"b": 2}')
    {'a': 1}
    >>> json_object('{"title": "T", "sections": [}')
    Traceback (most recent call last):
    agentwrite.llm.structured.NoJsonObject: not valid JSON: Expecting value at character 28
    """
    candidate = unfenced(text)
    start = candidate.find("{")
    if start < 0:
        raise NoJsonObject("not a JSON object")
    try:
        value, _ = _DECODER.raw_decode(candidate, start)
    except json.JSONDecodeError as exc:
        raise NoJsonObject(f"not valid JSON: {exc.msg} at character {exc.pos - start}") from None
    return value  # a "{" can only start an object


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object that starts somewhere in ``text``, in order (an object's nested
    objects follow it).

    >>> json_objects('first {"a": {"b": 1}} then {"c": 2} and {broken')
    [{'a': {'b': 1}}, {'b': 1}, {'c': 2}]
    """
    found = []
    for match in re.finditer(r"\{", text):
        try:
            value, _ = _DECODER.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        found.append(value)
    return found
