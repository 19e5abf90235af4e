"""Typed errors. Every failure is raised, never returned as text.

``InputError`` means the user gave something unusable (CLI exit code 2);
every other ``AgentwriteError`` is a runtime failure (exit code 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentwrite.domain import Plan


class AgentwriteError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 1


class InputError(AgentwriteError):
    """Bad input from the user: a brief, a target, a file, a flag."""

    exit_code = 2


class ReviewStopped(AgentwriteError):
    """The plan review got no answer (its input ended)."""


class ModelError(AgentwriteError):
    """A model call failed for good (after the retries it was allowed)."""


class ServerUnreachable(ModelError):
    """No connection could be made to the model server."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the model server at {url}: {reason}")
        self.url = url
        self.reason = reason


class NoServerLeft(ServerUnreachable):
    """Every server of a pool failed; ``failures`` says why, by URL."""

    def __init__(self, failures: dict[str, str]) -> None:
        ModelError.__init__(
            self, "no model server left: " + "; ".join(f"{url} ({why})" for url, why in failures.items())
        )
        self.url = ", ".join(failures)
        self.reason = "every server failed"
        self.failures = failures


class ContextFull(ModelError):
    """A prompt leaves too little room for an answer in the model's context window."""


class EmptySection(ModelError):
    """A section came back empty, or looping from its first sentence, every time it was asked."""


class ModelRequestError(ModelError):
    """The server answered with an error status or an unusable body."""

    def __init__(self, url: str, status: int | None, detail: str) -> None:
        where = f"HTTP {status} from {url}" if status is not None else f"bad answer from {url}"
        super().__init__(f"{where}: {detail}")
        self.url = url
        self.status = status
        self.reason = f"HTTP {status}: {detail}" if status is not None else f"bad answer: {detail}"


class PromptTooLong(ModelRequestError):
    """The server refused a request for not fitting its context window. ``prompt_tokens`` is
    the prompt's size as the refusal tells it: exact, or a lower bound (vLLM names only
    window + 1 - max_tokens); 0 when it cannot tell."""

    def __init__(self, url: str, status: int | None, detail: str, prompt_tokens: int) -> None:
        super().__init__(url, status, detail)
        self.prompt_tokens = prompt_tokens


class PlanError(AgentwriteError):
    """The model did not produce a usable plan within the allowed attempts."""


class PlanHygieneError(PlanError):
    """A plan that parses and fits the target but is untidy: labelled titles ("Title 1:"),
    repeated titles, main points that are empty or restate their title.

    The message names the problems (it is fed back to the model). ``cleaned`` is the plan
    with what could be cleaned cleaned and ``repairs`` says what: the planner falls back to
    it when no attempt gives a tidy plan, choosing the attempt with the fewest ``problems``
    (those left in ``cleaned``).
    """

    def __init__(self, message: str, cleaned: Plan, repairs: list[str], problems: int = 1) -> None:
        super().__init__(message)
        self.cleaned = cleaned
        self.repairs = repairs
        self.problems = problems


class PromptError(AgentwriteError):
    """A prompt template was rendered with missing or unused variables."""


class ServerStartError(AgentwriteError):
    """A model server we started did not come up; its log file says why."""

    def __init__(self, reason: str, log_path: Path, tail: str = "") -> None:
        super().__init__(f"{reason}; log: {log_path}" + (f"\nlast lines of the log:\n{tail}" if tail else ""))
        self.log_path = log_path
