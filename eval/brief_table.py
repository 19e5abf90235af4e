"""The keeping-to-the-brief table (issue 23): one row per scored run folder.

    .venv/bin/python eval/brief_table.py eval/results/brief_cpu/direct eval/results/brief_cpu/agent_before ...

Each folder is an ``agentwrite eval run`` output that ``agentwrite eval score`` has scored
(scores.json, item_scores.jsonl). Columns: answered items, S_l (LongBench-Write, answered
items), whole-document repeated-sentence rate, lines of talk about the writing per 1,000
words and the on-topic share by the checks' lexical scorer (``eval score``'s figures), the
on-topic share as the issue's held-out count defines it (150-word chunks of the English
answers whose all-MiniLM-L6-v2 cosine to the brief is at least 0.25; needs the ``eval``
extra), the language-match rate, gibberish, the extra tokens the checks spent (their share of
the run's completion tokens; agent runs with checks only) and the mean wall time per item.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from agentwrite.writing.language import brief_language
from agentwrite.writing.talk import talk_per_1000_words
from agentwrite.writing.topic import EmbeddingScorer, chunk_text

HELD_OUT_COSINE = 0.25
"""The issue's held-out on-topic threshold for a 150-word chunk."""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def minilm_on_topic(predictions: list[dict[str, Any]], scorer: EmbeddingScorer) -> float | None:
    """Mean over English answers of the share of their 150-word chunks within the held-out
    cosine of their brief (None without English answers)."""
    shares = []
    for row in predictions:
        if brief_language(row["prompt"]).code != "en":
            continue
        chunks = chunk_text(row["response"], 150) or [""]
        cosines = scorer.similarities(chunks, row["prompt"])
        shares.append(sum(1 for c in cosines if c >= HELD_OUT_COSINE) / len(cosines))
    return statistics.mean(shares) if shares else None


def extra_tokens(run: Path) -> str:
    """The checks' re-asks' tokens as a share of the run's other tokens, from the sidecars."""
    docs = [json.loads(p.read_text("utf-8")) for p in sorted((run / "documents").glob("*.json"))]
    if not docs or not any("check_tokens" in d for d in docs):
        return "-"
    extra = sum(d.get("check_tokens", 0) for d in docs)
    total = sum(d["usage"]["prompt_tokens"] + d["usage"]["completion_tokens"] for d in docs)
    return f"{extra / max(1, total - extra):.2f}"


def learned_talk(predictions: list[dict[str, Any]]) -> float:
    """Mean talk lines per 1,000 words by the patterns and the learned talk model, counted
    here from the responses (runs scored before the model existed have no such figure)."""
    answered = [p["response"] for p in predictions if p["response"].strip()]
    return statistics.mean(talk_per_1000_words(r, learned=True) for r in answered) if answered else 0.0


def row(run: Path, scorer: EmbeddingScorer | None) -> list[str]:
    scores = json.loads((run / "scores.json").read_text("utf-8"))
    predictions = read_jsonl(run / "predictions.jsonl")
    checks, coherence = scores["brief_checks"], scores["coherence"]
    minilm = minilm_on_topic(predictions, scorer) if scorer is not None else None
    seconds = statistics.mean(p["seconds"] for p in predictions) if predictions else 0.0
    return [
        run.name,
        f"{scores['items']} of {scores['items'] + scores['failed_items']}",
        f"{scores['s_l']:.1f}",
        f"{coherence['document_repeated_sentence_rate']:.3f}",
        f"{checks['talk_per_1000_words']:.2f}",
        f"{learned_talk(predictions):.2f}",
        f"{checks['on_topic']:.2f}",
        "-" if minilm is None else f"{minilm:.2f}",
        f"{checks['language_match_rate']:.2f}",
        f"{coherence['gibberish_rate']:.3f}",
        extra_tokens(run),
        f"{seconds:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--no-embedding", action="store_true", help="skip the MiniLM column")
    args = parser.parse_args()
    scorer = None if args.no_embedding else EmbeddingScorer()
    head = ["run", "items", "S_l", "repeated", "talk/1k", "talk+model/1k", "on-topic", "MiniLM>=0.25 (en)",
            "language", "gibberish", "extra tokens", "s/item"]  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for run in args.runs:
        print("| " + " | ".join(row(run, scorer)) + " |")


if __name__ == "__main__":
    main()
