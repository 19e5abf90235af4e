"""A plan as the prompts show it to the model: with or without the section budgets."""

from __future__ import annotations

from agentwrite.domain import Plan


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
