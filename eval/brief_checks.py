"""Precision and recall of the judge-free brief checks on the hand-labelled set, and their speed.

    .venv/bin/python eval/brief_checks.py                 # the tables (MiniLM too, if installed)
    .venv/bin/python eval/brief_checks.py --no-embedding  # lexical only (core install)
    .venv/bin/python eval/brief_checks.py --calibrate     # on-brief thresholds, dev paragraphs only

Checks, each against the labels of eval/labels/ (README there: the guide), on the ``dev`` half
(what the checks were written and tuned on) and the ``held`` half (scored once, reported):

- talk: an item is flagged when ``talk_spans`` finds a sentence or line of talk in it;
- off brief, by scorer: a paragraph is flagged when its similarity to the brief is below the
  scorer's threshold (the positive class is "off brief", what the check exists to catch; the
  "on brief" class is shown beside it); lines are shown too, though no scorer is made for them;
- language: a section or direct answer is flagged when it does not ``matches`` its brief's
  language (``brief_language``).

Then the time each check takes per 1,000 words on this machine, and the on-topic share of the
committed English agent documents by the lexical scorer against the issue's held-out
definition (all-MiniLM-L6-v2 cosine >= 0.25 per 150-word chunk).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from agentwrite.length import count_words
from agentwrite.writing.language import brief_language, matches
from agentwrite.writing.talk import talk_spans
from agentwrite.writing.topic import EmbeddingScorer, LexicalScorer, TopicScorer, on_topic_share

HERE = Path(__file__).resolve().parent
ITEMS = HERE / "labels" / "brief_checks.jsonl"
SECTIONS = HERE / "labels" / "section_language.jsonl"
RESULTS = HERE / "results"
SPLITS = ("dev", "held")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def precision_recall(pairs: Iterable[tuple[bool, bool]]) -> tuple[float, float, int, int]:
    """Precision and recall of (predicted, true) pairs, with the counts of true and predicted
    positives (1.0 where nothing was predicted, or nothing was there to find).

    >>> precision_recall([(True, True), (True, False), (False, True), (False, False)])
    (0.5, 0.5, 2, 2)
    """
    pairs = list(pairs)
    hits = sum(1 for predicted, true in pairs if predicted and true)
    predicted = sum(1 for p, _ in pairs if p)
    true = sum(1 for _, t in pairs if t)
    return (hits / predicted if predicted else 1.0, hits / true if true else 1.0, true, predicted)


def row(name: str, by_split: dict[str, list[tuple[bool, bool]]]) -> str:
    cells = []
    for split in SPLITS:
        precision, recall, true, _ = precision_recall(by_split[split])
        cells.append(f"{precision:.3f} | {recall:.3f} | {true} of {len(by_split[split])}")
    return f"| {name} | " + " | ".join(cells) + " |"


def talk_rows(items: list[dict[str, Any]]) -> list[str]:
    rows = []
    for name, keep in (
        ("talk: all items", lambda item: True),
        ("talk: lines", lambda item: item["unit"] == "line"),
        ("talk: paragraphs", lambda item: item["unit"] == "paragraph"),
        ("talk: Chinese briefs", lambda item: item["language"] == "zh"),
        ("talk, with the learned model: all items", lambda item: True),
    ):
        learned = "learned" in name
        by_split = {
            split: [
                (bool(talk_spans(item["text"], learned=learned)), item["talk"])
                for item in items
                if item["split"] == split and keep(item)
            ]
            for split in SPLITS
        }
        rows.append(row(name, by_split))
    return rows


def similarities(items: list[dict[str, Any]], topic: TopicScorer) -> list[float]:
    return [topic.similarities([item["text"]], item["brief"])[0] for item in items]


def brief_rows(items: list[dict[str, Any]], topic: TopicScorer) -> list[str]:
    rows = []
    for unit, english_only in (("paragraph", False), ("paragraph", True), ("line", False)):
        chosen = [i for i in items if i["unit"] == unit and (i["language"] == "en" or not english_only)]
        scores = similarities(chosen, topic)
        for positive in ("off", "on"):
            by_split: dict[str, list[tuple[bool, bool]]] = {split: [] for split in SPLITS}
            for item, score in zip(chosen, scores, strict=True):
                on = score >= topic.threshold
                pair = (not on, not item["on_brief"]) if positive == "off" else (on, item["on_brief"])
                by_split[item["split"]].append(pair)
            which = f"{unit}s, English briefs" if english_only else f"{unit}s"
            name = f"{positive} brief: {topic.name} < {topic.threshold} ({which})"
            if positive == "on":
                name = f"(on brief: {topic.name} >= {topic.threshold}, {which})"
            rows.append(row(name, by_split))
    return rows


def language_rows(sections: list[dict[str, Any]]) -> list[str]:
    by_split: dict[str, list[tuple[bool, bool]]] = {split: [] for split in SPLITS}
    for section in sections:
        flagged = not matches(section["text"], brief_language(section["brief"]))
        by_split[section["split"]].append((flagged, not section["in_brief_language"]))
    return [row("not in the brief's language (sections, documents)", by_split)]


def calibrate(items: list[dict[str, Any]], topic: TopicScorer) -> None:
    """Each threshold's precision and recall on the dev paragraphs (both classes): the one
    with the best worst figure (ties: the larger) is the scorer's ``threshold``."""
    dev = [item for item in items if item["split"] == "dev" and item["unit"] == "paragraph"]
    scores = similarities(dev, topic)
    print(f"\n{topic.name}: dev paragraphs ({len(dev)}), off-brief P R, on-brief P R, worst")
    best = (0.0, 0.0)
    for step in range(1, 60):
        threshold = step / 100
        off = precision_recall((s < threshold, not i["on_brief"]) for i, s in zip(dev, scores, strict=True))
        on = precision_recall((s >= threshold, i["on_brief"]) for i, s in zip(dev, scores, strict=True))
        worst = min(off[0], off[1], on[0], on[1])
        best = max(best, (worst, threshold))
        print(f"{threshold:.2f}  {off[0]:.3f} {off[1]:.3f}  {on[0]:.3f} {on[1]:.3f}  {worst:.3f}")
    print(f"best: {best[1]:.2f} (worst figure {best[0]:.3f})")


def per_1000_words(check: Callable[[str], object], texts: list[str], repeat: int = 3) -> float:
    """Milliseconds ``check`` takes per 1,000 words of ``texts`` (best of ``repeat`` passes)."""
    words = sum(count_words(text) for text in texts)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            check(text)
        best = min(best, time.perf_counter() - started)
    return 1000 * best / words * 1000


def speed_rows(sections: list[dict[str, Any]], embedding: bool) -> list[str]:
    texts = [section["text"] for section in sections]
    brief = {section["text"]: section["brief"] for section in sections}
    lexical = LexicalScorer()
    on_topic_share(texts[0], brief[texts[0]], lexical)  # word lists loaded outside the timing
    matches(texts[0], brief_language(brief[texts[0]]))
    checks: list[tuple[str, Callable[[str], object]]] = [
        ("talk_spans", talk_spans),
        ("talk_spans, with the learned model", lambda text: talk_spans(text, learned=True)),
        ("matches(language)", lambda text: matches(text, brief_language(brief[text]))),
        ("on_topic_share, lexical", lambda text: on_topic_share(text, brief[text], lexical)),
    ]
    if embedding:
        minilm = EmbeddingScorer()
        on_topic_share(texts[0], brief[texts[0]], minilm)
        checks.append(
            ("on_topic_share, minilm (CPU)", lambda text: on_topic_share(text, brief[text], minilm))
        )
    words = sum(count_words(text) for text in texts)
    rows = [f"| check | ms per 1,000 words ({len(texts)} texts, {words} words) |", "|---|---:|"]
    for name, check in checks:
        rows.append(f"| {name} | {per_1000_words(check, texts, repeat=1 if 'minilm' in name else 3):.2f} |")
    return rows


def english_documents() -> list[tuple[str, str, str]]:
    """(run, brief, text) of each committed agent document whose brief is English."""
    documents = []
    for path in sorted(RESULTS.glob("**/documents/*.json")):
        doc = json.loads(path.read_text("utf-8"))
        if brief_language(doc["brief"]["instruction"]).code != "en":
            continue
        text = "\n\n".join(section["text"] for section in doc["sections"])
        documents.append((str(path.parent.parent.relative_to(RESULTS)), doc["brief"]["instruction"], text))
    return documents


def document_rows() -> list[str]:
    """On-topic share by the lexical scorer against MiniLM at 0.25 (the held-out definition)."""
    documents = english_documents()
    lexical, minilm = LexicalScorer(), EmbeddingScorer()
    minilm.threshold = 0.25
    pairs = [(on_topic_share(t, b, lexical), on_topic_share(t, b, minilm)) for _, b, t in documents]
    runs: dict[str, list[tuple[float, float]]] = {}
    for (run, _, _), pair in zip(documents, pairs, strict=True):
        runs.setdefault(run, []).append(pair)
    rows = ["| run | English documents | lexical (mean) | MiniLM >= 0.25 (mean) |", "|---|---:|---:|---:|"]
    for run, values in sorted(runs.items()):
        lex = statistics.mean(v[0] for v in values)
        emb = statistics.mean(v[1] for v in values)
        rows.append(f"| {run} | {len(values)} | {lex:.2f} | {emb:.2f} |")
    lex_all, emb_all = [p[0] for p in pairs], [p[1] for p in pairs]
    correlation = statistics.correlation(lex_all, emb_all) if len(pairs) > 2 else float("nan")
    gap = statistics.mean(abs(a - b) for a, b in pairs)
    rows.append(
        f"| all | {len(pairs)} | {statistics.mean(lex_all):.2f} | {statistics.mean(emb_all):.2f} |\n\n"
        f"Per document: Pearson r {correlation:.2f}, mean absolute difference {gap:.2f}."
    )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="print the threshold grid on dev paragraphs")
    parser.add_argument("--no-embedding", action="store_true", help="skip the MiniLM scorer")
    args = parser.parse_args()
    items, sections = read_jsonl(ITEMS), read_jsonl(SECTIONS)
    scorers: list[TopicScorer] = (
        [LexicalScorer()] if args.no_embedding else [LexicalScorer(), EmbeddingScorer()]
    )
    if args.calibrate:
        for topic in scorers:
            calibrate(items, topic)
        return 0
    print(f"Machine: {platform.machine()}, {platform.processor() or platform.system()}\n")
    print("| check | dev precision | dev recall | dev positives", end=" ")
    print("| held precision | held recall | held positives |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for line in talk_rows(items):
        print(line)
    for topic in scorers:
        for line in brief_rows(items, topic):
            print(line)
    for line in language_rows(sections):
        print(line)
    print()
    for line in speed_rows(sections, embedding=not args.no_embedding):
        print(line)
    if not args.no_embedding:
        print()
        for line in document_rows():
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
