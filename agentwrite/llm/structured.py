"""Structured answers: JSON out of a model's text, and asking again until one is usable.

Models asked for JSON wrap it in code fences, put sentences around it, or stop halfway.
The planner, the sketcher, the instruction generator and the judge all read their
answers through ``json_object`` (the answer's object), ``json_model`` (that object
validated as a pydantic model) or ``json_objects`` (every object in it, for answers that
hold several candidates), and all ask through ``ask_until_valid``, which feeds an unusable
answer's error back to the model.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from agentwrite.domain import Usage
from agentwrite.errors import AgentwriteError, ServerUnreachable
from agentwrite.llm.base import Completion, Message
from agentwrite.prompts import render

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

ECHO_CHARS = 2000
"""How much of an unusable answer is shown back with its error (a junk answer can fill the window)."""

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


def json_model(text: str, model: type[M]) -> M:
    """The answer's JSON object (``json_object``) validated as ``model``; ``NoJsonObject``
    names the first place it does not match.

    >>> from pydantic import BaseModel
    >>> class Pet(BaseModel):
    ...     name: str
    ...     legs: int
    >>> json_model('```json\\n{"name": "Rex", "legs": 4}\\n```', Pet).legs
    4
    >>> json_model('{"name": "Rex", "legs": "four"}', Pet)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    agentwrite.llm.structured.NoJsonObject: the answer does not match the schema at legs: Input should be ...
    """
    try:
        return model.model_validate(json_object(text))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top"
        raise NoJsonObject(f"the answer does not match the schema at {where}: {first['msg']}") from None


Ask = Callable[[list[Message], int], Awaitable[Completion]]
"""Sends one request: the conversation so far and the attempt's number (from 1)."""


@dataclass(frozen=True)
class Answered(Generic[T]):
    """A usable answer: its parsed ``value``, the ``text`` it came from, the ``usage`` of
    every attempt together and how many ``attempts`` it took."""

    value: T
    text: str
    usage: Usage
    attempts: int


class NoValidAnswer(AgentwriteError):
    """No attempt gave a usable answer; ``problems`` holds what went wrong with each, in
    order (parse errors and request errors alike); ``usage`` is what the attempts used."""

    def __init__(self, what: str, problems: list[Exception], usage: Usage) -> None:
        super().__init__(f"no usable {what} after {len(problems)} attempts; last problem: {problems[-1]}")
        self.what = what
        self.problems = problems
        self.usage = usage


def _answer_again(error: str) -> str:
    return render("answer_retry", error=error)


async def ask_until_valid(
    ask: Ask,
    messages: list[Message],
    parse: Callable[[str], T],
    *,
    attempts: int,
    what: str,
    invalid: tuple[type[Exception], ...] = (ValueError,),
    failed_requests: tuple[type[Exception], ...] = (),
    answer_again: Callable[[str], str] = _answer_again,
    fresh: Callable[[list[Exception]], bool] = lambda problems: False,
) -> Answered[T]:
    """Ask, parse, and when the answer is unusable ask again with the error fed back: the
    first messages, the answer (its first ``ECHO_CHARS`` characters) and
    ``answer_again(error)``; or, when ``fresh`` says so of the problems so far, the first
    messages alone, for a new sample (a small model shown its answer copies it word for
    word, however the error is put). At most ``attempts`` requests.

    ``parse`` raises one of ``invalid`` for an unusable answer. A request that raises one of
    ``failed_requests`` counts as an attempt too (asked again as it was); any other error,
    and ``ServerUnreachable`` always, propagates at once. After the last attempt
    ``NoValidAnswer`` lists every problem.

    >>> import asyncio
    >>> from agentwrite.domain import Usage
    >>> answers = iter(["sure!", '{"n": 2}'])
    >>> async def ask(messages, attempt):
    ...     return Completion(next(answers), "stop", Usage(requests=1))
    >>> got = asyncio.run(ask_until_valid(ask, [], lambda t: json_object(t)["n"], attempts=3, what="count"))
    >>> got.value, got.attempts, got.usage.requests
    (2, 2, 2)
    """
    problems: list[Exception] = []
    usage = Usage()
    conversation = messages
    for attempt in range(1, attempts + 1):
        try:
            completion = await ask(conversation, attempt)
        except ServerUnreachable:
            raise
        except failed_requests as exc:
            problems.append(exc)
            log.info("%s attempt %d of %d failed: %s", what, attempt, attempts, exc)
            continue
        usage = usage + completion.usage
        try:
            return Answered(parse(completion.text), completion.text, usage, attempt)
        except invalid as exc:
            problems.append(exc)
            log.warning("%s attempt %d of %d unusable: %s", what, attempt, attempts, exc)
            conversation = (
                messages
                if fresh(problems)
                else [
                    *messages,
                    {"role": "assistant", "content": completion.text[:ECHO_CHARS]},
                    {"role": "user", "content": answer_again(str(exc))},
                ]
            )
    raise NoValidAnswer(what, problems or [AgentwriteError("no attempt was made")], usage)
