"""Statistics of a dataset build, from its ``meta.jsonl``: ``stats.json`` and a length plot."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from statistics import median
from typing import Any

from agentwrite.dataset.journal import META
from agentwrite.dataset.preference import PreferencePair, load_pairs
from agentwrite.domain import endpoint_totals
from agentwrite.files import read_jsonl, write_json

STATS_FILE = "stats.json"
PLOT_FILE = "lengths.png"


def summarise(values: list[float]) -> dict[str, float]:
    """Count, total, mean, median, min and max of some numbers (zeros when empty).

    >>> summarise([1, 2, 6])
    {'count': 3, 'total': 9, 'mean': 3.0, 'median': 2, 'min': 1, 'max': 6}
    """
    if not values:
        return {"count": 0, "total": 0, "mean": 0.0, "median": 0, "min": 0, "max": 0}
    return {
        "count": len(values),
        "total": sum(values),
        "mean": round(sum(values) / len(values), 2),
        "median": median(values),
        "min": min(values),
        "max": max(values),
    }


def _throughput(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per build session: documents, generated tokens and tokens per second of wall time
    from the session's start to its last finished document."""
    sessions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if "usage" in record and record.get("finished_at"):
            sessions[record["session"]].append(record)
    out = []
    for start, items in sorted(sessions.items()):
        last = max(datetime.fromisoformat(r["finished_at"]) for r in items)
        seconds = (last - datetime.fromisoformat(start)).total_seconds()
        tokens = sum(r["usage"]["completion_tokens"] for r in items)
        out.append(
            {
                "session": start,
                "documents": len(items),
                "completion_tokens": tokens,
                "seconds": round(seconds, 3),
                "completion_tokens_per_second": round(tokens / seconds, 2) if seconds > 0 else None,
            }
        )
    return out


def compute_stats(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The statistics of a build from its meta records (see ``datasets/README.md``)."""
    accepted = [r for r in records if r["status"] == "accepted"]
    written = [r for r in records if "words" in r]
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {
        "type": defaultdict(list),
        "language": defaultdict(list),
    }
    for record in accepted:
        for key in groups:
            groups[key][record[key]].append(record)
    return {
        "instructions": len(records),
        "accepted": len(accepted),
        "rejected": len(records) - len(accepted),
        "acceptance_rate": round(len(accepted) / len(records), 4) if records else 0.0,
        "reject_reasons": dict(Counter(r["reason"] for r in records if r["status"] == "rejected")),
        "words": summarise([r["words"] for r in accepted]),
        "tokens": summarise([r["tokens"] for r in accepted]),
        "length_score": summarise([r["length_score"] for r in written]),
        "by_type": {k: _group(v) for k, v in sorted(groups["type"].items())},
        "by_language": {k: _group(v) for k, v in sorted(groups["language"].items())},
        "tokenizers": sorted({r["tokenizer"] for r in written}),
        "usage": {
            key: sum(r["usage"][key] for r in records if "usage" in r)
            for key in ("prompt_tokens", "completion_tokens", "cached_tokens", "requests")
        },
        "throughput": _throughput(records),
        "endpoints": endpoint_totals(records),
    }


def pair_stats(pairs: list[PreferencePair]) -> dict[str, Any]:
    """How many preference pairs there are, by kind, their margins, and how often each score
    separated chosen from rejected.

    >>> pair = PreferencePair(id="d#s1", instruction_id="d", kind="section", margin=0.5,
    ...     prompt=[{"role": "user", "content": "Q"}], chosen="a", rejected="b", separated_by=["talk"])
    >>> stats = pair_stats([pair]); stats["count"], stats["by_kind"], stats["separated_by"]
    (1, {'section': 1}, {'talk': 1})
    """
    return {
        "count": len(pairs),
        "instructions": len({p.instruction_id for p in pairs}),
        "by_kind": dict(sorted(Counter(p.kind for p in pairs).items())),
        "margin": summarise([p.margin for p in pairs]),
        "separated_by": dict(Counter(s for p in pairs for s in p.separated_by).most_common()),
    }


def _group(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "documents": len(records),
        "words": summarise([r["words"] for r in records]),
        "tokens": summarise([r["tokens"] for r in records]),
    }


def plot_lengths(records: list[dict[str, Any]], path: Path) -> None:
    """Histogram of accepted documents' lengths by language, and produced vs. requested."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    accepted = [r for r in records if r["status"] == "accepted"]
    written = [r for r in records if "words" in r]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    languages = sorted({r["language"] for r in accepted})
    if accepted:
        left.hist(
            [[r["words"] for r in accepted if r["language"] == lang] for lang in languages],
            bins=20,
            stacked=True,
            label=languages,
        )
        left.legend(title="language")
    left.set(title=f"Accepted documents ({len(accepted)})", xlabel="words", ylabel="documents")
    for status, colour in (("accepted", "tab:green"), ("rejected", "tab:red")):
        chosen = [r for r in written if r["status"] == status]
        right.scatter(
            [r["requested_words"] for r in chosen],
            [r["words"] for r in chosen],
            s=12,
            c=colour,
            label=status,
            alpha=0.7,
        )
    if written:
        top = max(max(r["requested_words"], r["words"], 1) for r in written)
        right.plot([1, top], [1, top], color="grey", linewidth=0.8, label="y = x")
        right.set(xscale="log", yscale="log")
        right.legend()
    right.set(title="Produced vs. requested length", xlabel="requested words", ylabel="produced words")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_stats(out_dir: Path) -> dict[str, Any]:
    """Compute the stats of the build in ``out_dir`` (with its pairs' when it holds a
    ``pairs.jsonl``); write ``stats.json`` and the plot."""
    out_dir = Path(out_dir)
    records = read_jsonl(out_dir / META)
    stats = compute_stats(records)
    if pairs := load_pairs(out_dir):
        stats["pairs"] = pair_stats(pairs)
    write_json(out_dir / STATS_FILE, stats)
    plot_lengths(records, out_dir / PLOT_FILE)
    return stats
