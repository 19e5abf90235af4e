"""Clean a model's section text and stitch sections into one Markdown document."""

from __future__ import annotations

import re
from collections.abc import Sequence

from agentwrite.plans import near_repeat, strip_labels, talks
from agentwrite.writing.markdown_lines import Fences, atx_heading, is_heading

_BOLD_LINE = re.compile(r"^\s*(\*\*|__)(.+?)\1\s*:?\s*$")
_PLAN_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:paragraph|section|part)\s*\d+\s*(?:[-–—:.]|\*\*)+\s*", re.IGNORECASE
)
_ARTEFACT_LINE = re.compile(
    r"^\s*(?:\W*(?:word\s*count|main\s*point|字数)\s*[:：].*"
    r"|\(?\s*(?:approximately|about|around)?\s*[\d,]+\s*words?\s*\)?\.?)\s*$",
    re.IGNORECASE,
)
_BLANKS = re.compile(r"\n{3,}")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)\s*$")
_BRACKET_LINE = re.compile(r"^\s*<<\s*(?P<text>[^<>]+?)\s*(?:>>)?\s*$")
"""A ``<<Title>>`` line (closed or not): how the bundled model heads a section."""


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text).strip().lower()


def clean_section_text(text: str, title: str) -> str:
    """Strip what does not belong in a section body and tidy its paragraphs.

    Removes leading headings, bold lines or ``<<Title>>`` lines (the stitcher writes the
    heading), AgentWrite-style labels ("Paragraph 3 -"), lines that only state a word count
    or a main point, empty headings ("###") and extra blank lines. Headings inside the text
    (``#``, underlined or ``<<Title>>``) are kept but demoted below the section heading,
    without the brackets; code fences are left alone, and one left open is closed.

    >>> clean_section_text("## Tea Origins\\n\\nParagraph 1 - Tea began in Yunnan.\\n\\n\\n"
    ...                    "Word count: 300\\n# Early trade\\nCaravans.", "Tea origins")
    'Tea began in Yunnan.\\n\\n### Early trade\\nCaravans.'
    >>> clean_section_text("Trade\\n=====\\nCaravans.\\n```\\n# a comment", "Tea")
    '### Trade\\nCaravans.\\n```\\n# a comment\\n```'
    >>> clean_section_text("<<Sustainability in Cities>>\\n\\nGrow food.\\n<<Water\\nRain.", "Tea")
    'Grow food.\\n### Water\\nRain.'
    >>> clean_section_text("Grow food.\\n###\\n#\\nRain.", "Tea")
    'Grow food.\\nRain.'
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and (not lines[0].strip() or _is_leading_title(lines[0], title)):
        lines.pop(0)
    kept: list[str] = []
    fences = Fences()  # code block lines are kept as they are
    code = False  # whether the last line kept is code
    for line in lines:
        if fences.read(line):
            kept.append(line.rstrip())
            code = True
            continue
        line = _PLAN_LABEL.sub("", line)
        if _ARTEFACT_LINE.match(line):
            continue
        if (
            _SETEXT_UNDERLINE.match(line)
            and kept
            and kept[-1].strip()
            and not code
            and not is_heading(kept[-1])
        ):
            kept[-1] = "### " + kept[-1].strip()  # "Text\n====" is a heading too: demote it
            continue
        if found := atx_heading(line):
            if not found.text:
                continue  # an empty heading ("###") is a mark, not a heading: left out
            line = "### " + found.text
        elif bracketed := _BRACKET_LINE.match(line):
            line = "### " + bracketed.group("text")
        kept.append(line.rstrip())
        code = False
    if fences.open:  # a fence the model never closed would swallow the sections after it
        kept.append(fences.open)
    return _BLANKS.sub("\n\n", "\n".join(kept)).strip()


def _is_leading_title(line: str, title: str) -> bool:
    """A first line that is a heading, a bold line, or the section title restated."""
    if is_heading(line) or _BOLD_LINE.match(line) or _BRACKET_LINE.match(line):
        return True
    stripped = _PLAN_LABEL.sub("", line)
    return _norm(stripped) == _norm(title) and bool(_norm(title))


def stitch(title: str, sections: Sequence[tuple[str, str]]) -> str:
    """One Markdown document: the title, then a heading and the body of each section. A
    section heading that is only a label ("Title 2": one the stitch node found no heading
    for), talks about the writing, or only says the document's title or an earlier heading
    again is left out (its body follows the one before; ``headings_kept``), and so are the
    ``<<...>>`` around a heading and a full stop after it.

    >>> print(stitch("Tea", [("Origins", "Tea began in Yunnan."), ("Trade", "Caravans.")]))
    # Tea
    <BLANKLINE>
    ## Origins
    <BLANKLINE>
    Tea began in Yunnan.
    <BLANKLINE>
    ## Trade
    <BLANKLINE>
    Caravans.
    <BLANKLINE>
    >>> stitch("Tea.", [("tea!", "Tea began."), ("<<Trade", "Caravans."), ("Title 3", "Ships."),
    ...                 ("Trade.", "Ports.")]).splitlines()
    ['# Tea', '', 'Tea began.', '', '## Trade', '', 'Caravans.', '', 'Ships.', '', 'Ports.']
    """
    parts = [f"# {_one_line(title)}"]
    kept = headings_kept(title, [heading for heading, _ in sections])
    for (_, body), heading in zip(sections, kept, strict=True):
        if heading is not None:
            parts.append(f"## {heading}")
        if body.strip():
            parts.append(body.strip())
    return "\n\n".join(parts) + "\n"


def headings_kept(title: str, headings: Sequence[str]) -> list[str | None]:
    """Each section heading as ``stitch`` writes it, None where it leaves it out: a heading
    that is only a label, talks about the writing (``plans.talks``: "Here's the guide",
    "{{#8.section}}"), says an earlier heading again, or says the document's ``title`` again,
    word for word or nearly (``plans.near_repeat``).

    >>> headings_kept("Tea", ["Origins", "tea!", "Title 3", "Origins.", "Trade routes.", "Here's more"])
    ['Origins', None, None, None, 'Trade routes', None]
    >>> headings_kept("Starting a Vegetable Garden on a City balcony",
    ...               ["A Guide to Starting a Vegetable Garden on a City balcony", "Soil"])
    [None, 'Soil']
    """
    written = {_norm(title)}
    kept: list[str | None] = []
    for heading in headings:
        line = _one_line(heading)
        said = _norm(heading) in written or near_repeat(heading, title)
        written.add(_norm(heading))
        kept.append(line if strip_labels(heading) and not talks(line) and not said else None)
    return kept


def _one_line(text: str) -> str:
    """Headings are one line with no leading Markdown markers, no ``<<...>>`` and no full stop.

    >>> _one_line("## Big\\n title"), _one_line("<<Water>>"), _one_line("The plan."), _one_line("Wait...")
    ('Big title', 'Water', 'The plan', 'Wait...')
    """
    return re.sub(r"^<<\s*|\s*>>$|(?<![.\s])\.$", "", " ".join(text.split()).lstrip("#").strip())
