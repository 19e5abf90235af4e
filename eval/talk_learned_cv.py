"""Would a learned talk detector beat the pattern list? A measurement, not a detector.

    .venv/bin/python eval/talk_learned_cv.py     # needs numpy (the eval extra has it)
    .venv/bin/python eval/talk_learned_cv.py --embed   # all-MiniLM-L6-v2 features instead

A logistic regression over each item's word unigrams and bigrams (CJK characters as words)
and the pattern detector's verdict and kinds (``agentwrite.writing.talk``), trained by plain
gradient descent with L2, scored by 5-fold cross-validation grouped by source document (no
document in both the training and the scored folds) over every labelled talk item:
eval/labels/brief_checks.jsonl (dev and held, 444) and brief_checks_fresh.jsonl (152). It
prints precision and recall of the patterns alone, of the learned model at several
thresholds, and of either, over all items and over the fresh ones (the items no pattern was
written against). At 3dd6313 (2026-12-07): patterns 0.750 and 0.471 on the fresh items; the
learned model 0.750 and 0.529 at its best (threshold 0.3), the patterns' answer at 0.4 and
above: word counts from 600 items add little on text the patterns were not written against.

``--embed`` trains the same regression on sentence embeddings of the bundled all-MiniLM-L6-v2
(the eval extra) instead: each item's mean, first and last sentence vectors, standardised,
classes weighted equally. At 64ee1ba (2026-12-07, 1,375 sentences embedded in 90 s of CPU) on
the fresh items, where the patterns reach 0.951 and 0.765 (they were written from its misses
by then): embedded alone, precision 0.49 to 0.59 at recall 0.71 to 0.45 (thresholds 0.3 to
0.7); "embedded or patterns", 0.55 to 0.71 at 0.92 to 0.86. What separates talk from the
writing is mostly not the topic of the sentence, which is what these embeddings hold.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
from pathlib import Path
from typing import Any

import numpy as np

from agentwrite.text_stats import sentence_spans
from agentwrite.writing.talk import talk_spans

LABELS = Path(__file__).resolve().parent / "labels"
FOLDS = 5
STEPS = 400
L2 = 0.01
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
_TOKEN = re.compile(r"[\u4e00-\u9fff]|[a-z']+")

Model = tuple[dict[str, int], Any, float]
EMBED_L2 = 0.1
EMBED_STEPS = 2000


def features(text: str) -> set[str]:
    """Unigrams and bigrams of each sentence (with a start mark), and the patterns' verdict.

    >>> sorted(features("Here is the text:"))[:3]
    ['b:<s> here', 'b:here is', 'b:is the']
    """
    found: set[str] = set()
    for start, end in sentence_spans(text) or [(0, len(text))]:
        tokens = ["<s>", *_TOKEN.findall(text[start:end].lower())]
        found.update(f"u:{t}" for t in tokens)
        found.update(f"b:{a} {b}" for a, b in itertools.pairwise(tokens))
    spans = talk_spans(text)
    found.update(f"kind:{s.kind}" for s in spans)
    if spans:
        found.add("pattern")
    return found


def train(items: list[set[str]], labels: np.ndarray) -> Model:
    vocabulary: dict[str, int] = {}
    for item in items:
        for feature in item:
            vocabulary.setdefault(feature, len(vocabulary))
    matrix = np.zeros((len(items), len(vocabulary)))
    for row, item in enumerate(items):
        matrix[row, [vocabulary[f] for f in item]] = 1
    weights, bias = np.zeros(len(vocabulary)), 0.0
    for _ in range(STEPS):
        error = 1 / (1 + np.exp(-(matrix @ weights + bias))) - labels
        weights -= matrix.T @ error / len(items) + L2 * weights
        bias -= float(np.mean(error))
    return vocabulary, weights, bias


def probability(model: Model, item: set[str]) -> float:
    vocabulary, weights, bias = model
    return 1 / (1 + math.exp(-(bias + sum(weights[vocabulary[f]] for f in item if f in vocabulary))))


def embedded(rows: list[dict[str, Any]]) -> np.ndarray:
    """Each item's mean, first and last sentence embedding, standardised over the items."""
    from agentwrite.llm.embedding import load_embedder

    sentences, owner = [], []
    for row, item in enumerate(rows):
        for start, end in sentence_spans(item["text"]) or [(0, len(item["text"]))]:
            sentences.append(item["text"][start:end])
            owner.append(row)
    vectors, owners = load_embedder()(sentences), np.array(owner)
    matrix = np.stack(
        [
            np.concatenate([mine.mean(0), mine[0], mine[-1]])
            for mine in (vectors[owners == row] for row in range(len(rows)))
        ]
    )
    return (matrix - matrix.mean(0)) / (matrix.std(0) + 1e-6)


def train_dense(matrix: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression by gradient descent, both classes weighted alike."""
    weights, bias = np.zeros(matrix.shape[1]), 0.0
    balance = np.where(labels > 0, 0.5 / labels.mean(), 0.5 / (1 - labels.mean()))
    for _ in range(EMBED_STEPS):
        error = (1 / (1 + np.exp(-(matrix @ weights + bias))) - labels) * balance
        weights -= 0.5 * (matrix.T @ error / len(labels) + EMBED_L2 * weights)
        bias -= 0.5 * float(np.mean(error))
    return weights, bias


def precision_recall(predicted: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    hits = int((predicted & labels).sum())
    return round(hits / max(1, int(predicted.sum())), 3), round(hits / max(1, int(labels.sum())), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embed", action="store_true", help="MiniLM sentence embeddings as the features")
    args = parser.parse_args()
    rows = [
        json.loads(line)
        for name in ("brief_checks.jsonl", "brief_checks_fresh.jsonl")
        for line in (LABELS / name).read_text("utf-8").splitlines()
        if line.strip()
    ]
    items = [features(r["text"]) for r in rows]
    labels = np.array([bool(r["talk"]) for r in rows])
    documents = sorted({r["id"].split("#")[0] for r in rows})
    random.Random(1).shuffle(documents)
    fold = {d: i % FOLDS for i, d in enumerate(documents)}
    of_row = [fold[r["id"].split("#")[0]] for r in rows]
    probabilities = np.zeros(len(rows))
    dense = embedded(rows) if args.embed else None
    for k in range(FOLDS):
        trained = [i for i in range(len(rows)) if of_row[i] != k]
        scored = [i for i in range(len(rows)) if of_row[i] == k]
        if dense is not None:
            weights, bias = train_dense(dense[trained], labels[trained].astype(float))
            probabilities[scored] = 1 / (1 + np.exp(-(dense[scored] @ weights + bias)))
            continue
        model = train([items[i] for i in trained], labels[trained].astype(float))
        for i in scored:
            probabilities[i] = probability(model, items[i])
    patterns = np.array(["pattern" in item for item in items])
    fresh = np.array([r["split"] == "fresh" for r in rows])
    print("| detector | all: precision, recall | fresh: precision, recall |\n|---|---|---|")
    every, new = precision_recall(patterns, labels), precision_recall(patterns[fresh], labels[fresh])
    print(f"| patterns | {every} | {new} |")
    for threshold in THRESHOLDS:
        learned = "embedded" if args.embed else "learned"
        for name, predicted in ((learned, probabilities >= threshold), (f"{learned} or patterns", None)):
            predicted = (probabilities >= threshold) | patterns if predicted is None else predicted
            every, new = (
                precision_recall(predicted, labels),
                precision_recall(predicted[fresh], labels[fresh]),
            )
            print(f"| {name}, threshold {threshold} | {every} | {new} |")


if __name__ == "__main__":
    main()
