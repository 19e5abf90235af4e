"""Markdown's line rules as CommonMark has them: which line is an ATX heading, which opens or
closes a fenced code block. Every reader of Markdown lines spells them here: the section
cleaner and stitcher (``markdown``), the loop guard and a streamed text's code blocks
(``loop_guard``, ``streamed_text``), the material's reader (``material``) and the plan
repairs (``plans.repair``). They read a line at a time, so a growing text is read once as
it streams; ``evaluation.structure`` parses whole responses with markdown-it-py, whose
CommonMark these rules follow.

An ATX heading is one to six ``#`` indented by at most three spaces (four spaces or a tab
make indented code) and followed by a space, a tab or the line's end: ``## `` is a heading
with no text, ``#hashtag`` is no heading, and the closing ``#``s (after a space) are not part
of the text. A fence is a run of three or more backticks or tildes indented by at most three
spaces; its block ends at a line that starts (after at most three spaces) with a run of the
same character at least as long, or at the text's end.

Two fence rules are looser than CommonMark's, as the loop guard has always read fences (its
recorded decisions, ``tests/fixtures/loop_guard``, hold them): a line that starts with
backticks opens a block even when more backticks follow on it (CommonMark reads
```` ```x``` ```` as inline code; 21 of the 370 recorded streams would be judged otherwise),
and the closing fence may have text after it, which is then no code (CommonMark keeps the
block open, so one fence line followed by prose would hide the rest of a model's text from
the checks). These rules read each line once and never backtrack.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from functools import cache
from typing import NamedTuple

HEADING_START = re.compile(r" {0,3}(#{1,6})(?=[ \t]|$)")
"""The marks that make a line (or a sentence) an ATX heading, with ``match``."""
FENCE_START = re.compile(r" {0,3}(`{3,}|~{3,})")
"""The start of a line that may open a fenced code block, with ``match`` (``opening_fence``)."""


class Heading(NamedTuple):
    level: int
    text: str


def atx_heading(line: str) -> Heading | None:
    """The level and text of an ATX heading line, None when ``line`` is no heading.

    >>> atx_heading("## Tea roads ##"), atx_heading("   # C#"), atx_heading("##")
    (Heading(level=2, text='Tea roads'), Heading(level=1, text='C#'), Heading(level=2, text=''))
    >>> [atx_heading(x) for x in ("#hashtag", "    # code", "\\t# code", "####### seven")]
    [None, None, None, None]
    """
    found = HEADING_START.match(line)
    if found is None:
        return None
    text = line[found.end() :].strip(" \t\n")
    bare = text.rstrip("#")
    if not bare or bare[-1] in " \t":  # a closing sequence: after a space, or the whole text
        text = bare.rstrip(" \t")
    return Heading(len(found.group(1)), text)


def is_heading(line: str) -> bool:
    """Whether ``line`` is an ATX heading (``heading`` without reading its text).

    >>> is_heading("## Tea"), is_heading("#"), is_heading("#1 tip")
    (True, True, False)
    """
    return HEADING_START.match(line) is not None


def opening_fence(line: str, start: int = 0, end: int | None = None) -> str | None:
    """The fence (its backticks or tildes) that ``line[start:end]`` opens, None when it opens
    no code block.

    >>> opening_fence("```python"), opening_fence("~~~~ a `b`"), opening_fence("``"), opening_fence("    ```")
    ('```', '~~~~', None, None)
    """
    found = FENCE_START.match(line, start, len(line) if end is None else end)
    return None if found is None else found.group(1)


@cache
def _closing(fence: str) -> re.Pattern[str]:
    return re.compile(f" {{0,3}}{re.escape(fence)}{re.escape(fence[0])}*")


def closing_fence(line: str, fence: str, start: int = 0, end: int | None = None) -> int | None:
    """Where the fence on ``line[start:end]`` that closes the block ``fence`` opened ends,
    None when the line does not close it. What follows that fence on the line is not code.

    >>> closing_fence("````", "```"), closing_fence("``` and more", "```"), closing_fence("```", "````")
    (4, 3, None)
    """
    found = _closing(fence).match(line, start, len(line) if end is None else end)
    return None if found is None else found.end()


class Fences:
    """Lines read in order, each told whether it belongs to a fenced code block (its fence
    lines included); ``open`` is the fence of the block still open ("" when none is), and
    ``closed_at`` where the last line's closing fence ends (None when it closed none).

    >>> fences = Fences()
    >>> [fences.read(line) for line in ["Prose", "```sh", "# a comment", "```", "# Heading", "~~~"]]
    [False, True, True, True, False, True]
    >>> fences.open
    '~~~'
    """

    def __init__(self) -> None:
        self.open = ""
        self.closed_at: int | None = None

    def read(self, line: str, start: int = 0, end: int | None = None) -> bool:
        """Read the next line (``line[start:end]``): whether it is code."""
        if self.open:
            self.closed_at = closing_fence(line, self.open, start, end)
            if self.closed_at is not None:
                self.open = ""
            return True
        self.closed_at = None
        self.open = opening_fence(line, start, end) or ""
        return bool(self.open)


def prose_lines(lines: Iterable[str]) -> Iterator[str]:
    """The lines outside fenced code blocks.

    >>> list(prose_lines(["Tea.", "```", "# not a heading", "```", "More."]))
    ['Tea.', 'More.']
    """
    fences = Fences()
    return (line for line in lines if not fences.read(line))


class CodeFences:
    """The fenced code blocks of a growing text, read a line at a time as the text grows:
    each line once, when it ends; the last line (not ended yet) is looked at as it stands.

    >>> text = "Prose.\\n```sh\\nls\\n````\\nMore.\\n~~~~\\nopen ~~~\\n~~~"
    >>> fences = CodeFences()
    >>> for end in range(len(text) + 1):  # a character at a time
    ...     fences.advance(text[:end])
    >>> fences.closed, fences.open_at
    ([(7, 20)], 27)
    >>> [p for p in range(len(text)) if fences.in_block(text, p)] == [
    ...     p for p in range(len(text)) if any(a <= p < b for a, b in code_blocks(text))]
    True
    """

    def __init__(self) -> None:
        self.closed: list[tuple[int, int]] = []
        """The blocks that have ended, in order: ``(start, end)``."""
        self.open_at: int | None = None
        """Where the block still open begins (None when none is)."""
        self._starts: list[int] = []
        self._fences = Fences()
        self._line = 0  # the start of the line being read (the last one, not ended yet)
        self._searched = 0  # how far the search for that line's end has gone

    def advance(self, text: str) -> None:
        """Read ``text`` (the text so far: the last one given, and maybe more) up to its end."""
        while (end := text.find("\n", self._searched)) >= 0:
            self._fences.read(text, self._line, end)
            if self.open_at is None and self._fences.open:
                self.open_at = self._line
            elif self.open_at is not None and self._fences.closed_at is not None:
                self.closed.append((self.open_at, self._fences.closed_at))
                self._starts.append(self.open_at)
                self.open_at = None
            self._line = self._searched = end + 1
        self._searched = len(text)

    def in_block(self, text: str, position: int) -> bool:
        """Whether ``position`` of ``text`` (as last advanced to) lies in a code block."""
        if self.open_at is not None:
            if position >= self.open_at and position < self._line:
                return True
            if position >= self._line:  # the last line: up to the fence that closes the block, if it does
                closed = closing_fence(text, self._fences.open, self._line)
                return closed is None or position < closed
        elif position >= self._line and opening_fence(text, self._line):
            return True  # the last line opens a block, as it stands
        i = bisect_right(self._starts, position) - 1
        return i >= 0 and position < self.closed[i][1]


def code_blocks(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each fenced code block of ``text``: from its opening fence to the
    end of its closing fence, or to the text's end.

    >>> code_blocks("Tea.\\n```sh\\nls\\n``` More.\\n~~~\\nopen")
    [(5, 17), (24, 32)]
    """
    fences = CodeFences()
    fences.advance(text + "\n")
    return fences.closed + ([] if fences.open_at is None else [(fences.open_at, len(text))])
