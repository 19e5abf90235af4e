"""Export a build as a Hugging Face ``datasets`` folder (``Dataset.save_to_disk``) with a dataset card.

- ``hf``: rows ``{"id", "messages"}``, the build's ``train.jsonl`` with each row's instruction id
- ``prompt-completion``: rows ``{"id", "prompt", "completion"}``, the conversational
  prompt-completion form of TRL's ``SFTTrainer`` (``prompt`` the user message, ``completion``
  the assistant answer, each a one-message list): the trainer applies the chat template, as for
  ``messages``, and puts the loss on the completion only
- ``dpo-hf``: rows ``{"id", "prompt", "chosen", "rejected"}``, the build's preference pairs in
  TRL's conversational preference form (``agentwrite.dataset.preference``), for ``DPOTrainer``

All are folders, so that ``--test-size`` gives one ``DatasetDict`` loaded the same way
(``datasets.load_from_disk``). The folder's ``README.md`` is the card: the recipe and settings
of each build session (no API key), the model, the filters, the statistics and the length plot,
and for pairs how they were made and what separated them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from agentwrite.credentials import without_secrets
from agentwrite.dataset.export import nothing_kept
from agentwrite.dataset.journal import META, TRAIN
from agentwrite.dataset.preference import PreferencePair, read_pairs, to_dpo
from agentwrite.dataset.session import BUILD_FILE
from agentwrite.dataset.stats import PLOT_FILE, STATS_FILE, pair_stats
from agentwrite.errors import InputError
from agentwrite.files import read_jsonl
from agentwrite.files.output_paths import output_folder

HF_FORMATS: tuple[str, ...] = ("hf", "prompt-completion", "dpo-hf")
CARD = "README.md"


def split_share(doc_id: str) -> float:
    """Where an id falls in [0, 1), from its SHA-256: the same on every machine and run.

    >>> split_share("doc-01") == split_share("doc-01"), 0 <= split_share("doc-02") < 1
    (True, True)
    """
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:8], "big") / 2**64


def without_keys(value: Any) -> Any:
    """``value`` with every ``api_key`` entry dropped, at any depth.

    >>> without_keys({"model": "m", "api_key": "sk-1", "x": [{"API_KEY": "sk-2"}]})
    {'model': 'm', 'x': [{}]}
    """
    if isinstance(value, dict):
        return {k: without_keys(v) for k, v in value.items() if str(k).lower() != "api_key"}
    if isinstance(value, list):
        return [without_keys(v) for v in value]
    return value


def training_rows(
    build_dir: Path, fmt: str = "prompt-completion", doing: str = "export"
) -> list[dict[str, Any]]:
    """The build's kept examples as rows of ``fmt`` (``hf`` or ``prompt-completion``), each with
    the id of its accepted meta record (train and accepted meta lines are committed in the same
    order). InputError when the build kept none (nothing to ``doing``) or its files disagree."""
    build_dir = Path(build_dir)
    accepted = [r for r in read_jsonl(build_dir / META) if r.get("status") == "accepted"]
    train = read_jsonl(build_dir / TRAIN)
    if not accepted:
        raise InputError(nothing_kept(build_dir, doing))
    if not train:
        raise InputError(f"{build_dir / TRAIN} is empty: there is nothing to {doing}")
    if len(train) != len(accepted):
        raise InputError(
            f"{build_dir / TRAIN} has {len(train)} rows but {build_dir / META} accepts {len(accepted)}; "
            "resume the build to repair it"
        )
    rows = []
    for meta, example in zip(accepted, train, strict=True):
        if fmt == "hf":
            rows.append({"id": meta["id"], "messages": example["messages"]})
        else:
            *prompt, completion = example["messages"]
            rows.append({"id": meta["id"], "prompt": prompt, "completion": [completion]})
    return rows


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except ValueError:
        raise InputError(f"{path} is not valid JSON") from None


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True).strip()


def _summary(numbers: dict[str, Any]) -> str:
    return " | ".join(str(numbers[k]) for k in ("mean", "median", "min", "max", "total"))


def dataset_card(
    name: str,
    fmt: str,
    models: list[str],
    stats: dict[str, Any],
    sessions: list[dict[str, Any]],
    splits: dict[str, int],
    pairs: list[PreferencePair] | None = None,
) -> str:
    """The card (``README.md``) of an exported build, in Markdown with YAML metadata; with
    ``pairs``, a section on how they were made."""
    sessions = without_keys(sessions)
    shape = {
        "hf": "`id`, `messages`",
        "prompt-completion": "`id`, `prompt`, `completion` (TRL prompt-completion)",
        "dpo-hf": "`id`, `prompt`, `chosen`, `rejected` (TRL conversational preference)",
    }[fmt]
    lines = [
        "---",
        _yaml({"language": sorted(stats["by_language"]), "task_categories": ["text-generation"]}),
        "---",
        f"# {name}",
        "",
        "Long-form writing examples in the LongWriter style, each written by the agentwrite agent "
        "(plan, then write section by section) and kept by the build's filters.",
        "",
        f"Columns: {shape}. Splits: " + ", ".join(f"{k} {v} rows" for k, v in splits.items()) + ".",
        "Load with `datasets.load_from_disk`.",
        "",
        *(_pairs_section(pairs) if pairs else []),
        "## Model",
        "",
        *(f"- `{m}`" for m in models),
        "",
        "## Statistics",
        "",
        f"{stats['instructions']} instructions, {stats['accepted']} accepted, {stats['rejected']} rejected "
        f"(acceptance rate {stats['acceptance_rate']:.0%}).",
        "",
        "| | mean | median | min | max | total |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| words | {_summary(stats['words'])} |",
        f"| tokens | {_summary(stats['tokens'])} |",
        "",
        "| group | documents | words (mean) | tokens (mean) |",
        "| --- | --- | --- | --- |",
        *(
            f"| {kind} {key} | {g['documents']} | {g['words']['mean']} | {g['tokens']['mean']} |"
            for kind in ("language", "type")
            for key, g in stats[f"by_{kind}"].items()
        ),
        "",
        f"Reject reasons: {json.dumps(stats['reject_reasons'], ensure_ascii=False)}.",
        "",
        f"![Lengths of the documents]({PLOT_FILE})",
        "",
        "## Filters",
        "",
        *(f"```yaml\n{_yaml(f)}\n```" for f in _distinct([s["recipe"]["filters"] for s in sessions])),
        "",
        "## Recipe and settings",
        "",
    ]
    for session in sessions:
        lines += [
            f"### Session {session['started_at']}",
            "",
            f"Instructions: `{session['instructions']}`; shard: {session.get('shard') or 'all'}.",
            "",
            f"```yaml\n{_yaml(without_secrets({k: session[k] for k in ('recipe', 'settings')}))}\n```",
            "",
        ]
    return "\n".join(lines)


def _pairs_section(pairs: list[PreferencePair]) -> list[str]:
    """How the preference pairs were made, and their figures."""
    figures = pair_stats(pairs)
    return [
        "## Preference pairs",
        "",
        "Made while the documents were written: when a section failed one of the writer's section "
        "checks, the writer asked for another candidate. Each pair's `prompt` is the exact request "
        "(system and user messages), `chosen` the candidate kept "
        "and `rejected` the weakest one, kept only where their combined scores differ by at least "
        "the build's margin (its settings below). Document pairs, where there are any, hold the "
        "instruction as the prompt, the agent's document as `chosen` and the model's one-request "
        "answer as `rejected`, kept only where the document passes every filter of the build and "
        "the answer fails one; their margin is the number of filters that separate them.",
        "",
        f"{figures['count']} pairs from {figures['instructions']} instructions; by kind: "
        + ", ".join(f"{kind} {n}" for kind, n in figures["by_kind"].items())
        + ".",
        "",
        "| | mean | median | min | max | total |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| margin | {_summary(figures['margin'])} |",
        "",
        "What separated chosen from rejected (pairs per score): "
        + (", ".join(f"{k} {v}" for k, v in figures["separated_by"].items()) or "not recorded")
        + ".",
        "",
    ]


def _distinct(items: list[Any]) -> list[Any]:
    return [item for i, item in enumerate(items) if item not in items[:i]]


def _check(build_dir: Path, out: Path, test_size: float | None) -> Path:
    if not build_dir.is_dir():
        raise InputError(f"no such folder: {build_dir}")
    for name in (TRAIN, META, BUILD_FILE, STATS_FILE, PLOT_FILE):
        if not (build_dir / name).is_file():
            hint = "; run 'agentwrite dataset stats' on it" if name in (STATS_FILE, PLOT_FILE) else ""
            raise InputError(f"{build_dir} holds no {name}; is it a dataset build folder{hint}?")
    if test_size is not None and not 0 < test_size < 1:
        raise InputError(f"--test-size must be a fraction between 0 and 1, not {test_size}")
    return output_folder(out, "--out")  # new or empty; a link is followed


def export_hf(build_dir: Path, fmt: str, out: Path | None = None, test_size: float | None = None) -> Path:
    """Write the build as a ``datasets`` folder in ``fmt`` with its card; return the folder.

    The default folder is ``<build_dir>/export/<fmt>``. With ``test_size``, a ``DatasetDict``
    whose ``test`` split holds the ids that ``split_share`` puts below it. Written to a temporary
    folder beside ``out`` and renamed, so that ``out`` is whole or absent.
    """
    build_dir = Path(build_dir)
    out = Path(out) if out is not None else build_dir / "export" / fmt
    out = _check(build_dir, out, test_size)
    pairs = read_pairs(build_dir) if fmt == "dpo-hf" else None
    rows = [to_dpo(pair) for pair in pairs] if pairs else training_rows(build_dir, fmt)
    try:
        from datasets import Dataset, DatasetDict
    except ModuleNotFoundError:
        raise InputError(
            "the hf export needs the 'dataset' extra: pip install 'agentwrite[dataset]'"
        ) from None
    stats = _read_json(build_dir / STATS_FILE)
    sessions = _read_json(build_dir / BUILD_FILE)["sessions"]
    data: Dataset | DatasetDict = Dataset.from_list(rows)
    # the instruction of each row: the pairs of one instruction stay on one side of a split
    keys = [p.instruction_id for p in pairs] if pairs else [row["id"] for row in rows]
    if test_size is not None:
        test = [i for i, key in enumerate(keys) if split_share(key) < test_size]
        chosen = set(test)
        data = DatasetDict(
            train=data.select([i for i in range(len(rows)) if i not in chosen]), test=data.select(test)
        )
    instructions = set(keys)
    models = sorted(
        {str(r["model"]) for r in read_jsonl(build_dir / META) if r["id"] in instructions and "model" in r}
    )
    splits = {k: len(v) for k, v in data.items()} if isinstance(data, DatasetDict) else {"train": len(data)}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        data.save_to_disk(str(tmp))
        card = dataset_card(build_dir.resolve().name, fmt, models, stats, sessions, splits, pairs)
        (tmp / CARD).write_text(card + "\n", "utf-8")
        shutil.copyfile(build_dir / PLOT_FILE, tmp / PLOT_FILE)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
