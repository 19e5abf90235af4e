"""Stitch and the heading rule the real-model tests ask for agree on every heading."""

import pytest

from agentwrite.writing.markdown import headings_kept, stitch

CASES = [
    ("Tea", ["Origins", "Trade."]),
    ("Tea.", ["tea!", "<<Trade", "Title 3", "Trade.", "Ports and ships."]),
    ("A small garden", ["Planning the plan is a guide for a small.", "Wait...", "## Soil\n and water"]),
    ("Tides", ["The Moon", "Here's the next part of the guide", "{{#3.section}}", "Springs"]),
]


@pytest.mark.parametrize(("title", "headings"), CASES)
def test_stitch_writes_exactly_the_headings_kept(title: str, headings: list[str]) -> None:
    document = stitch(title, [(heading, f"Body {i}.") for i, heading in enumerate(headings)])
    written = [line[3:] for line in document.splitlines() if line.startswith("## ")]
    assert written == [heading for heading in headings_kept(title, headings) if heading is not None]
    assert all(f"Body {i}." in document for i in range(len(headings)))


def test_headings_that_talk_about_the_writing_are_left_out() -> None:
    kept = headings_kept(
        "Tides", ["The Moon", "Here's the next part of the guide", "{{#3.section}}", "Springs"]
    )
    assert kept == ["The Moon", None, None, "Springs"]
