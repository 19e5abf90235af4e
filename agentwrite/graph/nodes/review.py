"""Plan review (``write --review``, ``build_graph(review=True)``): after the plan, the run
stops with a LangGraph ``interrupt`` that shows the plan, and continues from its checkpoint
with the person's answer (``Command(resume=...)``).

The interrupt's value (JSON)::

    {"kind": "plan_review", "plan": {...the plan...}, "target_words": 3000,
     "error": ""}            # why the previous answer could not be used, else ""

The resume values::

    {"action": "accept"}                               # write to this plan
    {"action": "edit", "plan": {...} or "<JSON text>"}  # write to this plan instead
    {"action": "replan", "comment": "fewer sections on history"}  # ask the planner again

An edited plan is read as ``--plan`` files are (``load_plan_file``) and its budgets scaled to
the brief's target; the run then writes to it. A new plan is shown for review again. An
answer that cannot be used (a bad plan, an empty comment, an unknown action) is asked again,
with ``error`` saying why.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agentwrite.domain import Brief, Plan, Usage
from agentwrite.errors import InputError
from agentwrite.events import PlanReady, streamed
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.plan import make_plan
from agentwrite.graph.state import WriteState, state_chunks
from agentwrite.material.assign import assign_material
from agentwrite.plans import load_plan_file, normalise_budgets, with_budgets

REVIEW = "plan_review"
"""The ``kind`` of the review's interrupt value."""

Reviewer = Callable[[dict[str, Any]], "dict[str, Any] | Awaitable[dict[str, Any]]"]
"""What answers the review: given the interrupt's value, the resume value (or an awaitable)."""


def review_request(plan: Plan, target_words: int, error: str = "") -> dict[str, Any]:
    """The interrupt's value: what the person is shown.

    >>> from agentwrite.domain import SectionPlan
    >>> origins = SectionPlan(title="Origins", main_point="Where.", target_words=300)
    >>> review_request(Plan(title="Tea", sections=[origins]), 300)["plan"]["sections"][0]["title"]
    'Origins'
    """
    return {
        "kind": REVIEW,
        "plan": plan.model_dump(mode="json"),
        "target_words": target_words,
        "error": error,
    }


def edited_plan(given: object, target_words: int) -> Plan:
    """The plan of an ``edit`` answer (an object or its JSON text), its budgets scaled to the
    target; an InputError in one line when it is no plan."""
    if given is None:
        raise InputError("an edit needs the plan")
    text = given if isinstance(given, str) else json.dumps(given)
    plan = load_plan_file(text, "(edited)")
    budgets = normalise_budgets([s.target_words for s in plan.sections], target_words, 1, target_words)
    return with_budgets(plan, budgets)


async def review_node(state: WriteState, runtime: Runtime[WriteContext]) -> dict[str, Any]:
    """Graph node: show the plan and act on the answer (see the module's docstring)."""
    brief = Brief.model_validate(state["brief"])
    plan = Plan.model_validate(state["plan"])
    answer = interrupt(review_request(plan, brief.target_words, state.get("review_error", "")))
    action = answer.get("action") if isinstance(answer, dict) else None
    kept = {"brief": brief, "plan": plan, "review_error": ""}  # typed again, as a server may give JSON
    if action == "accept":
        return kept | {"plan_accepted": True}
    if action == "edit":
        try:
            edited = edited_plan(answer.get("plan"), brief.target_words)
            edited, _ = assign_material(edited, state_chunks(state), strict=True)
        except InputError as exc:
            return kept | {"review_error": str(exc)}
        streamed(runtime.stream_writer)(PlanReady(edited, "user"))
        return kept | {"plan": edited, "plan_source": "user", "plan_accepted": True}
    if action == "replan":
        comment = str(answer.get("comment") or "").strip()
        if not comment:
            return kept | {"review_error": "a new plan needs a comment saying what to change"}
        new, usage, repairs = await make_plan(
            brief, runtime.context, state_chunks(state), revise=(plan, comment)
        )
        streamed(runtime.stream_writer)(PlanReady(new, "model"))
        spent = state.get("plan_usage", Usage()) + usage
        return kept | {"plan": new, "plan_source": "model", "plan_usage": spent, "plan_repairs": repairs}
    unknown = f"unknown answer {repr(answer)[:80]}: the action is accept, edit or replan"
    return kept | {"review_error": unknown}


def until_accepted(route: Callable[[WriteState], Any]) -> Callable[[WriteState], Any]:
    """Route: the review again until the plan is accepted, then on by ``route``."""

    def after_review(state: WriteState) -> Any:
        return route(state) if state.get("plan_accepted") else "review"

    return after_review
