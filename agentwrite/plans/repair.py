"""Plan repair: an untidy plan cleaned where that needs no invented content (``clean_plan``),
and headings taken from the written text where the plan's could not be mended
(``titles_from_text``)."""

from __future__ import annotations

import re

from agentwrite.domain import ASKED_PLAN_TITLE_CHARS, ASKED_SECTION_TITLE_CHARS, Plan, SectionPlan
from agentwrite.plans.labels import label_of, strip_labels
from agentwrite.plans.repeats import TOKEN, looping_word, near_repeat, repeats, restates, unlooped
from agentwrite.plans.titles import cut_off, talks, title_from_point, title_without_task, uncut
from agentwrite.text_stats import split_sentences
from agentwrite.writing.markdown_lines import prose_lines
from agentwrite.writing.talk import talk_kind


def clean_plan(plan: Plan, *, titles_from_points: bool = False) -> tuple[Plan, list[str]]:
    """The plan with what ``plan_problems`` finds cleaned where that can be done without
    inventing content, and a note on each thing cleaned or left as it was.

    - Labels are stripped from the document title, the section titles and the main points
      (a title that is nothing but a label is cut from its main point instead).
    - A main point that is empty once its label is gone becomes the section's title.
    - A title cut mid-phrase is brought back to its last whole part (``uncut``).
    - Every section title that repeats an earlier one, or the document's title (in a plan
      of more than one section), is replaced by a heading cut from its own main point, when
      that one is new; otherwise it stays.
    - A main point that restates its title stays as it is: nothing better is known.
    - A title or main point that loops (``looping_word``) keeps each of its sentences once.
    - A section title that talks about the writing (``talks``) is replaced by a heading cut
      from its main point, when that one is new and no talk, else by itself without the
      task it restates (``title_without_task``); a document title that is a file name is
      said in words, one that restates the task loses the directions and the length.

    No section is dropped or merged: the section count and the budgets never change.

    ``titles_from_points`` as for ``plan_problems``.

    >>> plan = Plan(title="Title: Gardens", sections=[
    ...     SectionPlan(title="**Title 1:** Soil", main_point="Title 1: Soil", target_words=300),
    ...     SectionPlan(title="Soil", main_point="Seeds: what to sow first.", target_words=500)])
    >>> cleaned, notes = clean_plan(plan)
    >>> cleaned.title, [(s.title, s.main_point, s.target_words) for s in cleaned.sections]
    ('Gardens', [('Soil', 'Soil', 300), ('Seeds', 'Seeds: what to sow first.', 500)])
    >>> for note in notes:
    ...     print(note)
    document title: label "Title" removed
    section 1: label "Title 1" removed from the title
    section 1: label "Title 1" removed from the main point
    section 1: the main point only restates the title; kept
    section 2: the title "Soil" repeated section 1's; replaced by "Seeds", from its main point
    """
    notes: list[str] = []
    plan, notes = _unloop_fields(plan)
    title = plan.title
    if label := label_of(title):
        if stripped := strip_labels(title):
            title = stripped
            notes.append(f'document title: label "{label}" removed')
        else:
            notes.append(f'document title: only a label ("{label}"); kept')
    if words := _file_name_words(title):
        notes.append(f'document title: the file name "{title}" said in words, "{words}"')
        title = words
    if cut_off(title, ASKED_PLAN_TITLE_CHARS):
        whole = uncut(title, ASKED_PLAN_TITLE_CHARS)
        notes.append(f'document title: "{title.strip()}" stopped mid-phrase; "{whole}" kept')
        title = whole
    if talks(title) and (subject := title_without_task(title)):
        notes.append(f'document title: "{title}" restated the task; "{subject}" kept')
        title = subject
    sections: list[SectionPlan] = []
    for number, section in enumerate(plan.sections, start=1):
        heading, point = strip_labels(section.title), strip_labels(section.main_point)
        if not heading and not TOKEN.search(point):
            notes.append(f"section {number}: the title and the main point are only labels; kept")
            sections.append(section)
            continue
        if heading and (label := label_of(section.title)):
            notes.append(f'section {number}: label "{label}" removed from the title')
        if TOKEN.search(point) and (label := label_of(section.main_point)):
            notes.append(f'section {number}: label "{label}" removed from the main point')
        if not TOKEN.search(point):
            point = heading
            notes.append(f"section {number}: no main point beyond a label; the title stands in for it")
        elif not titles_from_points and restates(point, heading):
            notes.append(f"section {number}: the main point only restates the title; kept")
        if not heading:
            heading = title_from_point(point)
            notes.append(f'section {number}: the title was only a label; "{heading}" cut from the main point')
        if cut_off(heading, ASKED_SECTION_TITLE_CHARS):
            whole = uncut(heading, ASKED_SECTION_TITLE_CHARS)
            notes.append(f'section {number}: the title "{heading}" stopped mid-phrase; "{whole}" kept')
            heading = whole
        sections.append(section.model_copy(update={"title": heading, "main_point": point}))
    for number, section in enumerate(sections, start=1):
        if label_of(section.title) or not talks(section.title):
            continue
        others = [title, *(s.title for s in sections if s is not section)]
        candidate = _new_heading(section.main_point, [section.title, *others])
        if candidate := candidate or title_without_task(section.title):
            sections[number - 1] = section.model_copy(update={"title": candidate})
            notes.append(
                f'section {number}: the title "{section.title}" talked about the writing; '
                f'replaced by "{candidate}"'
            )
        else:
            notes.append(f'section {number}: the title "{section.title}" talks about the writing; kept')
    against_title = not titles_from_points and len(sections) > 1
    for later, earlier in repeats(
        [title, *(s.title for s in sections)] if against_title else [s.title for s in sections]
    ):
        if against_title:
            later, earlier = later - 1, earlier - 1  # -1: the document's title
        what = "the document's title" if earlier < 0 else f"section {earlier + 1}'s"
        repeated = sections[later].title
        others = [title] * against_title + [s.title for i, s in enumerate(sections) if i != later]
        candidate = _new_heading(sections[later].main_point, [repeated, *others])
        if candidate:
            sections[later] = sections[later].model_copy(update={"title": candidate})
            notes.append(
                f'section {later + 1}: the title "{repeated}" repeated {what}; '
                f'replaced by "{candidate}", from its main point'
            )
        else:
            notes.append(f'section {later + 1}: the title "{repeated}" repeats {what}; kept')
    return plan.model_copy(update={"title": title, "sections": sections}), notes


_FILE_NAME = re.compile(r"^\s*([\w.-]*[\w][_-][\w.-]*)\.(?:json|md|txt|docx?|pdf|html?)\s*$", re.IGNORECASE)


def _file_name_words(title: str) -> str:
    """A title that is a file name said in words ("" for any other title).

    >>> _file_name_words("tutorial_explainer_on_ocean_tides_how_they_work.json")
    'Tutorial explainer on ocean tides how they work'
    >>> _file_name_words("Ocean tides"), _file_name_words("notes.md")
    ('', '')
    """
    if not (found := _FILE_NAME.match(title)):
        return ""
    words = " ".join(re.split(r"[_\-.]+", found.group(1))).strip()
    return words[:1].upper() + words[1:]


def _new_heading(point: str, taken: list[str]) -> str:
    """A heading cut from a main point that repeats none of ``taken`` and is no line of talk
    about the writing (``talk_kind``: "What the plan must be", a line of the planner's own
    prompt): its first clause's first 8 words, else its first 16; ``""`` when neither will do.

    >>> _new_heading("Choose the right type of vegetable for your city balcony.",
    ...              ["Choose the right type of vegetable to start"])
    'Choose the right type of vegetable for your city balcony'
    >>> _new_heading("Soil.", ["Soil"]), _new_heading("What the plan must be", [])
    ('', '')
    """
    for max_words in (8, 16):
        candidate = title_from_point(point, max_words)
        if not talk_kind(candidate) and not any(near_repeat(candidate, other) for other in taken):
            return candidate
    return ""


def _unloop_fields(plan: Plan) -> tuple[Plan, list[str]]:
    """The plan with each looping title and main point (``looping_word``) said once."""
    notes: list[str] = []
    title = plan.title
    if looping_word(title):
        title = unlooped(title).rstrip(".")
        notes.append(f'document title: a repeated phrase said once ("{title}")')
    sections = []
    for number, section in enumerate(plan.sections, start=1):
        fields = {}
        for name, text in (("title", section.title), ("main_point", section.main_point)):
            if looping_word(text):
                fields[name] = unlooped(text).rstrip(".") if name == "title" else unlooped(text)
                notes.append(f"section {number}: a repeated phrase said once in the {name.replace('_', ' ')}")
        sections.append(section.model_copy(update=fields))
    return plan.model_copy(update={"title": title, "sections": sections}), notes


def titles_from_text(plan: Plan, texts: list[str]) -> tuple[Plan, list[str]]:
    """Headings for written sections whose planned title is only a label, repeats an
    earlier one or (after the first section) the document's title: what ``clean_plan`` could
    not mend. The new heading is the opening clause of the section's own
    text (its first letter a capital), where that is new. Returns the plan and a note for
    each heading replaced.

    >>> plan = Plan(title="Gardens", sections=[
    ...     SectionPlan(title="Soil", main_point="Soil.", target_words=300),
    ...     SectionPlan(title="Title 2", main_point="Title 2", target_words=300),
    ...     SectionPlan(title="Soil", main_point="Soil.", target_words=300),
    ...     SectionPlan(title="gardens!", main_point="Gardens.", target_words=300)])
    >>> texts = ["Good soil drains.", "Seeds want warmth, light and water. They sprout.", "Soil again.",
    ...          "planning the beds: where a balcony garden begins."]
    >>> fixed, notes = titles_from_text(plan, texts)
    >>> [s.title for s in fixed.sections], len(notes)
    (['Soil', 'Seeds want warmth', 'Soil again', 'Planning the beds'], 3)
    """
    sections = list(plan.sections)
    notes: list[str] = []
    for i, (section, text) in enumerate(zip(sections, texts, strict=True)):
        earlier = [s.title for s in sections[:i]]
        if i > 0:  # the first section under the document's title is its opening (stitch drops the heading)
            earlier.append(plan.title)
        label_only = not strip_labels(section.title)
        if not label_only and not any(near_repeat(section.title, t) for t in earlier):
            continue
        candidate = title_from_point(_opening_sentence(text))
        candidate = candidate[:1].upper() + candidate[1:]
        others = [plan.title] + [s.title for j, s in enumerate(sections) if j != i]
        if (
            not TOKEN.search(candidate)
            or label_of(candidate)
            or talk_kind(candidate)
            or any(near_repeat(candidate, t) for t in others)
        ):
            continue
        sections[i] = section.model_copy(update={"title": candidate})
        notes.append(
            f'section {i + 1}: heading "{candidate}" taken from its text (the plan had "{section.title}")'
        )
    return plan.model_copy(update={"sections": sections}), notes


def _opening_sentence(text: str) -> str:
    """The first line of prose in a section: not code, a heading (nor any line that starts
    with ``#``), a rule or a table row, and at least two words, with any label stripped.

    >>> _opening_sentence("---\\n\\n### Intro\\n| a | b |\\n```\\nls -l\\n```\\nNew places open. More come.")
    'New places open.'
    """
    for sentence in split_sentences("\n".join(prose_lines(text.split("\n")))):
        if re.match(r"\s*(?:#|[-*_=~`|]{3}|\|)", sentence):
            continue
        sentence = strip_labels(sentence.strip("*_>•–—- "))
        if len(TOKEN.findall(sentence)) >= 2:
            return sentence
    return ""
