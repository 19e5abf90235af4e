"""The fault drill: one document written in process through the fault proxy, which answers
a seeded share of its requests with faults (resets, stalls, 5xx, torn streams); the record
says what was injected and what survived."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from agentwrite.events import Event, SectionDone
from agentwrite.settings import Settings
from agentwrite.testing.fault_proxy import MARKER, Fault, FaultProxy, seeded
from agentwrite.testing.openai_server import OpenAIServer

BRIEF = "Write a travel guide to the old tea road of Yunnan for a first-time visitor."
SECTION_WORDS = 500
"""The drills' largest section budget: the loopback writer plans the fewest sections the
budget bounds allow, so a 3,000-word document has six sections (enough requests to aim at)."""


def fault_settings(base_url: str, mode: str, **extra: Any) -> Settings:
    """Settings for a run against a faulting server: short timeouts, quick retries."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "model": "test-model",
        "mode": mode,
        "timeout": 0.5,
        "connect_timeout": 0.5,
        "max_retries": 8,
        "retry_base_delay": 0.01,
        "retry_max_delay": 0.05,
        "max_section_words": SECTION_WORDS,
    }
    return Settings(**(values | extra))


@dataclass
class FaultRun:
    """One document written through the fault proxy."""

    mode: str
    requests: int
    faults: Counter[Fault]
    planned: int
    sections: list[int]
    done_events: Counter[int]
    leaked: bool
    error: str | None = None

    @property
    def faulted(self) -> int:
        return sum(self.faults.values())

    @property
    def lost(self) -> int:
        """Planned sections missing from the document, or written more than once."""
        missing = self.planned - len(set(self.sections))
        twice = sum(n - 1 for n in self.done_events.values() if n > 1)
        return missing + twice


async def fault_run(mode: str, seed: int, rate: float = 0.4, words: int = 3000) -> FaultRun:
    """Write one ``words``-word document with ``rate`` of its requests faulted."""
    from agentwrite.runner import awrite

    events: list[Event] = []
    with (
        OpenAIServer() as upstream,
        FaultProxy(upstream.base_url, seeded(rate, seed), stall=1.0, delay=0.05, hold=0.1) as proxy,
    ):
        try:
            doc = await awrite(
                BRIEF, settings=fault_settings(proxy.base_url, mode), words=words, on_event=events.append
            )
        except Exception as exc:  # the record says what went wrong; the test asserts there is none
            return FaultRun(mode, proxy.requests, proxy.counts(), 0, [], Counter(), False, repr(exc))
    done = Counter(e.section.index for e in events if isinstance(e, SectionDone))
    text = doc.markdown + json.dumps(doc.sidecar(), ensure_ascii=False)
    leaked = MARKER in text or "Bad Gateway" in text
    return FaultRun(
        mode, proxy.requests, proxy.counts(), len(doc.plan.sections), [s.index for s in doc.sections], done,
        leaked,
    )  # fmt: skip
