"""The labels small models put before a heading or a main point ("Title 1:", "Paragraph 2",
"Section 3 -", "第3部分："): found and stripped. The writer would echo them in the text."""

from __future__ import annotations

import re

_EN_LABEL_WORD = r"(?:title|subtitle|heading|paragraph|section|part|chapter|step|topic|main\s*point)"
_EN_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)"
)
_ZH_NUMBER = r"[\d一二三四五六七八九十百零〇两]+"
_ZH_LABEL_WORD = r"(?:标题|段落|部分|章节|小节|主要内容|要点|主题)"
_LABEL = re.compile(
    r"^(?P<lead>[\s*_#>`\"'“‘\[(]*)"
    r"(?P<label>"
    # "Title 1", "Section 3.2:", "Part #4 The Harvest": a number, then the end, a separator or
    # a capital ("Chapter 11 bankruptcy" and "Section 8 housing" are titles, not labels)
    rf"{_EN_LABEL_WORD}\s*#?\s*\d{{1,3}}(?:\.\d{{1,3}})*"
    r"(?=\s*$|\s*[:：.\-–—)\]*_]|\s+(?-i:[A-Z])|\s+[\u4e00-\u9fff\"“'‘])"
    # "Part One:", "Chapter two -" (a number word needs a separator after it)
    rf"|{_EN_LABEL_WORD}\s+{_EN_NUMBER_WORD}(?=\s*[:：.\-–—)\]*_])"
    # "Title:", "Main point:", "Title - " (no number: a colon or a spaced dash)
    rf"|{_EN_LABEL_WORD}(?=\s*[:：]|\s+[-–—]\s)"
    # "1. Local food", "2) Getting there": an enumeration (the stitcher numbers nothing)
    r"|\d{1,3}[.):](?=\s+\S)"
    # "第3部分", "第二章"
    rf"|第\s*{_ZH_NUMBER}\s*(?:部分|段落|段|章|节|篇|部)"
    # "段落2", "部分 3", "标题："
    rf"|{_ZH_LABEL_WORD}\s*{_ZH_NUMBER}|{_ZH_LABEL_WORD}(?=\s*[:：])"
    r")"
    r"[\s:：.\-–—、，,)）\]]*[*_`]*\s*",
    re.IGNORECASE,
)
_CLOSERS = {"*": "*", "_": "_", "`": "`", '"': '"', "'": "'", "“": "”", "‘": "’"}


def label_of(text: str) -> str:
    """The label at the start of a title or main point, or ``""`` when there is none.

    A label is a label word (title, paragraph, section, part, chapter, heading, topic, main
    point, or 标题, 段落, 部分, 第N章...) at the very start, followed by a number or a colon.
    Markdown around it does not hide it. Ordinary titles that begin with such a word do not
    count.

    >>> label_of("Title 1: Starting a Vegetable Garden"), label_of("**Section 3 -** Soil")
    ('Title 1', 'Section 3')
    >>> label_of("Paragraph 2"), label_of("第3部分：昆明"), label_of("段落2 大理"), label_of("Title: Tea")
    ('Paragraph 2', '第3部分', '段落2', 'Title')
    >>> label_of("Part of the problem"), label_of("Chapter and verse"), label_of("Chapter 11 bankruptcy")
    ('', '', '')
    """
    found = _LABEL.match(text)
    return found.group("label").strip() if found else ""


def strip_labels(text: str) -> str:
    """``text`` without the labels at its start (and markdown left unbalanced by removing them).

    >>> strip_labels("**Title 1:** Starting a Vegetable Garden")
    'Starting a Vegetable Garden'
    >>> strip_labels("Paragraph 1 - Main Point: The soil."), strip_labels("Title 2:")
    ('The soil.', '')
    >>> strip_labels("Chapter and verse")
    'Chapter and verse'
    """
    stripped = text
    for _ in range(4):  # "Paragraph 1 - Main Point: ..." carries two
        found = _LABEL.match(stripped)
        if not found:
            break
        stripped = stripped[found.end() :]
        for opener in found.group("lead"):
            closer = _CLOSERS.get(opener)
            if closer and stripped.endswith(closer):
                stripped = stripped.rstrip(closer).rstrip()
    return stripped.strip()
