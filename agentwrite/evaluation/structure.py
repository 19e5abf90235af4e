"""A response's sections and how well an agent run kept to its plan.

Without a sidecar, a response is split at its Markdown headings, as CommonMark reads them
(``markdown-it-py``): ATX (``## Origins``) and setext (a line underlined with ``===`` or
``---``) headings count; ``#`` lines inside code fences or indented code do not, nor do
headings nested in a blockquote or a list item (they belong to the quote or the item, not
to the document's outline). It splits at the shallowest heading level used more than once
(``## `` under a ``# `` title, as the stitcher writes it), or at every heading when no level
repeats. Text before the first such heading is a preamble section with an empty title, kept
only when it holds words beyond headings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

from markdown_it import MarkdownIt

from agentwrite.length import count_words

_MARKDOWN = MarkdownIt("commonmark")

BUDGET_TOLERANCE = 0.2
"""A section within this relative distance of its budget counts as on budget."""


@dataclass(frozen=True)
class _Heading:
    level: int
    title: str
    start: int
    """First line of the heading."""
    end: int
    """Line after the heading (after the underline of a setext heading)."""


def _headings(lines: list[str]) -> list[_Heading]:
    """The document-level headings (not those nested in quotes or lists) of ``lines``."""
    tokens = _MARKDOWN.parse("\n".join(lines))
    return [
        _Heading(int(t.tag[1:]), tokens[i + 1].content.replace("\n", " ").strip(), t.map[0], t.map[1])
        for i, t in enumerate(tokens)
        if t.type == "heading_open" and t.level == 0 and t.map is not None
    ]


def split_markdown_sections(text: str) -> list[tuple[str, str]]:
    """``(heading, body)`` pairs of a Markdown text; one untitled section when it has none.

    >>> split_markdown_sections("# Tea\\n\\n## Origins\\nYunnan.\\n\\n## Trade\\nCaravans.\\n")
    [('Origins', 'Yunnan.'), ('Trade', 'Caravans.')]
    >>> split_markdown_sections("Intro words.\\n# One\\nA.\\n# Two\\nB."), split_markdown_sections("Plain.")
    ([('', 'Intro words.'), ('One', 'A.'), ('Two', 'B.')], [('', 'Plain.')])
    >>> split_markdown_sections("# Setup\\n```bash\\n# install packages\\npip install tea\\n```\\n")
    [('Setup', '```bash\\n# install packages\\npip install tea\\n```')]
    """
    lines = re.sub(r"\r\n?", "\n", text).split("\n")
    found = _headings(lines)
    levels = Counter(h.level for h in found)
    repeated = [level for level, n in levels.items() if n > 1]
    headings = [h for h in found if h.level == min(repeated)] if repeated else found
    if not headings:
        return [("", text.strip())]
    sections = []
    preamble = lines[: headings[0].start]
    heading_lines = {n for h in found for n in range(h.start, h.end)}
    if count_words("\n".join(line for n, line in enumerate(preamble) if n not in heading_lines)) > 0:
        sections.append(("", "\n".join(preamble).strip()))
    for i, heading in enumerate(headings):
        end = headings[i + 1].start if i + 1 < len(headings) else len(lines)
        sections.append((heading.title, "\n".join(lines[heading.end : end]).strip()))
    return sections


def normalise_title(title: str) -> str:
    """Lowercase, punctuation and Markdown emphasis out, whitespace collapsed.

    >>> normalise_title("  **The Silk   Road:** Origins ")
    'the silk road origins'
    """
    return " ".join(re.sub(r"[\W_]+", " ", title.lower()).split())


@dataclass(frozen=True)
class PlanAdherence:
    """How closely the written sections follow the plan.

    ``budget_error``: mean of |words - budget| / budget over the planned sections;
    ``on_budget``: share of sections within ``BUDGET_TOLERANCE`` of their budget;
    ``heading_match``: share of planned titles found among the document's headings.
    """

    budget_error: float
    on_budget: float
    heading_match: float


def plan_adherence(
    budgets: Sequence[int],
    words: Sequence[int],
    titles: Sequence[str],
    headings: Sequence[str],
    tolerance: float = BUDGET_TOLERANCE,
) -> PlanAdherence:
    """Compare planned budgets and titles with the written word counts and headings.

    >>> plan_adherence([100, 200], [110, 100], ["Origins", "Trade routes"], ["Origins", "Trade"])
    PlanAdherence(budget_error=0.3, on_budget=0.5, heading_match=0.5)
    """
    if not budgets or len(budgets) != len(words) or len(budgets) != len(titles):
        raise ValueError("budgets, words and titles must be non-empty and of the same length")
    errors = [abs(w - b) / b for b, w in zip(budgets, words, strict=True)]
    found = {normalise_title(h) for h in headings}
    return PlanAdherence(
        budget_error=fmean(errors),
        on_budget=sum(e <= tolerance for e in errors) / len(errors),
        heading_match=sum(normalise_title(t) in found for t in titles) / len(titles),
    )
