"""The workflow as a LangGraph server serves it (``langgraph dev``, ``langgraph.json``).

A run's context on the server is JSON (``ServeContext``): settings for this run over the
server's own (defaults < config file named by ``AGENTWRITE_CONFIG`` < ``AGENTWRITE_*``
environment < the run's ``settings``). A run sends its requests to the server's own
``base_url`` or to one of its ``allowed_base_urls``, never elsewhere, and carries no key.
For each run the server calls ``graph``, which makes the model from those settings, binds a
``WriteContext`` to the nodes, and closes the model when the run ends; no live model is held
between runs. Input: ``{"brief": {"instruction": ...,
"target_words": ...}}`` (and a ``plan`` to skip the planner); progress events arrive on the
custom stream as the JSON of ``agentwrite.events``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph_sdk.runtime import ServerRuntime

from agentwrite.credentials import KEY_NAMES, public_url
from agentwrite.errors import InputError
from agentwrite.graph.build import Wrap, wire
from agentwrite.graph.context import WriteContext
from agentwrite.graph.state import WriteState
from agentwrite.runner import write_context
from agentwrite.settings import Settings, load_settings


@dataclass
class ServeContext:
    """A run's context on the server."""

    settings: dict[str, Any] = field(default_factory=dict)
    """Settings for this run, by their names in ``agentwrite.settings`` (``mode``, ``model``,
    ``max_context``, ``decoding``...; ``base_url`` only among the server's allowed ones)."""
    review: bool = False
    """Stop after the plan for a review (``agentwrite.graph.nodes.review``); a run that resumes
    the review must pass it too."""


class RefusedContext(InputError, ValueError):
    """A run's context the server will not run. A ValueError too, so that the LangGraph server
    shows the client its message (it hides the message of other errors)."""


ServedGraph = CompiledStateGraph[WriteState, ServeContext, WriteState, WriteState]


def served_graph(settings: Settings, ctx: WriteContext | None, *, review: bool = False) -> ServedGraph:
    """The workflow for ``settings.mode`` with ``ctx`` bound to every node (None: a graph the
    server only reads, for its schemas and a thread's state)."""
    graph = StateGraph(WriteState, context_schema=ServeContext)
    wire(graph, settings.mode, review=review, node=_bound(ctx) if ctx is not None else lambda f: f)
    return graph.compile()


def _bound(ctx: WriteContext) -> Wrap:
    """Node functions that see ``ctx`` as their runtime's context, whatever the run passed."""

    def wrap(node: Any) -> Any:
        async def bound(state: Any, runtime: Runtime[Any]) -> Any:
            update = node(state, runtime.override(context=ctx))
            return await update if inspect.isawaitable(update) else update

        return bound

    return wrap


@asynccontextmanager
async def graph(runtime: ServerRuntime[ServeContext]) -> AsyncIterator[ServedGraph]:
    """The graph factory ``langgraph.json`` names: a graph for each run, its model made from
    the run's settings and closed when the run ends."""
    run = runtime.execution_runtime
    context = _context(run.context if run is not None else None)
    settings = run_settings(context)
    if run is None:  # a read: the review node is there, so that a thread stopped at it reads right
        yield served_graph(settings, None, review=True)
        return
    async with write_context(settings, None, stream_text=True) as ctx:
        yield served_graph(settings, ctx, review=context.review)


def _context(given: ServeContext | dict[str, Any] | None) -> ServeContext:
    """A run's context as the server passes it to the factory (its JSON, as the client sent it)."""
    if isinstance(given, ServeContext):
        return given
    return ServeContext(**(given or {}))


def run_settings(context: ServeContext) -> Settings:
    """The run's settings: the server's (``AGENTWRITE_CONFIG``, ``AGENTWRITE_*``) with the
    run's own over them. The server's key goes only to its own servers: a run may name a
    base URL only from the server's ``allowed_base_urls``, and never carries a key (the
    server stores run contexts) nor widens the allow-list (InputError)."""
    config = os.environ.get("AGENTWRITE_CONFIG")
    given = {str(name).lower() for name in context.settings}
    if given & KEY_NAMES:
        raise RefusedContext(
            "a run's context may not carry an API key (the server stores run contexts); "
            "the server's own key (AGENTWRITE_API_KEY) is used"
        )
    if "allowed_base_urls" in given or "allowed-base-urls" in given:
        raise RefusedContext(
            "a run's context may not change allowed_base_urls; the server's operator sets it"
        )
    server = load_settings(Path(config) if config else None)
    try:
        settings = load_settings(Path(config) if config else None, context.settings)
    except InputError as exc:
        raise RefusedContext(f"the run's settings: {exc}") from None
    allowed = {*server.base_url, *server.allowed_base_urls}
    if refused := [url for url in settings.base_url if url not in allowed]:
        raise RefusedContext(
            f"a run's context may not send requests to {public_url(refused[0])}: the server allows "
            + (", ".join(public_url(u) for u in sorted(allowed)) or "none")
            + " (allowed_base_urls in the server's settings)"
        )
    return settings
