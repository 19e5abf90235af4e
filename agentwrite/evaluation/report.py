"""Markdown report with PNG plots for one or more scored runs: the core of ``agentwrite eval report``.

Plots (matplotlib, Agg backend, 100 dpi):

- ``length.png``: required against produced length on log-log axes with the y = x line;
- ``s_l_by_bucket.png`` and ``s_l_by_type.png``: S_l per length bucket and per type;
- ``coherence_by_position.png``: per-section figures against relative position in the
  document (first section 0, last 1), averaged in five bins;
- ``position_curve.png``: the run's mean position curve, first tenth of the document to
  last (talk per 1,000 words, on-topic share, repeated sentences, gibberish).
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from agentwrite.errors import InputError
from agentwrite.evaluation.longbench import BUCKETS, DIMENSIONS
from agentwrite.evaluation.position import CURVE_FIGURES
from agentwrite.evaluation.score_files import ITEM_SCORES, SCORES, LengthGroup, RunScore, read_scores
from agentwrite.files import read_numbered_jsonl, write_text
from agentwrite.files.output_paths import output_file, output_folder

log = logging.getLogger(__name__)

DPI = 100
REPORT = "report.md"
PLOTS = (
    "length.png",
    "s_l_by_bucket.png",
    "s_l_by_type.png",
    "coherence_by_position.png",
    "position_curve.png",
)
FIGSIZE = (6.4, 4.8)
"""Every plot is FIGSIZE inches at DPI: 640 x 480 pixels."""
POSITION_BINS = 5
POSITION_FIGURES = ("brief_similarity", "adjacent_similarity", "distinct_2", "repeated_4gram_rate")
LENGTH_FLOOR = 10
"""Produced lengths below this are drawn at it (a log axis has no zero)."""
QUALITY_FIGURES = (
    ("repeated sentences (document)", "document_repeated_sentence_rate"),
    ("repeated sentences (across sections)", "cross_section_repeated_sentence_rate"),
    ("repeated 4-grams", "repeated_4gram_rate"),
    ("distinct-2", "distinct_2"),
    ("gibberish", "gibberish_rate"),
)
"""Figures shown right under S_l, so that length is never read without repetition and gibberish."""
BRIEF_FIGURES = (
    ("talk per 1,000 words", "talk_per_1000_words"),
    ("talk per 1,000 words (pooled)", "talk_per_1000_words_pooled"),
    ("talk per 1,000 words (patterns and learned model)", "talk_per_1000_words_learned"),
    ("on-topic", "on_topic"),
    ("on-topic (lowest)", "on_topic_lowest"),
    ("language match", "language_match_rate"),
)
"""How the responses keep to their briefs, shown after the quality figures."""


@dataclass(frozen=True)
class ScoredRun:
    """A run folder's scores and item scores, with the label it gets in the report."""

    label: str
    scores: RunScore
    items: list[dict[str, Any]]


def load_run(run_dir: Path, label: str | None = None) -> ScoredRun:
    """Read a scored run; InputError when it has not been scored."""
    if not (run_dir / SCORES).exists():
        raise InputError(f"{run_dir} has no {SCORES}; run `agentwrite eval score {run_dir}` first")
    scores = read_scores(run_dir)
    items = [item for _, item in read_numbered_jsonl(run_dir / ITEM_SCORES)]
    return ScoredRun(label or run_dir.name, scores, items)


def _labels(run_dirs: list[Path]) -> list[str]:
    """Folder names, made unique with their parents when two are the same.

    >>> _labels([Path("a/x"), Path("b/x"), Path("c/y")])
    ['a/x', 'b/x', 'y']
    """
    names = [p.name for p in run_dirs]
    return [f"{p.parent.name}/{p.name}" if names.count(p.name) > 1 else p.name for p in run_dirs]


def position_bin(position: int, count: int, bins: int = POSITION_BINS) -> int:
    """The bin of a section's relative position (index / (count - 1), 0 for a lone section).

    >>> [position_bin(i, 5) for i in range(5)], position_bin(0, 1)
    ([0, 1, 2, 3, 4], 0)
    """
    relative = position / (count - 1) if count > 1 else 0.0
    return min(int(relative * bins), bins - 1)


def coherence_by_position(items: list[dict[str, Any]], figure: str) -> list[float | None]:
    """Mean of a per-section figure in each position bin (None where no section has it)."""
    bins: dict[int, list[float]] = defaultdict(list)
    for item in items:
        sections = item.get("coherence", {}).get("sections", [])
        for record in sections:
            value = record.get(figure)
            if isinstance(value, int | float):
                bins[position_bin(record["position"], len(sections))].append(value)
    return [fmean(bins[b]) if bins[b] else None for b in range(POSITION_BINS)]


def _plot_length(runs: list[ScoredRun], path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    top = LENGTH_FLOOR * 2
    for i, run in enumerate(runs):
        x = [item["length"] for item in run.items]
        y = [max(item["response_length"], LENGTH_FLOOR) for item in run.items]
        top = max(top, *x, *y)
        ax.scatter(x, y, s=40, alpha=0.5, color=f"C{i}", label=run.label)
    limit = top * 1.3
    ax.plot([LENGTH_FLOOR, limit], [LENGTH_FLOOR, limit], "k--", linewidth=1, label="y = x")
    ax.set(xscale="log", yscale="log", xlim=(LENGTH_FLOOR, limit), ylim=(LENGTH_FLOOR, limit))
    ax.set_xlabel("required length (words)")
    ax.set_ylabel("produced length (words)")
    ax.legend(fontsize="small")
    _save(fig, path)


def _plot_bars(
    runs: list[ScoredRun],
    groups_of: Callable[[RunScore], dict[str, LengthGroup]],
    order: list[str],
    title: str,
    path: Path,
) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    width = 0.8 / len(runs)
    for i, run in enumerate(runs):
        groups = groups_of(run.scores)
        present = [j for j, name in enumerate(order) if name in groups]  # no bar where a run has no items
        bars = ax.bar(
            [j + i * width for j in present],
            [groups[order[j]].s_l for j in present],
            width=width,
            color=f"C{i}",
            label=run.label,
        )
        ax.bar_label(bars, [f"n={groups[order[j]].n}" for j in present], fontsize="x-small")
    ax.set_xticks(
        [j + 0.4 - width / 2 for j in range(len(order))], order, rotation=20, ha="right", fontsize="small"
    )
    ax.set_ylim(0, 105)
    ax.set_ylabel("S_l")
    ax.set_title(title)
    ax.legend(fontsize="small")
    _save(fig, path)


def _plot_positions(
    runs: list[ScoredRun],
    path: Path,
    figures: tuple[str, ...],
    values_of: Callable[[ScoredRun, str], list[float | None]],
) -> None:
    """Four figures, each in a panel, against position in the document: ``values_of`` gives
    a run's values of a figure in equal parts of the document, first to last."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(2, 2, figsize=FIGSIZE, dpi=DPI, sharex=True)
    for ax, figure in zip(axes.flat, figures, strict=True):
        for i, run in enumerate(runs):
            values = values_of(run, figure)
            centres = [(b + 0.5) / len(values) for b in range(len(values))]
            points = [(c, v) for c, v in zip(centres, values, strict=True) if v is not None]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", color=f"C{i}", label=run.label)
        ax.set_title(figure.replace("_", " "), fontsize="small")
        ax.tick_params(labelsize="x-small")
    axes[1][0].set_xlabel("position in document", fontsize="small")
    axes[1][1].set_xlabel("position in document", fontsize="small")
    handles = [Line2D([], [], color=f"C{i}", marker="o", label=run.label) for i, run in enumerate(runs)]
    axes[0][0].legend(handles=handles, fontsize="x-small")
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def _cell(value: object) -> str:
    """A table cell: scores with two decimals, rates below 1 with three, none as a dash.

    >>> _cell(89.941), _cell(0.8723), _cell(0.0), _cell(None), _cell("sequential")
    ('89.94', '0.872', '0.00', '–', 'sequential')
    """
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}" if value == 0 or abs(value) >= 1 else f"{value:.3f}"
    return str(value)


def _mode(run: dict[str, object]) -> object:
    """The agent's mode or modes (``"sequential, parallel"`` for a run resumed in another);
    a direct run has none."""
    return run.get("mode") if run.get("target") == "agentwrite" else None


def _bucket_s_l(scores: RunScore, bucket: str) -> float | None:
    group = scores.s_l_by_bucket.get(bucket)
    return group.s_l if group is not None else None


def _table(runs: list[ScoredRun]) -> list[str]:
    scores = [r.scores for r in runs]
    rows: list[tuple[str, list[object]]] = [
        ("target", [s.run.get("target") for s in scores]),
        ("model", [s.run.get("model") for s in scores]),
        ("agent mode", [_mode(s.run) for s in scores]),
        ("items (failed)", [f"{s.items} ({s.failed_items})" for s in scores]),
        ("**S_l**", [s.s_l for s in scores]),
    ]
    rows += [(label, [s.coherence.get(name) for s in scores]) for label, name in QUALITY_FIGURES]
    rows += [(label, [s.brief_checks.get(name) for s in scores]) for label, name in BRIEF_FIGURES]
    rows.append(("on-topic scorer", [s.topic_scorer for s in scores]))
    for name, _, _ in BUCKETS:
        if any(name in s.s_l_by_bucket for s in scores):
            rows.append((f"S_l {name}", [_bucket_s_l(s, name) for s in scores]))
    if any(s.s_q is not None for s in scores):
        rows.append(("**S_q**", [s.s_q for s in scores]))
        for d in DIMENSIONS:
            rows.append((f"S_q {d}", [(s.s_q_by_dimension or {}).get(d) for s in scores]))
        rows.append(("**overall**", [s.overall for s in scores]))
    shown = {name for _, name in QUALITY_FIGURES}
    figures = sorted({k for s in scores for k in s.coherence} - shown)
    rows += [(name, [s.coherence.get(name) for s in scores]) for name in figures]
    adherence = sorted({k for s in scores for k in s.plan_adherence})
    rows += [(f"plan {name}", [s.plan_adherence.get(name) for s in scores]) for name in adherence]
    lines = ["| | " + " | ".join(r.label for r in runs) + " |", "|---" * (len(runs) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(_cell(v) for v in values) + " |" for name, values in rows]
    return lines


TITLE = "# Evaluation report"


def _starts(path: Path, prefix: bytes) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(prefix)) == prefix


def report_files(out_dir: Path) -> list[Path]:
    """The files a report writes in ``out_dir`` (``REPORT``, then ``PLOTS``; links written
    through), checked before anything is written: ``out_dir`` is a folder or new, and each
    file is new or one an earlier report wrote (its ``report.md`` starts with ``TITLE``);
    InputError otherwise."""
    output_folder(out_dir, "--out", owned=lambda _: True)  # a folder, new or not; its files below
    names = (REPORT, *PLOTS)
    if not out_dir.exists():
        return [out_dir / name for name in names]
    there = [name for name in names if os.path.lexists(out_dir / name)]
    earlier = (out_dir / REPORT).is_file() and _starts(out_dir / REPORT, TITLE.encode())
    if there and not earlier:
        raise InputError(
            f"--out {out_dir} holds {there[0]}, which no earlier report wrote; use another folder"
        )
    return [output_file(out_dir / name, "report file") for name in names]


def write_report(run_dirs: list[Path], out_dir: Path) -> Path:
    """Write ``report.md`` and its plots to ``out_dir``; return the report's path."""
    if not run_dirs:
        raise InputError("give at least one scored run folder")
    report, *plots = report_files(out_dir)
    import matplotlib

    matplotlib.use("Agg")
    runs = [load_run(d, label) for d, label in zip(run_dirs, _labels(run_dirs), strict=True)]
    out_dir.mkdir(parents=True, exist_ok=True)
    buckets = [name for name, _, _ in BUCKETS if any(name in r.scores.s_l_by_bucket for r in runs)]
    types = sorted({t for r in runs for t in r.scores.s_l_by_type})
    length, by_bucket, by_type, by_position, curve = plots
    _plot_length(runs, length)
    _plot_bars(runs, lambda s: s.s_l_by_bucket, buckets, "S_l by required length", by_bucket)
    _plot_bars(runs, lambda s: s.s_l_by_type, types, "S_l by type", by_type)
    _plot_positions(
        runs, by_position, POSITION_FIGURES, lambda run, name: coherence_by_position(run.items, name)
    )
    _plot_positions(runs, curve, CURVE_FIGURES, lambda run, name: run.scores.position_curve.get(name, []))
    floored = sum(item["response_length"] < LENGTH_FLOOR for r in runs for item in r.items)
    lines = [
        TITLE,
        "",
        "Formulas: see eval/README.md. S_l follows LongBench-Write; S_q is the judge's mean rating "
        "mapped to 0-100; overall = (S_l + S_q) / 2.",
        "",
        *_table(runs),
        "",
        "## Required versus produced length",
        "",
        "![length](length.png)",
        "",
        f"{floored} response(s) under {LENGTH_FLOOR} words are drawn at {LENGTH_FLOOR}." if floored else "",
        "## S_l by length bucket",
        "",
        "![S_l by bucket](s_l_by_bucket.png)",
        "",
        "## S_l by type",
        "",
        "![S_l by type](s_l_by_type.png)",
        "",
        "## Coherence by position in the document",
        "",
        "![coherence by position](coherence_by_position.png)",
        "",
        "## Figures by tenth of the document",
        "",
        "Each response cut into tenths by word position: lines of talk about the writing per 1,000 "
        "words, the share of 150-word chunks on the brief, the share of sentences repeated anywhere "
        "in the response, and gibberish; the mean over the run's responses.",
        "",
        "![figures by tenth](position_curve.png)",
        "",
    ]
    for run in runs:
        failures = run.scores.run_failures + (run.scores.judge_failures or [])
        if failures:
            lines += [f"## Failures in {run.label}", ""]
            lines += [f"- `{f.key}`: {f.reason}" for f in failures]
            lines.append("")
    write_text(report, "\n".join(lines))
    log.info("wrote %s", report)
    return report
