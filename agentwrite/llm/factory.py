"""Pick the backend from the settings: a server when a base URL is set, else in process."""

from __future__ import annotations

from typing import Any

from agentwrite.llm.base import ChatModel
from agentwrite.llm.limit import LimitedModel
from agentwrite.settings import Settings


def check_backend(settings: Settings) -> None:
    """Raise InputError, in one line, when the backend the settings name cannot run in this
    installation: without a base URL the model runs in process, which needs the ``local`` extra
    (and the bundled model's package, for the bundled model). Imports nothing heavy."""
    if settings.base_url:
        return
    from agentwrite.bundled import IN_PROCESS_MODULES, require_local_extra
    from agentwrite.serve import BUNDLED_ALIASES

    require_local_extra(
        "the in-process model",
        IN_PROCESS_MODULES,
        weights=settings.model in BUNDLED_ALIASES,
        instead="pass --base-url to use a server",
    )


def make_model(settings: Settings) -> ChatModel:
    """An OpenAI-compatible client for ``settings.base_url``, else the bundled model in
    process; either way bounded to ``settings.max_inflight`` requests at once."""
    check_backend(settings)
    inner: ChatModel
    if settings.base_url:
        from agentwrite.llm.openai_compat import OpenAICompatModel

        inner = OpenAICompatModel.from_settings(settings)
    else:
        from agentwrite.llm.local import LocalModel

        inner = LocalModel.from_settings(settings)
    return LimitedModel(inner, settings.max_inflight)


def unwrap(model: ChatModel) -> Any:
    """The innermost backend behind wrappers such as ``LimitedModel``."""
    while hasattr(model, "inner"):
        model = model.inner
    return model


async def context_window(model: ChatModel) -> int | None:
    """The model's context window in tokens, where the backend can tell it.

    Asking an HTTP server also proves it is reachable before any work starts.
    """
    backend = unwrap(model)
    if hasattr(backend, "server_info"):
        return (await backend.server_info()).max_model_len
    value = getattr(backend, "context_window", None)
    return value if isinstance(value, int) else None


def supports_structured_output(model: ChatModel) -> bool:
    """Whether the backend constrains output to a JSON schema (local models do not)."""
    return bool(getattr(unwrap(model), "supports_structured_output", True))
