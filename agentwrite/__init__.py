"""agentwrite: plan-then-write long documents with language models.

The public names are imported on first use (PEP 562), so that ``import agentwrite`` and
the commands that need no workflow (``--help``, ``serve``, ``dataset stats``...) do not pay
for importing LangGraph.

>>> import agentwrite
>>> callable(agentwrite.write) and callable(agentwrite.awrite)
True
>>> agentwrite.__all__ == sorted(agentwrite._HOMES)  # each public name has its home
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentwrite.domain import Brief, Document, Plan, Section, SectionPlan, Usage
    from agentwrite.errors import AgentwriteError
    from agentwrite.graph.build import WriteGraph, build_graph
    from agentwrite.graph.context import RunContext
    from agentwrite.graph.state import WriteState
    from agentwrite.runner import aplan, awrite, write
    from agentwrite.settings import Settings, load_settings

_HOMES = {
    "AgentwriteError": "agentwrite.errors",
    "Brief": "agentwrite.domain",
    "Document": "agentwrite.domain",
    "Plan": "agentwrite.domain",
    "RunContext": "agentwrite.graph.context",
    "Section": "agentwrite.domain",
    "SectionPlan": "agentwrite.domain",
    "Settings": "agentwrite.settings",
    "Usage": "agentwrite.domain",
    "WriteGraph": "agentwrite.graph.build",
    "WriteState": "agentwrite.graph.state",
    "aplan": "agentwrite.runner",
    "awrite": "agentwrite.runner",
    "build_graph": "agentwrite.graph.build",
    "load_settings": "agentwrite.settings",
    "write": "agentwrite.runner",
}
"""Each public name and the module that defines it."""

__all__ = [
    "AgentwriteError",
    "Brief",
    "Document",
    "Plan",
    "RunContext",
    "Section",
    "SectionPlan",
    "Settings",
    "Usage",
    "WriteGraph",
    "WriteState",
    "aplan",
    "awrite",
    "build_graph",
    "load_settings",
    "write",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agentwrite' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
