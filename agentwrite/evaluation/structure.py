"""A response's sections and how well an agent run kept to its plan.

Without a sidecar, a response is split at its Markdown headings: at the shallowest heading
level used more than once (``## `` under a ``# `` title, as the stitcher writes it), or at
every heading when no level repeats. Text before the first such heading is a preamble
section with an empty title, kept only when it holds words beyond headings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

from agentwrite.length import count_words

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$", re.MULTILINE)

BUDGET_TOLERANCE = 0.2
"""A section within this relative distance of its budget counts as on budget."""


def split_markdown_sections(text: str) -> list[tuple[str, str]]:
    """``(heading, body)`` pairs of a Markdown text; one untitled section when it has none.

    >>> split_markdown_sections("# Tea\\n\\n## Origins\\nYunnan.\\n\\n## Trade\\nCaravans.\\n")
    [('Origins', 'Yunnan.'), ('Trade', 'Caravans.')]
    >>> split_markdown_sections("Intro words.\\n# One\\nA.\\n# Two\\nB."), split_markdown_sections("Plain.")
    ([('', 'Intro words.'), ('One', 'A.'), ('Two', 'B.')], [('', 'Plain.')])
    """
    headings = list(_HEADING.finditer(text))
    levels = Counter(len(m.group(1)) for m in headings)
    repeated = [level for level, n in levels.items() if n > 1]
    if repeated:
        headings = [m for m in headings if len(m.group(1)) == min(repeated)]
    if not headings:
        return [("", text.strip())]
    sections = []
    preamble = text[: headings[0].start()]
    if count_words(_HEADING.sub("", preamble)) > 0:
        sections.append(("", preamble.strip()))
    for i, match in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        sections.append((match.group(2).strip(), text[match.end() : end].strip()))
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
