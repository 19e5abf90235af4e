"""The user's material in a run: which chunks each planned section draws on, and the
material the planner and each section writer are shown, fitted to the context window.

A plan names its sections' chunks by id (``SectionPlan.sources``). Ids a model gets wrong
are read leniently ("3" for ``notes.md#3`` when there is one file) or dropped with a note;
when a model plan gives no section any material, every chunk goes to the section whose title
and main point share most (rare) words with it, else to the section at its place in the
material; chunks a model plan leaves out are added the same way.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Sequence

from agentwrite.domain import Plan, SectionPlan
from agentwrite.errors import InputError
from agentwrite.length import estimate_tokens
from agentwrite.material.read import Chunk, excerpt, size
from agentwrite.plans import content_words, normalise_budgets
from agentwrite.prompts import render
from agentwrite.text_stats import sentence_spans
from agentwrite.writing.markdown_lines import Fences, atx_heading, is_heading, prose_lines

PLAN_EXCERPT_WORDS = (None, 60, 30, 15, 8, 0)
"""How much of each chunk the planner is shown, most first (None: all of it; 0: the id and
heading only): the most that fits its window."""
MIN_SECTION_WORDS = 20
"""Chunks in a section prompt are shortened down to this many words before any is left out."""

_OUTER = "[](){}<>\"'`*“”‘’ \t"


def resolve_ids(plan: Plan, chunks: Sequence[Chunk], *, strict: bool = False) -> tuple[Plan, list[str]]:
    """The plan with each section's ``sources`` read as chunk ids: exact, or told apart by
    case, brackets or spaces, or a bare number when there is one file. Unknown ids are dropped
    with a note (``strict``, for a plan the user gave: an InputError); repeats are dropped.

    >>> from agentwrite.domain import SectionPlan
    >>> chunks = [Chunk(id=f"notes.md#{i}", source="notes.md", text="x") for i in (1, 2)]
    >>> plan = Plan(title="T", sections=[SectionPlan(title="A", main_point="a", target_words=9,
    ...     sources=["[notes.md#2]", "1", "Notes.md #1", "notes.md#7"])])
    >>> fixed, notes = resolve_ids(plan, chunks)
    >>> fixed.sections[0].sources, notes
    (['notes.md#1', 'notes.md#2'], ['section 1: unknown source "notes.md#7" dropped'])
    """
    known = {c.id: c.id for c in chunks}
    known.update({_key(c.id): c.id for c in chunks})
    single = {c.source for c in chunks} == {chunks[0].source} if chunks else False
    order = {c.id: i for i, c in enumerate(chunks)}
    notes: list[str] = []
    sections = []
    for number, section in enumerate(plan.sections, start=1):
        ids: set[str] = set()
        for given in section.sources:
            found = known.get(given) or known.get(_key(given))
            bare = given.strip(_OUTER).lstrip("#")
            if found is None and single and bare.isdigit():
                found = known.get(f"{chunks[0].source}#{int(bare)}")
            if found is None:
                if strict:
                    raise InputError(f'plan section {number} names source "{given}", which no file has')
                notes.append(f'section {number}: unknown source "{given}" dropped')
                continue
            ids.add(found)
        sections.append(section.model_copy(update={"sources": sorted(ids, key=order.__getitem__)}))
    return plan.model_copy(update={"sections": sections}), notes


def _key(chunk_id: str) -> str:
    """An id as compared leniently: lowercase, without brackets, quotes or spaces.

    >>> _key(" [Notes.md #3] ")
    'notes.md#3'
    """
    return re.sub(r"\s+", "", chunk_id.strip(_OUTER)).lower()


def assign_material(plan: Plan, chunks: Sequence[Chunk], *, strict: bool = False) -> tuple[Plan, list[str]]:
    """The plan with its sections' chunk ids checked (``resolve_ids``) and every chunk given
    to a section: when no section has any, each chunk goes to its best section
    (``best_sections``); chunks a model plan left out (not ``strict``) are added the same way.
    Returns the plan and a note on each change. Without chunks the plan is returned as it is.

    >>> from agentwrite.domain import SectionPlan
    >>> plan = Plan(title="Gardens", sections=[
    ...     SectionPlan(title="Soil", main_point="Testing and improving the soil.", target_words=300),
    ...     SectionPlan(title="Seeds", main_point="Which seeds to sow first.", target_words=300)])
    >>> chunks = [Chunk(id="n#1", source="n", text="Tomato seeds sprout in a week."),
    ...           Chunk(id="n#2", source="n", text="Clay soil drains badly; add compost.")]
    >>> assigned, notes = assign_material(plan, chunks)
    >>> [s.sources for s in assigned.sections], notes
    ([['n#2'], ['n#1']], ['no section was given material; each chunk went to the section that fits it best'])
    """
    if not chunks:
        return plan, []
    plan, notes = resolve_ids(plan, chunks, strict=strict)
    used = {i for s in plan.sections for i in s.sources}
    if used and strict:
        return plan, notes
    left = [c for c in chunks if c.id not in used]
    if not left:
        return plan, notes
    best = best_sections(plan, chunks)
    ids = [list(s.sources) for s in plan.sections]
    for i, chunk in enumerate(chunks):
        if chunk.id not in used:
            ids[best[i]].append(chunk.id)
    order = {c.id: i for i, c in enumerate(chunks)}
    sections = [
        s.model_copy(update={"sources": sorted(own, key=order.__getitem__)})
        for s, own in zip(plan.sections, ids, strict=True)
    ]
    if used:
        shown = ", ".join(c.id for c in left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        notes.append(f"material the plan left out ({shown}) went to the sections that fit it best")
    else:
        notes.append("no section was given material; each chunk went to the section that fits it best")
    return plan.model_copy(update={"sections": sections}), notes


def best_sections(plan: Plan, chunks: Sequence[Chunk]) -> list[int]:
    """For each chunk, the index of the section it fits best: the one whose title and main
    point share the most words with the chunk's heading and text, each word weighted by how
    few sections hold it; a chunk that shares none (or ties) goes to the section nearest its
    place in the material (chunk i of n to section i * k / n of k).

    >>> from agentwrite.domain import SectionPlan
    >>> outline = [("Tea roads", "Caravans carried tea."), ("Pu'er", "How pu'er is pressed."),
    ...            ("Today", "Tourism.")]
    >>> plan = Plan(title="T", sections=[SectionPlan(title=t, main_point=p, target_words=9)
    ...                                  for t, p in outline])
    >>> chunks = [Chunk(id=f"n#{i}", source="n", text=t) for i, t in enumerate(
    ...     ["Bricks of pu'er are pressed by hand.", "Nothing in common.", "Caravans left Simao."])]
    >>> best_sections(plan, chunks)
    [1, 1, 0]
    """
    section_words = [set(content_words(f"{s.title} {s.main_point}")) for s in plan.sections]
    holders: dict[str, int] = {}
    for words in section_words:
        for word in words:
            holders[word] = holders.get(word, 0) + 1
    count, total = len(plan.sections), len(chunks)
    best = []
    for i, chunk in enumerate(chunks):
        words = set(content_words(f"{chunk.heading} {chunk.text}"))
        place = (i + 0.5) * count / total - 0.5
        scores = [sum(1 / holders[w] for w in words & own) for own in section_words]
        best.append(min(range(count), key=lambda k: (-scores[k], abs(k - place), k)))
    return best


def section_chunks(chunks: Sequence[Chunk], ids: Sequence[str]) -> list[Chunk]:
    """The chunks named by ``ids``, in that order (unknown ids skipped).

    >>> [c.id for c in section_chunks([Chunk(id="a#1", source="a", text="x")], ["a#1", "b#1"])]
    ['a#1']
    """
    by_id = {c.id: c for c in chunks}
    return [by_id[i] for i in ids if i in by_id]


def _render_chunks(chunks: Sequence[Chunk], words: int | None) -> str:
    """Chunks as the prompts show them: ``[id] (heading)`` and the text (all of it, its
    Markdown headings as plain lines, or its first ``words`` words on one line).

    >>> print(_render_chunks([Chunk(id="n#1", source="n", heading="Soil", text="## Soil\\n\\nClay.")], None))
    [n#1] (Soil)
    Clay.
    >>> _render_chunks([Chunk(id="n#1", source="n", text="Clay drains badly.")], 2)
    '[n#1] Clay drains…'
    """
    parts = []
    for chunk in chunks:
        label = f"[{chunk.id}]" + (f" ({chunk.heading})" if chunk.heading else "")
        if words is None:
            body = _plain_headings(chunk.text).strip()
            if chunk.heading and body.startswith(chunk.heading + "\n"):
                body = body[len(chunk.heading) :].strip()  # the label names it
            parts.append(f"{label}\n{body}")
        else:
            parts.append(f"{label} {excerpt(chunk.text, words)}".rstrip() if words else label)
    return "\n\n".join(parts) if words is None else "\n".join(parts)


def _plain_headings(text: str) -> str:
    """``text`` with its Markdown headings as plain lines (those in code blocks left alone).

    >>> _plain_headings("## Soil ##\\nClay.\\n```\\n# a comment\\n```")
    'Soil\\nClay.\\n```\\n# a comment\\n```'
    """
    fences = Fences()
    lines = []
    for line in text.split("\n"):
        found = None if fences.read(line) else atx_heading(line)
        lines.append(line if found is None else found.text)
    return "\n".join(lines)


def plan_material(
    chunks: Sequence[Chunk],
    template: str,
    max_tokens: int | None,
    count: Callable[[str], int] = estimate_tokens,
) -> str:
    """The planner's block of material (``template``, rendered with the chunk list, the
    number of chunks and two ids for an example): every chunk whole when that fits
    ``max_tokens``, else excerpts as long as fit (``PLAN_EXCERPT_WORDS``), at least the ids.
    Empty without chunks.

    >>> chunks = [Chunk(id="n#1", source="n", text="Clay drains badly. " * 20)]
    >>> "Clay drains badly. Clay" in plan_material(chunks, "plan_material_json", None)
    True
    >>> plan_material(chunks, "plan_material_json", 150).count("Clay")  # 15 words
    5
    >>> plan_material([], "plan_material_json", None)
    ''
    """
    if not chunks:
        return ""
    example = [c.id for c in chunks[:2]]
    shown = json.dumps(example, ensure_ascii=False) if template.endswith("json") else ", ".join(example)
    block = ""
    for words in PLAN_EXCERPT_WORDS:
        block = _block(template, chunks=_render_chunks(chunks, words), count=len(chunks), example=shown)
        if max_tokens is None or count(block) <= max_tokens:
            break
    return block


def _block(template: str, **values: object) -> str:
    """A material template rendered as a block of a prompt: it ends in a blank line, so that
    the prompt's next heading follows as it would without the block."""
    return render(template, **values).rstrip() + "\n\n"


def section_material(
    chunks: Sequence[Chunk], max_tokens: int | None, count: Callable[[str], int] = estimate_tokens
) -> tuple[str, list[str]]:
    """A section's block of material and the ids it holds: every chunk whole when that fits
    ``max_tokens``; else each chunk cut to the same number of words, as many as fit (down to
    ``MIN_SECTION_WORDS``); else the first chunks only, so cut. Empty without chunks or room.

    >>> chunks = [Chunk(id=f"n#{i}", source="n", text=f"Fact {i} about clay soil. " * 30) for i in (1, 2)]
    >>> block, ids = section_material(chunks, None)
    >>> ids, block.count("Fact 1"), block.count("Fact 2")
    (['n#1', 'n#2'], 30, 30)
    >>> block, ids = section_material(chunks, 300)
    >>> ids, 0 < block.count("Fact 2") < 30, estimate_tokens(block) <= 300
    (['n#1', 'n#2'], True, True)
    >>> section_material(chunks, 150)[1], section_material(chunks, 50)
    (['n#1'], ('', []))
    """
    if not chunks:
        return "", []

    def block(selected: Sequence[Chunk], words: int | None) -> str:
        cut = [c.model_copy(update={"text": excerpt(c.text, words)}) for c in selected] if words else selected
        return _block("section_material", chunks=_render_chunks(cut, None))

    def fits(text: str) -> bool:
        return max_tokens is None or count(text) <= max_tokens

    whole = block(chunks, None)
    if fits(whole):
        return whole, [c.id for c in chunks]
    longest = max(len(c.text.split()) for c in chunks)
    for kept in range(len(chunks), 0, -1):
        words = longest
        while words >= MIN_SECTION_WORDS:
            text = block(chunks[:kept], words)
            if fits(text):
                return text, [c.id for c in chunks[:kept]]
            words = math.floor(words * 0.8)
    return "", []


def plan_from_material(
    title: str, chunks: Sequence[Chunk], target: int, fewest: int, most: int, lo: int, hi: int
) -> Plan | None:
    """A plan that follows the material's own outline: a section per group of chunks under one
    heading (neighbours merged, smallest pair first, down to ``most``), titled by that
    heading (a chunk under none joins the group before it), its main point the group's opening
    sentence, its budget in proportion to the group's
    words within ``[lo, hi]``; ``title`` the material's first top-level heading when it has
    one. None when the material has fewer than ``fewest`` headed groups (or none at all).

    >>> chunks = [Chunk(id=f"n#{i}", source="n", heading=h, text=t) for i, (h, t) in enumerate([
    ...     ("Site", "# Garden notes\\n\\n## Site\\n\\nThe lot is 1,800 square metres. It was a depot."),
    ...     ("Water", "## Water\\n\\nWater was the hardest problem."),
    ...     ("Water", "Four rain butts went on the shed roof in June.")], start=1)]
    >>> plan = plan_from_material("Report", chunks, 600, 2, 4, 200, 1000)
    >>> plan.title, [(s.title, s.main_point, s.target_words, s.sources) for s in plan.sections]
    ... # doctest: +NORMALIZE_WHITESPACE
    ('Garden notes', [('Site', 'The lot is 1,800 square metres.', 281, ['n#1']),
                      ('Water', 'Water was the hardest problem.', 319, ['n#2', 'n#3'])])
    """
    groups: list[list[Chunk]] = []
    for chunk in chunks:
        if groups and chunk.heading in (groups[-1][0].heading, ""):
            groups[-1].append(chunk)  # a chunk under no heading goes with the one before it
        else:
            groups.append([chunk])
    if len(groups) < fewest or not groups[0][0].heading:
        return None
    while len(groups) > most:
        sizes = [sum(size(c.text) for c in a + b) for a, b in itertools.pairwise(groups)]
        i = sizes.index(min(sizes))
        groups[i : i + 2] = [groups[i] + groups[i + 1]]
    budgets = normalise_budgets([sum(size(c.text) for c in group) for group in groups], target, lo, hi)
    sections = [
        SectionPlan(title=_group_title(group), main_point=_opening(group), target_words=words,
                    sources=[c.id for c in group])
        for group, words in zip(groups, budgets, strict=True)
    ]  # fmt: skip
    lines = prose_lines(line for chunk in chunks for line in chunk.text.splitlines())
    tops = (found.text for found in map(atx_heading, lines) if found and found.level == 1)
    top = next((text for text in tops if text), "")
    return Plan(title=(top or title)[:120], sections=sections)


def _group_title(group: Sequence[Chunk]) -> str:
    """A group's heading; two merged groups' headings joined, where that stays short.

    >>> _group_title([Chunk(id="n#1", source="n", heading="Money", text="x"),
    ...             Chunk(id="n#2", source="n", heading="Problems", text="y")])
    'Money and Problems'
    """
    headings = list(dict.fromkeys(c.heading for c in group if c.heading))
    joined = " and ".join(headings)
    return joined if len(headings) == 2 and len(joined) <= 80 else headings[0][:80]


def _opening(group: Sequence[Chunk]) -> str:
    """The first sentence of a group's text that is not a heading (its heading when none)."""
    for chunk in group:
        for line in prose_lines(chunk.text.splitlines()):
            if line.strip() and not is_heading(line):
                first = next(iter(sentence_spans(line.strip())), None)
                sentence = line.strip()[first[0] : first[1]] if first else line.strip()
                return excerpt(sentence, 40)
    return group[0].heading
