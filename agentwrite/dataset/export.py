"""Export a build's ``train.jsonl`` to the formats fine-tuning tools read.

- ``messages``: ``{"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}`` (LongWriter-6k, TRL)
- ``sharegpt``: ``{"conversations": [{"from": "human", "value": ...}, {"from": "gpt", "value": ...}]}``
- ``alpaca``: ``{"instruction": ..., "input": "", "output": ...}``
- ``parquet``: the ``messages`` records as a Parquet table
- ``dpo``: the build's preference pairs (``pairs.jsonl``) as TRL's conversational preference rows
  ``{"id", "prompt": [messages], "chosen": [assistant message], "rejected": [assistant message]}``
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from agentwrite.dataset.journal import TRAIN
from agentwrite.dataset.preference import read_pairs, to_dpo
from agentwrite.errors import InputError
from agentwrite.files import append_jsonl, atomic_file, read_jsonl
from agentwrite.files.output_paths import output_file

ExportFormat = Literal["messages", "sharegpt", "alpaca", "parquet", "dpo"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)
_SHAREGPT_ROLES = {"user": "human", "assistant": "gpt", "system": "system"}


def to_sharegpt(example: dict[str, Any]) -> dict[str, Any]:
    """One ``messages`` example in ShareGPT form.

    >>> to_sharegpt({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]})
    {'conversations': [{'from': 'human', 'value': 'Q'}, {'from': 'gpt', 'value': 'A'}]}
    """
    return {
        "conversations": [
            {"from": _SHAREGPT_ROLES[m["role"]], "value": m["content"]} for m in example["messages"]
        ]
    }


def to_alpaca(example: dict[str, Any]) -> dict[str, Any]:
    """One single-turn ``messages`` example in Alpaca form.

    >>> to_alpaca({"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]})
    {'instruction': 'Q', 'input': '', 'output': 'A'}
    """
    user, assistant = example["messages"][-2:]
    return {"instruction": user["content"], "input": "", "output": assistant["content"]}


def nothing_kept(build_dir: Path, doing: str = "export") -> str:
    """Why a build that kept no example is not exported (``datasets`` cannot load an
    empty file, JSON Lines or Parquet, so no file is written), nor trained on."""
    return f"{build_dir} kept no examples: nothing to {doing}"


def export(build_dir: Path, fmt: str, out: Path | None = None) -> Path:
    """Write the build's training examples in ``fmt``; return the file written.

    The default output is ``<build_dir>/export/<fmt>.jsonl`` (``.parquet`` for Parquet).
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    build_dir = Path(build_dir)
    if fmt == "dpo":
        examples = [to_dpo(pair) for pair in read_pairs(build_dir)]
    else:
        if not (build_dir / TRAIN).exists():
            raise InputError(f"{build_dir} holds no {TRAIN}; is it a dataset build folder?")
        examples = read_jsonl(build_dir / TRAIN)
        if not examples:
            raise InputError(nothing_kept(build_dir))
    if out is None:
        out = build_dir / "export" / f"{fmt}.{'parquet' if fmt == 'parquet' else 'jsonl'}"
        out.parent.mkdir(exist_ok=True)
    target = output_file(Path(out), "--out")  # a link is written through
    with atomic_file(target) as tmp:
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema(
                [("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))]
            )
            pq.write_table(pa.Table.from_pylist(examples, schema=schema), tmp)
        else:
            convert = {"sharegpt": to_sharegpt, "alpaca": to_alpaca}.get(fmt)
            with tmp.open("w", encoding="utf-8") as handle:
                for example in examples:
                    append_jsonl(handle, convert(example) if convert else example)
    return out
