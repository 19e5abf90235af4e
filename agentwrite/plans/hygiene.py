"""Plan hygiene: what makes a plan untidy, one short sentence each, fit to feed back to the
model. A labelled, repeated or cut-off plan parses and fits the target, but the writer
echoes the labels and writes the same section twice."""

from __future__ import annotations

from agentwrite.domain import ASKED_PLAN_TITLE_CHARS, ASKED_SECTION_TITLE_CHARS, Plan
from agentwrite.plans.labels import label_of, strip_labels
from agentwrite.plans.repeats import TOKEN, content_words, looping_word, near_repeat, repeats, restates
from agentwrite.plans.titles import cut_off, talks

MAX_PROBLEMS_SHOWN = 10
"""How many problems one hygiene error names (the rest are counted)."""


def plan_problems(plan: Plan, *, titles_from_points: bool = False) -> list[str]:
    """What makes a plan untidy, one short sentence each, fit to feed back to the model.

    - a title (the document's or a section's) or a main point that starts with a label
      (``label_of``): "Title 1:", "Paragraph 2", "Section 3 -", "第3部分：";
    - a main point that is empty once its label is gone, or that only restates its title
      (``restates``);
    - a section whose title repeats or nearly repeats an earlier section's (``near_repeat``),
      or the document's title (in a plan of more than one section);
    - a title that stops mid-phrase (``cut_off``): "Guide to Planning and Creating a";
    - a title or main point that keeps repeating one word (``looping_word``);
    - a title that talks about the writing instead of naming a subject (``talks``): "Here's
      a practical guide...", "{{#8.section}}", a file name.

    With ``titles_from_points`` (the line format, where each heading is cut from the start of
    its main point) a main point is not held to differ from its title, and a repeated
    heading is put to the model as a main point that begins like another.

    >>> from agentwrite.domain import SectionPlan
    >>> plan = Plan(title="Title: Gardens", sections=[
    ...     SectionPlan(title="Title 1: Starting a garden", main_point="Title 1: Starting a garden.",
    ...                 target_words=300),
    ...     SectionPlan(title="Starting a Garden", main_point="Choosing the spot and the soil.",
    ...                 target_words=300)])
    >>> for problem in plan_problems(plan):
    ...     print(problem)
    the document title starts with a label ("Title"); give the title alone
    section 1's title starts with a label ("Title 1"); give the heading alone
    section 1's main point starts with a label ("Title 1"); give the point alone
    section 1's main point only restates its title; say what the section covers
    sections 1 and 2 have the same title ("Starting a Garden"); give each section its own subject
    >>> plan_problems(Plan(title="Gardens", sections=[SectionPlan(title="Part of the problem",
    ...     main_point="Why beds fail.", target_words=300)]))
    []
    """
    problems = []
    if label := label_of(plan.title):
        problems.append(f'the document title starts with a label ("{label}"); give the title alone')
    elif talks(plan.title):
        problems.append(
            f'the document title talks about the writing ("{plan.title.strip()[:80]}"); give the title alone'
        )
    if word := looping_word(plan.title):
        problems.append(f'the document title repeats "{word}" over and over; give a short title')
    if cut_off(plan.title, ASKED_PLAN_TITLE_CHARS):
        problems.append(
            f'the document title stops mid-phrase ("{plan.title.strip()[:80]}"); give a whole title'
        )
    for number, section in enumerate(plan.sections, start=1):
        for field, text in (("title", section.title), ("main point", section.main_point)):
            if word := looping_word(text):
                problems.append(f'section {number}\'s {field} repeats "{word}" over and over; write it once')
        if label := label_of(section.title):
            problems.append(
                f'section {number}\'s title starts with a label ("{label}"); give the heading alone'
            )
        elif talks(section.title):
            problems.append(
                f'section {number}\'s title talks about the writing ("{section.title.strip()[:80]}"); '
                "give a heading that names its subject"
            )
        if cut_off(section.title, ASKED_SECTION_TITLE_CHARS):
            problems.append(
                f'section {number}\'s title stops mid-phrase ("{section.title.strip()[:80]}"); '
                "give a short heading"
            )
        if not TOKEN.search(strip_labels(section.main_point)):
            problems.append(f"section {number} has no main point, only a label; say what the section covers")
            continue
        if label := label_of(section.main_point):
            problems.append(
                f'section {number}\'s main point starts with a label ("{label}"); give the point alone'
            )
        if not titles_from_points and restates(section.main_point, section.title):
            problems.append(
                f"section {number}'s main point only restates its title; say what the section covers"
            )
    if not titles_from_points and len(plan.sections) > 1:
        for number, section in enumerate(plan.sections, start=1):
            if near_repeat(section.title, plan.title):
                problems.append(
                    f"section {number}'s title repeats the document's title; give the section its own heading"
                )
    titles = [s.title for s in plan.sections]
    for later, earlier in repeats(titles):
        same = (
            "the same"
            if content_words(titles[later]) == content_words(titles[earlier])
            else "nearly the same"
        )
        quoted = strip_labels(titles[later])[:80]
        if titles_from_points:
            repeat = (
                f'the main points of sections {earlier + 1} and {later + 1} begin in {same} way ("{quoted}")'
            )
        else:
            repeat = f'sections {earlier + 1} and {later + 1} have {same} title ("{quoted}")'
        problems.append(f"{repeat}; give each section its own subject")
    return problems


def describe_problems(problems: list[str]) -> str:
    """The problems as one message (the first ``MAX_PROBLEMS_SHOWN`` of them).

    >>> describe_problems(["a", "b"])
    'a; b'
    """
    shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    hidden = len(problems) - MAX_PROBLEMS_SHOWN
    return shown + (f"; and {hidden} more like these" if hidden > 0 else "")
