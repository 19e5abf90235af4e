"""A plan's checks against its brief: the planner's own drift, talk and language.

A small model's plan can leave the brief before a word of the document is written (an
explainer on tides planned as "How to plan and execute a plan"), talk about the writing in
its fields ("Here is the outline..."), or come back in English for a Chinese brief. Every
section written from such a plan inherits the fault, so the planner is asked again with
the problem named, like any other untidy plan (``agentwrite.plans.plan_problems``).

``brief_problems`` names them, one short sentence each, fit to feed back to the model:

- **off the brief**: the sections' mean lexical similarity to the brief (title and main point
  together, ``agentwrite.writing.topic.LexicalScorer``) is below ``MIN_PLAN_ON_BRIEF``: they
  share almost no weighted word with it. A plan of real parts of the brief shares some in
  most of its sections (on the suite's briefs, 0.09 to 0.43 a section); a plan about
  something else shares none (0.00 to 0.04);
- **talk**: the title or a main point that talks about the writing (``talk_kind``);
- **language**: fields mostly not in the brief's language (``language_share`` under one half).
"""

from __future__ import annotations

from agentwrite.domain import Plan
from agentwrite.writing.language import brief_language, language_share
from agentwrite.writing.talk import talk_kind
from agentwrite.writing.topic import LexicalScorer

MIN_PLAN_ON_BRIEF = 0.05
"""The least mean lexical similarity of a plan's sections to its brief."""
MIN_PLAN_LANGUAGE_SHARE = 0.5
"""The least share of a plan's words in the brief's language."""


def brief_problems(plan: Plan, instruction: str) -> list[str]:
    """What in ``plan`` leaves the brief ``instruction``, one sentence each (empty: none).

    >>> from agentwrite.domain import SectionPlan
    >>> def plan(*points):
    ...     return Plan(title="Tides", sections=[SectionPlan(title=t, main_point=p, target_words=200)
    ...                                          for t, p in points])
    >>> brief = "Write an 800-word explainer on how ocean tides work, for curious adults."
    >>> brief_problems(plan(("The Moon's pull", "The Moon pulls the oceans into two bulges."),
    ...                     ("Two tides a day", "Coasts get two high tides a day.")), brief)
    []
    >>> drifted = plan(("Event planning", "Planning and executing plans."),
    ...                ("Here is the outline", "Here is the outline of the essay:"))
    >>> for problem in brief_problems(drifted, brief):
    ...     print(problem)  # doctest: +NORMALIZE_WHITESPACE
    the sections are not about the instruction (sections 1 and 2 share no word with it);
      plan the parts of the document it asks for
    section 2's main point talks about the writing ("Here is the outline of the essay:");
      say what the section covers
    >>> english = plan(("Spring tides", "When Sun and Moon line up, tides are larger."))
    >>> brief_problems(english, "写一篇关于潮汐的800字文章。")[-1]
    'the plan is not in Chinese; write its title and sections in Chinese'
    """
    problems = []
    sections = [f"{s.title}: {s.main_point}" for s in plan.sections]
    similarities = LexicalScorer().similarities(sections, instruction)
    if similarities and sum(similarities) / len(similarities) < MIN_PLAN_ON_BRIEF:
        unrelated = [str(i) for i, similarity in enumerate(similarities, start=1) if similarity == 0]
        named = ""
        if unrelated:
            named = f" (section {unrelated[0]} shares no word with it)"
            if len(unrelated) > 1:
                named = f" (sections {_listed(unrelated)} share no word with it)"
        problems.append(
            f"the sections are not about the instruction{named}; plan the parts of the document it asks for"
        )
    if talk_kind(plan.title):
        problems.append(
            f'the title talks about the writing ("{plan.title[:80]}"); give the document\'s title'
        )
    for number, section in enumerate(plan.sections, start=1):
        if talk_kind(section.main_point):
            problems.append(
                f'section {number}\'s main point talks about the writing ("{section.main_point[:80]}"); '
                "say what the section covers"
            )
    language = brief_language(instruction)
    text = "\n".join([plan.title, *sections])
    if language_share(text, language) < MIN_PLAN_LANGUAGE_SHARE:
        problems.append(
            f"the plan is not in {language.name}; write its title and sections in {language.name}"
        )
    return problems


def _listed(numbers: list[str]) -> str:
    """``["1", "2", "3"]`` as "1, 2 and 3"."""
    return numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} and {numbers[-1]}"
