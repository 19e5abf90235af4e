"""The graph as an embedder runs it: ``astream`` with the progress events on the custom
stream, as JSON, and the section text as it streams."""

import asyncio
import json
from typing import Any

import pytest

import agentwrite
from agentwrite import WriteContext, build_graph
from agentwrite.domain import WriteMode
from agentwrite.events import SectionDelta, SectionDone, from_json
from agentwrite.llm.base import Capabilities
from agentwrite.settings import Settings
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import writer_model, writer_reply

BRIEF = {"instruction": "Write a 1500-word essay on tea", "target_words": 1500}


def stream(mode: WriteMode, ctx: WriteContext, start: Any) -> tuple[list[dict[str, Any]], Any]:
    """The custom events and the final state of a run of the graph from ``start``."""

    async def go() -> tuple[list[dict[str, Any]], Any]:
        custom: list[dict[str, Any]] = []
        state: Any = None
        parts = build_graph(mode).astream(start, context=ctx, stream_mode=["custom", "values"], version="v2")
        async for part in parts:
            if part["type"] == "custom":
                custom.append(part["data"])
            else:
                state = part["data"]
        return custom, state

    return asyncio.run(go())


@pytest.mark.parametrize("mode", ["sequential", "parallel", "sketch"])
def test_astream_gives_the_progress_events_as_json(mode: WriteMode) -> None:
    ctx = WriteContext(model=writer_model(), settings=Settings(mode=mode), stream_text=True)
    custom, state = stream(mode, ctx, {"brief": BRIEF})  # the brief as JSON, as a server's client sends it
    json.dumps(custom)  # every event is plain JSON
    kinds = [e["event"] for e in custom]
    sections = state["sections"]
    assert kinds[0] == "plan_ready" and custom[0]["source"] == "model"
    assert (
        kinds.count("section_started")
        == kinds.count("section_done")
        == len(sections)
        == len(state["plan"].sections)
    )
    assert state["markdown"].startswith("# ")
    done = {e["section"]["index"]: e for e in custom if e["event"] == "section_done"}
    for section in sections:
        assert from_json(done[section.index]) == SectionDone(section, len(sections))
        # the deltas of a section written in one request are its text as it streamed
        deltas = "".join(
            e["text"] for e in custom if e["event"] == "section_delta" and e["index"] == section.index
        )
        if section.usage.requests == 1:
            assert deltas.split() == section.text.split()
    assert kinds.index("plan_ready") < kinds.index("section_started") < kinds.index("section_delta")


def test_no_text_is_streamed_when_nobody_listens_or_the_backend_does_not_stream() -> None:
    quiet = WriteContext(model=writer_model(), settings=Settings())  # stream_text is off by default
    custom, _ = stream("sequential", quiet, {"brief": BRIEF})
    assert "section_delta" not in {e["event"] for e in custom} and "section_done" in {
        e["event"] for e in custom
    }
    whole = ScriptedModel(responder=writer_reply, capabilities=Capabilities(streaming_watch=False))
    custom, _ = stream(
        "parallel", WriteContext(model=whole, settings=Settings(), stream_text=True), {"brief": BRIEF}
    )
    assert "section_delta" not in {e["event"] for e in custom}


def test_awrite_passes_the_streamed_events_to_on_event() -> None:
    events: list[object] = []
    doc = asyncio.run(
        agentwrite.awrite(str(BRIEF["instruction"]), model=writer_model(), on_event=events.append)
    )
    deltas = [e for e in events if isinstance(e, SectionDelta)]
    assert {d.index for d in deltas} == set(range(len(doc.sections)))
    assert [e.section for e in events if isinstance(e, SectionDone)] == doc.sections


def test_the_package_exports_the_graph_and_its_types() -> None:
    assert {"build_graph", "WriteGraph", "WriteState", "WriteContext"} <= set(agentwrite.__all__)
    graph = build_graph("sequential")
    assert graph.context_schema is WriteContext
    assert set(graph.nodes) >= {"plan", "write_next", "stitch"}
