"""The plan review at a terminal (``agentwrite write --review``): show the plan, then read the
answer from standard input: accept it, edit its JSON in ``$EDITOR``, or ask for a new plan
with a comment. Returns the resume values of ``agentwrite.graph.nodes.review``."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, TextIO

from agentwrite.errors import InputError, ReviewStopped

CHOICES = "[a]ccept, [e]dit in $EDITOR, [n]ew plan with a comment? "


def describe(plan: dict[str, Any], target_words: int) -> str:
    """The plan as the person reads it: title, then each section with its budget and main point.

    >>> print(describe({"title": "Tea", "sections": [
    ...     {"title": "Origins", "main_point": "Where tea began.", "target_words": 300}]}, 300))
    Plan: Tea (1 section, 300 words; target 300)
      1. Origins (300 words)
         Where tea began.
    """
    sections = plan["sections"]
    total = sum(s["target_words"] for s in sections)
    count = f"{len(sections)} section{'s' if len(sections) != 1 else ''}"
    lines = [f"Plan: {plan['title']} ({count}, {total:,} words; target {target_words:,})"]
    for i, s in enumerate(sections, start=1):
        lines += [f"  {i}. {s['title']} ({s['target_words']:,} words)", f"     {s['main_point']}"]
    return "\n".join(lines)


class TerminalReview:
    """A ``Reviewer`` that asks on standard input and writes to standard error (both as they
    are when it asks: a live progress bar puts a proxy in place of standard error); ``pause``
    keeps the bar off the screen meanwhile."""

    def __init__(
        self,
        pause: Callable[[], AbstractContextManager[object]] = nullcontext,
        answers: TextIO | None = None,
        out: TextIO | None = None,
    ) -> None:
        self._pause = pause
        self._in = answers
        self._out = out
        self._draft: str | None = None  # an edit the review could not use, to edit again

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._pause():
            self._say(describe(request["plan"], request["target_words"]))
            if request.get("error"):
                self._say(f"That answer could not be used: {request['error']}")
            else:
                self._draft = None
            while True:
                choice = self._ask(CHOICES).lower()
                if choice in ("a", "accept"):
                    return {"action": "accept"}
                if choice in ("e", "edit"):
                    shown = json.dumps(request["plan"], ensure_ascii=False, indent=2) + "\n"
                    try:
                        text = self._edit(self._draft or shown)
                    except InputError as exc:
                        self._say(str(exc))
                        continue
                    if text == shown:
                        self._say("The plan is unchanged: writing to it.")
                        return {"action": "accept"}
                    self._draft = text
                    return {"action": "edit", "plan": text}
                if choice in ("n", "new"):
                    if comment := self._ask("What should the new plan change? "):
                        return {"action": "replan", "comment": comment}
                    continue
                self._say("Answer a, e or n.")

    def _say(self, text: str) -> None:
        print(text, file=self._out or sys.stderr, flush=True)

    def _ask(self, prompt: str) -> str:
        print(prompt, end="", file=self._out or sys.stderr, flush=True)
        line = (self._in or sys.stdin).readline()
        if not line:
            raise ReviewStopped("the plan review got no answer (its input ended)")
        return line.strip()

    def _edit(self, text: str) -> str:
        """``text`` after the person edited it in ``$EDITOR`` (or ``$VISUAL``, else vi)."""
        editor = os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi"
        with tempfile.TemporaryDirectory(prefix="agentwrite-plan-") as folder:
            path = Path(folder) / "plan.json"
            path.write_text(text, "utf-8")
            try:
                done = subprocess.run([*shlex.split(editor), str(path)], check=False)
            except OSError as exc:
                raise InputError(f"cannot start the editor {editor!r}: {exc.strerror}") from None
            if done.returncode != 0:
                raise InputError(
                    f"the editor {editor!r} exited with status {done.returncode}; nothing changed"
                )
            try:
                return path.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read the edited plan: {exc}") from None
