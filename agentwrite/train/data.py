"""What a build gives training: its rows in TRL's conversational forms, fitted to the length.

- SFT: the kept examples (``train.jsonl``) as prompt-completion rows ``{"id", "prompt": [...],
  "completion": [assistant message]}``, so that TRL puts the loss on the answer only
- DPO: the preference pairs (``pairs.jsonl``) as ``{"id", "prompt", "chosen", "rejected"}``

A row longer than ``max_length`` tokens (its prompt and longest answer through the chat template,
as the trainer tokenizes it) is skipped and counted, or stops the run before it starts, rather
than being cut: a cut document would teach the model to stop mid-sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentwrite.dataset.hf import training_rows
from agentwrite.dataset.journal import META
from agentwrite.dataset.preference import read_pairs, to_dpo
from agentwrite.errors import InputError
from agentwrite.train.recipe import Method

Row = dict[str, Any]


def build_rows(method: Method, build_dir: Path) -> list[Row]:
    """The build's rows for ``method``; InputError (one line) for a folder that is no build or
    gives no row."""
    build_dir = Path(build_dir)
    if not (build_dir / META).is_file():
        raise InputError(f"{build_dir} holds no {META}; is it a dataset build folder?")
    if method == "dpo":
        return [to_dpo(pair) for pair in read_pairs(build_dir)]
    return training_rows(build_dir, "prompt-completion", doing="train on")


def conversations(row: Row) -> list[list[dict[str, str]]]:
    """The whole conversations a row trains on: prompt and completion, or prompt and each answer.

    >>> user = {"role": "user", "content": "Q"}
    >>> [len(c) for c in conversations({"prompt": [user], "chosen": [user], "rejected": [user]})]
    [2, 2]
    """
    answers = [row["completion"]] if "completion" in row else [row["chosen"], row["rejected"]]
    return [row["prompt"] + answer for answer in answers]


def chat_token_counter(tokenizer: Any) -> Callable[[Row], int]:
    """A row's length in tokens as the trainers see it: its longest conversation through the
    tokenizer's chat template."""

    def count(row: Row) -> int:
        return max(
            len(tokenizer.apply_chat_template(chat, tokenize=True, return_dict=True)["input_ids"])
            for chat in conversations(row)
        )

    return count


@dataclass
class Fitted:
    """The rows that fit, and what was left out."""

    rows: list[Row]
    total: int
    skipped: list[str] = field(default_factory=list)
    """Ids of the rows longer than the max length."""
    longest: int = 0
    """Tokens of the longest row kept."""


def fit_rows(
    rows: list[Row], count: Callable[[Row], int], max_length: int, too_long: str, build_dir: Path
) -> Fitted:
    """The rows of at most ``max_length`` tokens. With ``too_long="fail"`` a longer row is an
    InputError; with ``"skip"`` it is left out and counted, and an InputError only when none fits.

    >>> rows = [{"id": "a", "n": 10}, {"id": "b", "n": 50}]
    >>> fitted = fit_rows(rows, lambda r: r["n"], 20, "skip", Path("b"))
    >>> [r["id"] for r in fitted.rows], fitted.skipped, fitted.longest
    (['a'], ['b'], 10)
    """
    kept, skipped, longest, shortest_over = [], [], 0, None
    for row in rows:
        tokens = count(row)
        if tokens <= max_length:
            kept.append(row)
            longest = max(longest, tokens)
            continue
        if too_long == "fail":
            raise InputError(
                f"row {row['id']} of {build_dir} is {tokens} tokens, longer than max_length {max_length} "
                "(too_long: skip leaves such rows out)"
            )
        skipped.append(row["id"])
        shortest_over = tokens if shortest_over is None else min(shortest_over, tokens)
    if not kept:
        raise InputError(
            f"no row of {build_dir} fits in max_length {max_length} tokens "
            f"({len(skipped)} rows, the shortest {shortest_over} tokens)"
        )
    return Fitted(rows=kept, total=len(rows), skipped=skipped, longest=longest)
