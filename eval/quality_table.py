"""The quality table of eval/README.md from scored runs: length next to repetition and gibberish.

    .venv/bin/python eval/quality_table.py LABEL=RUN_DIR [LABEL=RUN_DIR ...]

Each run folder must have been scored (``agentwrite eval score``). Per run: prompts scored,
S_l, the repeated-sentence rate over the whole document (a sentence of 5 words or more that
occurs more than once anywhere) and across sections only, the repeated 4-gram rate,
distinct-2, the gibberish rate, talk about the writing per 1,000 words, the on-topic share
and the language-match rate (blank for runs scored before those figures), the similarity of
adjacent sections (embeddings; blank when scored with ``--no-embeddings`` or for
one-section answers), sections per document, completion tokens spent, and for agent runs
the extra tokens the section checks' re-asks spent, the loops cut and words dropped by the
loop guard (each blank for runs made before it existed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from agentwrite.evaluation.score_files import read_scores

COLUMNS = [
    ("scored", "prompts"),
    ("s_l", "S_l"),
    ("document_repeated_sentence_rate", "repeated sentences (document)"),
    ("cross_section_repeated_sentence_rate", "repeated sentences (across sections)"),
    ("repeated_4gram_rate", "repeated 4-grams"),
    ("distinct_2", "distinct-2"),
    ("gibberish_rate", "gibberish"),
    ("talk_per_1000_words", "talk per 1,000 words"),
    ("on_topic", "on-topic"),
    ("language_match_rate", "language match"),
    ("adjacent_similarity", "adjacent-section similarity"),
    ("section_count", "sections per document"),
    ("completion_tokens", "completion tokens"),
    ("check_tokens", "checks' extra tokens"),
    ("loops_cut", "loops cut"),
    ("words_dropped", "words dropped"),
]


def run_figures(run_dir: Path) -> dict[str, Any]:
    """One run's row: the run-level means of ``scores.json`` plus totals from its files."""
    scores = read_scores(run_dir)
    figures: dict[str, Any] = {"scored": scores.items, "s_l": scores.s_l, **scores.coherence}
    figures |= scores.brief_checks
    lines = (run_dir / "predictions.jsonl").read_text("utf-8").splitlines()
    predictions = [json.loads(line) for line in lines if line.strip()]
    figures["completion_tokens"] = sum(p["usage"]["completion_tokens"] for p in predictions)
    sidecars = [json.loads(f.read_text("utf-8")) for f in sorted((run_dir / "documents").glob("*.json"))]
    if sidecars and all("loops_cut" in s for s in sidecars):
        figures["loops_cut"] = sum(s["loops_cut"] for s in sidecars)
        figures["words_dropped"] = sum(s["words_dropped"] for s in sidecars)
    if sidecars and all("check_tokens" in s for s in sidecars):
        figures["check_tokens"] = sum(s["check_tokens"] for s in sidecars)
    return figures


def cell(value: Any) -> str:
    """A table cell: blank for missing, two decimals for S_l, three for rates, else whole.

    >>> cell(None), cell(0.12345), cell(92.581), cell(1234)
    ('', '0.123', '92.58', '1,234')
    """
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if value > 1 else f"{value:.3f}"
    return f"{value:,}"


def main(argv: list[str]) -> None:
    runs = [arg.partition("=") for arg in argv]
    if not runs or any(not sep for _, sep, _ in runs):
        sys.exit("usage: quality_table.py LABEL=RUN_DIR [LABEL=RUN_DIR ...]")
    print("| run | " + " | ".join(title for _, title in COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for label, _, folder in runs:
        figures = run_figures(Path(folder))
        print(f"| {label} | " + " | ".join(cell(figures.get(name)) for name, _ in COLUMNS) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
