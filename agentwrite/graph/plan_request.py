"""The planner's and sketcher's structured requests: ``ask_until_valid`` with requests
sized to the run's window, and a plan's errors fed back in the planner's words."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from agentwrite.domain import Usage
from agentwrite.errors import PlanError, PlanHygieneError
from agentwrite.graph.context import WriteContext
from agentwrite.llm.base import Completion, GenerationParams, Message
from agentwrite.llm.context_window import output_room
from agentwrite.llm.decoding import Role
from agentwrite.llm.structured import NoValidAnswer, ask_until_valid
from agentwrite.prompts import render

log = logging.getLogger(__name__)
T = TypeVar("T")


async def ask_for_plan(
    ctx: WriteContext,
    messages: list[Message],
    parse: Callable[[str], T],
    *,
    what: str,
    role: Role,
    max_tokens: int,
    schema: dict[str, Any] | None,
    fallback: Callable[[PlanHygieneError], T] | None = None,
) -> tuple[T, Usage]:
    """Ask ``role`` for a ``what`` that ``parse`` accepts (it raises PlanError otherwise), up
    to ``settings.plan_attempts`` times; raise PlanError naming ``what`` after that.

    With ``fallback``, an answer that failed only on hygiene (``PlanHygieneError``) is not
    thrown away: when no attempt succeeds, ``fallback`` makes the result from the latest
    such failure with the fewest problems (for a plan, the plan cleaned) instead of raising.
    An untidy answer whose problems are word for word the previous answer's (the model copied
    the answer it was shown: the bundled model does, whatever the feedback says) is followed
    by a fresh request, the first messages alone, for a new sample.
    """
    s = ctx.settings

    async def ask(conversation: list[Message], attempt: int) -> Completion:
        def request() -> tuple[list[Message], GenerationParams]:
            room = output_room(ctx.max_context, conversation, max_tokens, ctx.gauge)
            return conversation, GenerationParams.of(
                s.decoding_for(role), room, seed=s.seed, json_schema=schema
            )

        return (await ctx.complete(request))[1]

    try:
        answer = await ask_until_valid(
            ask,
            messages,
            parse,
            attempts=s.plan_attempts,
            what=what,
            invalid=(PlanError,),
            answer_again=lambda error: render("plan_retry", error=error),
            fresh=lambda problems: fallback is not None and _untidy_again(problems),
        )
    except NoValidAnswer as exc:
        untidy = [p for p in exc.problems if isinstance(p, PlanHygieneError)]
        if untidy and fallback is not None:
            least = min(reversed(untidy), key=lambda p: p.problems)  # the latest of the least untidy
            log.warning(
                "no tidy %s after %d attempts; using the least untidy one (%d problems left), cleaned: %s",
                what,
                len(exc.problems),
                least.problems,
                least.repairs,
            )
            return fallback(least), exc.usage
        raise PlanError(str(exc)) from None
    return answer.value, answer.usage


def _untidy_again(problems: list[Exception]) -> bool:
    """Whether the latest two problems are the same hygiene problems, word for word.

    >>> from agentwrite.domain import Plan, SectionPlan
    >>> plan = Plan(title="T", sections=[SectionPlan(title="A", main_point="B", target_words=9)])
    >>> labels = PlanHygieneError("section 1's title starts with a label", plan, [])
    >>> _untidy_again([labels, labels]), _untidy_again([PlanError("x"), labels]), _untidy_again([labels])
    (True, False, False)
    """
    return (
        len(problems) >= 2
        and all(isinstance(p, PlanHygieneError) for p in problems[-2:])
        and str(problems[-1]) == str(problems[-2])
    )
