"""Pick the candidate items of the brief-checks labelled set from committed model output.

    .venv/bin/python eval/labels/sample_brief_checks.py --out /tmp/candidates

writes ``items.jsonl`` (lines and paragraphs) and ``sections.jsonl`` (whole sections and
documents, for the language check) into ``--out``, every label empty (``null``). The labels
of ``eval/labels/brief_checks.jsonl`` and ``eval/labels/section_language.jsonl`` were then
added by hand, item by item (eval/labels/README.md): this script writes no label, and it
refuses to write into ``eval/labels/`` itself.

Sources, read in sorted order: the sidecars ``eval/results/**/documents/*.json`` (one text
per section, with its brief and its planned main point) and the ``response`` of every
``eval/results/**/predictions.jsonl`` line whose run has no sidecar for it (the direct
baseline: no main point). A text's items:

- ``line``: a non-empty line of 1 to 29 counted words (headings and list items included);
- ``paragraph``: a block between blank lines of 30 to 200 counted words.

Items are deduplicated by their normalised text (the first source wins), then drawn with a
fixed seed per stratum (``ITEMS``): the brief's language (en, zh) by unit, at random, among
the items that hold a word about writing (``CUE``, broad on purpose: it brings many ordinary
lines too), among those that hold one of the kinds of talk issue 23 quotes (``ISSUE``), and
paragraphs of the direct answers (fluent prose, on the brief or drifting); at most
``PER_DOCUMENT`` items from one document. ``split`` is fixed by
a hash of the id, before any detector exists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agentwrite.length import count_words
from agentwrite.text_stats import normalise_sentence
from agentwrite.writing.language import brief_language

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "eval" / "results"
SEED = 23
PER_DOCUMENT = 6
LINE_MAX_WORDS = 29
PARAGRAPH_WORDS = (30, 200)
SECTION_CHARS = 3000
"""A section or document longer than this is kept up to the line break before it."""

ITEMS = {  # (brief language, unit, stratum): how many
    ("en", "line", "random"): 80,
    ("en", "line", "cue"): 70,
    ("en", "paragraph", "random"): 60,
    ("en", "paragraph", "cue"): 30,
    ("zh", "line", "random"): 35,
    ("zh", "line", "cue"): 35,
    ("zh", "paragraph", "random"): 30,
    ("zh", "paragraph", "cue"): 20,
    # added after the first 360 were labelled (drawn after them, so those stayed the same):
    ("en", "line", "issue"): 20,
    ("en", "paragraph", "issue"): 10,
    ("zh", "line", "issue"): 6,
    ("zh", "paragraph", "issue"): 4,
    ("en", "paragraph", "direct"): 30,
    ("zh", "paragraph", "direct"): 15,
}
FRESH_ITEMS = {
    ("en", "line", "random"): 50,
    ("en", "line", "cue"): 50,
    ("en", "paragraph", "random"): 25,
    ("en", "paragraph", "cue"): 20,
    ("zh", "line", "random"): 20,
    ("zh", "line", "cue"): 20,
    ("zh", "paragraph", "random"): 10,
    ("zh", "paragraph", "cue"): 5,
}
"""The fresh set (``--fresh RUN``): items of one run that no check was written against,
labelled before the checks were changed again and scored once, all of them held out."""
FRESH_PER_DOCUMENT = 25
"""At most this many fresh items from one document (a run of 12 documents gives the set)."""
SECTIONS = {"en": 40, "zh": 80}
PER_DOCUMENT_SECTIONS = 3

CUE = re.compile(
    r"\b(?:here(?:'s| is| are)|sections?|paragraphs?|words?|writ\w*|texts?|articles?|essays?|"
    r"stor(?:y|ies)|documents?|plans?|outlines?|continu\w*|rewrit\w*|hope|sure|sorry|apolog\w*|"
    r"notes?|steps?|instructions?|tasks?|titles?|chapters?|parts?|readers?|prompts?|below|above|"
    r"following|introduction|conclusion)\b|[\[\]]|字|段|部分|以下|好的|文章|写|标题|章|节|计划|"
    r"大纲|继续|下面|希望|抱歉|读者|题目",
    re.IGNORECASE,
)
"""Words about writing: the ``cue`` stratum draws among the items that hold one."""

ISSUE = re.compile(
    r"here(?:'s| is) (?:the|a|your)\b|continuation|\[[^\]\n]*\]|\bSECTION \d|below is|"
    r"I hope this helps|\bsure\b|以下是|好的|约\d+字",
    re.IGNORECASE,
)
"""The kinds of talk issue 23 quotes: the ``issue`` stratum draws among the items that hold one."""


@dataclass(frozen=True)
class Text:
    """One section (or one direct answer) with what it was written for."""

    source: str
    document: str
    section: int | None
    brief: str
    main_point: str | None
    text: str


def texts(root: Path = RESULTS) -> Iterator[Text]:
    """Every section of every committed sidecar under ``root``, then every direct answer."""
    with_sidecar: set[str] = set()
    for path in sorted(root.glob("**/documents/*.json")):
        doc = json.loads(path.read_text("utf-8"))
        with_sidecar.add(str(path.parent.parent / path.stem))
        points = [s["main_point"] for s in doc["plan"]["sections"]]
        for section in doc["sections"]:
            index = section["index"]
            yield Text(
                source=str(path.relative_to(ROOT)),
                document=str(path.relative_to(RESULTS).with_suffix("")),
                section=index,
                brief=doc["brief"]["instruction"],
                main_point=points[index] if index < len(points) else None,
                text=section["text"],
            )
    for path in sorted(root.glob("**/predictions.jsonl")):
        for number, line in enumerate(path.read_text("utf-8").splitlines()):
            row = json.loads(line)
            key = row.get("key") or f"line{number}"
            if str(path.parent / key) in with_sidecar:
                continue
            yield Text(
                source=str(path.relative_to(ROOT)),
                document=f"{path.parent.relative_to(RESULTS)}/{key}",
                section=None,
                brief=row["prompt"],
                main_point=None,
                text=row["response"],
            )


def pieces(text: str) -> Iterator[tuple[str, int, str]]:
    """``(unit, offset, piece)`` for each line and paragraph candidate of ``text``."""
    for block in re.finditer(r"[^\n](?:.|\n(?!\s*\n))*", text):
        words = count_words(block.group())
        if PARAGRAPH_WORDS[0] <= words <= PARAGRAPH_WORDS[1] and "\n" not in block.group().strip():
            yield "paragraph", block.start(), block.group().strip()
        elif words < PARAGRAPH_WORDS[0] or "\n" in block.group().strip():
            for line in re.finditer(r"[^\n]+", block.group()):
                if 1 <= count_words(line.group()) <= LINE_MAX_WORDS:
                    yield "line", block.start() + line.start(), line.group().strip()


def split_of(item_id: str) -> str:
    """``dev`` or ``held``, by the first byte of the id's SHA-256: about half each."""
    return "dev" if hashlib.sha256(item_id.encode()).digest()[0] % 2 == 0 else "held"


def candidates(
    plan: dict[tuple[str, str, str], int], root: Path = RESULTS, seen: set[str] | None = None
) -> dict[tuple[str, str, str], list[dict[str, object]]]:
    """Distinct candidate items of the texts under ``root`` by (brief language, unit,
    stratum); an item may be a candidate of several strata (it is drawn at most once). Items
    whose normalised text is in ``seen`` are left out."""
    seen = set() if seen is None else set(seen)
    pools: dict[tuple[str, str, str], list[dict[str, object]]] = {key: [] for key in plan}
    for source in texts(root):
        language = brief_language(source.brief).code
        for unit, offset, piece in pieces(source.text):
            key = normalise_sentence(piece)
            if not key or key in seen:
                continue
            seen.add(key)
            item_id = f"{source.document}#{'' if source.section is None else source.section}@{offset}"
            item = {
                "id": item_id,
                "source": source.source,
                "document": source.document,
                "brief": source.brief,
                "main_point": source.main_point,
                "language": language,
                "unit": unit,
                "text": piece,
                "talk": None,
                "on_brief": None,
                "split": split_of(item_id),
            }
            strata = {
                "random": True,
                "cue": bool(CUE.search(piece)),
                "issue": bool(ISSUE.search(piece)),
                "direct": source.section is None,
            }
            for stratum, member in strata.items():
                if member and (language, unit, stratum) in pools:
                    pools[(language, unit, stratum)].append(item)
    return pools


def draw_items(
    plan: dict[tuple[str, str, str], int] = ITEMS,
    root: Path = RESULTS,
    seen: set[str] | None = None,
    per_document_cap: int = PER_DOCUMENT,
) -> list[dict[str, object]]:
    """The drawn items, in stratum order (``plan``), each stratum in drawing order."""
    rng = random.Random(SEED)
    pools = candidates(plan, root, seen)
    per_document: Counter[object] = Counter()
    taken: set[object] = set()
    drawn: list[dict[str, object]] = []
    for (language, unit, stratum), count in plan.items():
        pool = pools[(language, unit, stratum)]
        order = rng.sample(range(len(pool)), len(pool))
        got = 0
        for index in order:
            item = pool[index]
            if got == count:
                break
            if item["id"] in taken or per_document[item["document"]] >= per_document_cap:
                continue
            taken.add(item["id"])
            per_document[item["document"]] += 1
            drawn.append({**item, "stratum": stratum})
            got += 1
    return [{k: v for k, v in item.items() if k != "document"} for item in drawn]


def cut(text: str, limit: int = SECTION_CHARS) -> str:
    """``text`` up to ``limit`` characters, cut at the last line break before it if it is longer.

    >>> cut("one\\ntwo\\nthree", 9)
    'one\\ntwo'
    >>> cut("short", 9)
    'short'
    """
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head[: head.rfind("\n")].rstrip() if "\n" in head else head


def draw_sections() -> list[dict[str, object]]:
    """Whole sections and direct answers (cut to ``SECTION_CHARS``) for the language check."""
    rng = random.Random(SEED + 1)
    pools: dict[str, list[Text]] = {"en": [], "zh": []}
    seen: set[str] = set()
    for source in texts():
        key = normalise_sentence(source.text[:500])
        if count_words(source.text) < 20 or key in seen:
            continue
        seen.add(key)
        pools[brief_language(source.brief).code].append(source)
    drawn: list[dict[str, object]] = []
    for language, count in SECTIONS.items():
        per_document: Counter[str] = Counter()
        pool = pools[language]
        for index in rng.sample(range(len(pool)), len(pool)):
            source = pool[index]
            if sum(per_document.values()) == count:
                break
            if per_document[source.document] >= PER_DOCUMENT_SECTIONS:
                continue
            per_document[source.document] += 1
            item_id = f"{source.document}#{'' if source.section is None else source.section}"
            drawn.append(
                {
                    "id": item_id,
                    "source": source.source,
                    "brief": source.brief,
                    "language": language,
                    "unit": "document" if source.section is None else "section",
                    "text": cut(source.text),
                    "in_brief_language": None,
                    "split": split_of(item_id),
                }
            )
    return drawn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the candidate files")
    parser.add_argument(
        "--fresh",
        type=Path,
        metavar="RUN",
        help="draw the fresh set (FRESH_ITEMS) from this committed run folder only, leaving out "
        "the items of eval/labels/brief_checks.jsonl; writes fresh.jsonl, split 'fresh'",
    )
    args = parser.parse_args()
    out = args.out.resolve()
    if out == Path(__file__).resolve().parent:
        print("sample_brief_checks: error: --out must not be eval/labels", file=sys.stderr)
        return 2
    if args.fresh is not None and not args.fresh.resolve().is_relative_to(RESULTS):
        print("sample_brief_checks: error: --fresh must be a run folder under eval/results", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    if args.fresh is not None:
        labelled = Path(__file__).resolve().parent / "brief_checks.jsonl"
        known = {
            normalise_sentence(json.loads(line)["text"]) for line in labelled.read_text("utf-8").splitlines()
        }
        outputs = [
            (
                "fresh.jsonl",
                [
                    {**item, "split": "fresh"}
                    for item in draw_items(FRESH_ITEMS, args.fresh.resolve(), known, FRESH_PER_DOCUMENT)
                ],
            )
        ]
    else:
        outputs = [("items.jsonl", draw_items()), ("sections.jsonl", draw_sections())]
    for name, rows in outputs:
        lines = (json.dumps(row, ensure_ascii=False) for row in rows)
        (out / name).write_text("".join(f"{line}\n" for line in lines), "utf-8")
        print(f"{out / name}: {len(rows)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
