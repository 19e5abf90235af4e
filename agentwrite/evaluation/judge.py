"""An LLM judge: six 1-5 ratings of a response, parsed strictly, with bounded retries.

The judge's answer must hold a JSON object with every dimension of
``agentwrite.evaluation.longbench.DIMENSIONS`` as an integer from 1 to 5. Code fences and text
around the object are tolerated; a missing dimension or a rating outside 1-5 is rejected,
never clipped or filled in. A response too long for the judge is cut in the middle and the
rating records that it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agentwrite.errors import AgentwriteError, ModelError, ModelRequestError
from agentwrite.evaluation.longbench import DIMENSIONS
from agentwrite.llm.base import ChatModel, Completion, GenerationParams, Message
from agentwrite.llm.context_window import output_room
from agentwrite.llm.decoding import ROLE_DEFAULTS, Decoding
from agentwrite.llm.structured import NoValidAnswer, ask_until_valid, json_objects
from agentwrite.prompts import render

DEFAULT_ATTEMPTS = 3
DEFAULT_MAX_RESPONSE_CHARS = 60_000
"""Characters of a response shown to the judge; longer ones are cut in the middle."""
JUDGE_MAX_TOKENS = 400
"""Room for the judge's answer (six ratings as JSON need about 60 tokens)."""


class JudgeError(AgentwriteError):
    """The judge gave no usable rating within its attempts."""


class Ratings(BaseModel):
    """The judge's six ratings. The field descriptions double as the structured-output schema."""

    model_config = ConfigDict(extra="forbid")

    relevance: int = Field(ge=1, le=5, description="Does it do what the instruction asks?")
    accuracy: int = Field(ge=1, le=5, description="Are facts and reasoning correct?")
    coherence: int = Field(ge=1, le=5, description="Does it hold together without repetition?")
    clarity: int = Field(ge=1, le=5, description="Is the language clear and precise?")
    breadth_and_depth: int = Field(ge=1, le=5, description="Does it cover the subject fully and deeply?")
    reading_experience: int = Field(ge=1, le=5, description="Is it engaging to read?")


RATINGS_SCHEMA: dict[str, Any] = Ratings.model_json_schema()


@dataclass(frozen=True)
class Judgement:
    """Ratings of one response and how they were obtained."""

    ratings: dict[str, int]
    attempts: int
    truncated: bool
    raw: str


def _key(name: str) -> str:
    return re.sub(r"[^a-z]+", "_", name.lower()).strip("_")


_CANONICAL = {d: d for d in DIMENSIONS} | {"breadth_depth": "breadth_and_depth"}


def _rating(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise JudgeError(f"{name} is not an integer: {value!r}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise JudgeError(f"{name} is not an integer: {value!r}")
    if not 1 <= value <= 5:
        raise JudgeError(f"{name} is {value}, outside 1-5")
    return value


def parse_ratings(text: str) -> dict[str, int]:
    """The six ratings in a judge's answer; JudgeError when they are not all there and valid.

    Keys match loosely ("Breadth and Depth" is ``breadth_and_depth``); ratings may be
    integers, integral floats or digit strings.

    >>> answer = 'Scores:\\n```json\\n{"relevance": 5, "accuracy": "4", "coherence": 4, "clarity": 5,'
    >>> answer += ' "Breadth and Depth": 3, "reading-experience": 4.0}\\n```\\nDone.'
    >>> parse_ratings(answer)["breadth_and_depth"], parse_ratings(answer)["accuracy"]
    (3, 4)
    >>> parse_ratings('{"relevance": 6}')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    agentwrite.evaluation.judge.JudgeError: ... (last problem: relevance is 6, outside 1-5)
    """
    problem = "no JSON object found"
    for obj in json_objects(text):
        named = {_CANONICAL[k]: v for key, v in obj.items() if (k := _key(str(key))) in _CANONICAL}
        if not named:
            continue
        try:
            ratings = {name: _rating(named[name], name) for name in DIMENSIONS if name in named}
        except JudgeError as exc:
            problem = str(exc)
            continue
        missing = [d for d in DIMENSIONS if d not in ratings]
        if missing:
            problem = f"missing {', '.join(missing)}"
            continue
        return ratings
    raise JudgeError(f"no JSON object with all six ratings (last problem: {problem})")


def shorten(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut ``text`` in the middle to ``max_chars`` characters (plus a marker), if longer.

    >>> shorten("abcdefghij", 4)
    ('ab\\n\\n[... 6 characters omitted ...]\\n\\nij', True)
    >>> shorten("abc", 4)
    ('abc', False)
    """
    if len(text) <= max_chars:
        return text, False
    head, tail = text[: max_chars // 2], text[len(text) - (max_chars - max_chars // 2) :]
    return f"{head}\n\n[... {len(text) - max_chars} characters omitted ...]\n\n{tail}", True


def _fits(max_context: int, messages: list[Message]) -> bool:
    """Whether ``messages`` leave the judge its whole answer in a ``max_context`` window."""
    try:
        return output_room(max_context, messages, JUDGE_MAX_TOKENS) == JUDGE_MAX_TOKENS
    except ModelError:
        return False


def fit_response(
    instruction: str, response: str, max_chars: int, max_context: int | None
) -> tuple[str, bool]:
    """The response as the judge sees it: cut in the middle to ``max_chars`` characters and,
    with ``max_context``, further until the judge prompt (estimated tokens) leaves room for
    the answer. ModelError when even an empty response would not fit.

    >>> fit_response("Write", "word " * 2000, 60_000, None)[1]
    False
    >>> shown, cut = fit_response("Write", "word " * 2000, 60_000, 1500)
    >>> cut, len(shown) < 10_000
    (True, True)
    """
    shown, cut = shorten(response, max_chars)
    if max_context is None:
        return shown, cut

    def fits(text: str) -> bool:
        return _fits(
            max_context,
            [{"role": "user", "content": render("judge", instruction=instruction, response=text)}],
        )

    if fits(shown):
        return shown, cut
    if not fits(""):
        raise ModelError(f"the judge prompt alone does not fit a {max_context}-token context window")
    low, high = 0, min(len(response), max_chars)  # the longest cut that fits lies in [low, high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(shorten(response, middle)[0]) else (low, middle)
    return shorten(response, low)[0], True


async def judge(
    model: ChatModel,
    instruction: str,
    response: str,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    structured: bool = True,
    max_response_chars: int = DEFAULT_MAX_RESPONSE_CHARS,
    max_context: int | None = None,
    decoding: Decoding = ROLE_DEFAULTS["judge"],
) -> Judgement:
    """Rate ``response`` to ``instruction`` with ``model``.

    The first attempt decodes as ``decoding`` says (greedy by default); later ones sample
    (temperature 0.7) and are shown the unusable answer with its problem, so that a judge
    that went wrong once can do better (asked afresh where that would not fit the window).
    With ``structured`` the request carries the ratings' JSON schema; a server that refuses
    it (HTTP 400) is asked again without. With ``max_context`` (the judge's window in
    tokens) a response too long for it is cut in the middle to fit. An unreachable server
    raises at once; otherwise JudgeError after ``attempts`` tries.
    """
    try:
        shown, truncated = fit_response(instruction, response, max_response_chars, max_context)
    except ModelError as exc:
        raise JudgeError(str(exc)) from None
    first: list[Message] = [
        {"role": "user", "content": render("judge", instruction=instruction, response=shown)}
    ]
    with_schema = structured

    async def ask(messages: list[Message], attempt: int) -> Completion:
        nonlocal with_schema
        if max_context is not None and not _fits(max_context, messages):
            messages = first
        params = GenerationParams.of(
            decoding if attempt == 1 else Decoding(temperature=0.7).over(decoding),
            JUDGE_MAX_TOKENS,
            json_schema=RATINGS_SCHEMA if with_schema else None,
        )
        try:
            return await model.complete(messages, params)
        except ModelRequestError as exc:
            if exc.status == 400:
                with_schema = False
            raise

    try:
        answer = await ask_until_valid(
            ask,
            first,
            parse_ratings,
            attempts=attempts,
            what="rating",
            invalid=(JudgeError,),
            failed_requests=(ModelError,),
        )
    except NoValidAnswer as exc:
        raise JudgeError(
            f"the judge gave no usable rating in {attempts} attempts: {exc.problems[-1]}"
        ) from None
    return Judgement(answer.value, answer.attempts, truncated, answer.text)
