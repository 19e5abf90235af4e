"""Pick the backend from the settings: a server when a base URL is set, else in process."""

from __future__ import annotations

from agentwrite.llm.base import ChatModel
from agentwrite.llm.limit import LimitedModel
from agentwrite.settings import Settings


def check_backend(settings: Settings) -> None:
    """Raise InputError, in one line, when the backend the settings name cannot run in this
    installation: without a base URL the model runs in process, which needs the ``local`` extra
    (and the bundled model's package, for the bundled model). Imports nothing heavy."""
    if settings.base_url:
        return
    from agentwrite.llm.bundled import BUNDLED_ALIASES, IN_PROCESS_MODULES, require_local_extra

    require_local_extra(
        "the in-process model",
        IN_PROCESS_MODULES,
        weights=settings.model in BUNDLED_ALIASES,
        instead="pass --base-url to use a server",
    )


def make_model(settings: Settings) -> ChatModel:
    """A pool of OpenAI-compatible clients, one per URL of ``settings.base_url``, else the
    bundled model in process; either way bounded to ``settings.max_inflight`` requests at once."""
    check_backend(settings)
    inner: ChatModel
    if settings.base_url:
        from agentwrite.llm.endpoints import EndpointPool
        from agentwrite.llm.openai_compat import OpenAICompatModel

        inner = EndpointPool([OpenAICompatModel.from_settings(settings, url) for url in settings.base_url])
    else:
        from agentwrite.llm.local import LocalModel

        inner = LocalModel.from_settings(settings)
    return LimitedModel(inner, settings.max_inflight)
