"""The synchronous API inside a running event loop (as in a notebook) and outside one."""

import asyncio
import threading

import pytest

import agentwrite
from agentwrite.domain import Plan, SectionPlan
from agentwrite.errors import InputError
from agentwrite.llm.scheduling import CURRENT_DOCUMENT, DocumentTicket
from agentwrite.sync import run_sync
from tests.scripted import writer_model


def test_write_inside_a_running_loop() -> None:
    async def notebook_cell() -> agentwrite.Document:
        return agentwrite.write("Write a 2000-word essay on tea", model=writer_model())

    doc = asyncio.run(notebook_cell())
    assert doc.words >= 2000
    assert [s.index for s in doc.sections] == list(range(len(doc.plan.sections)))


def test_an_input_error_inside_a_running_loop_reaches_the_caller() -> None:
    plan = Plan(title="T", sections=[SectionPlan(title="A", main_point="m", target_words=500)])

    async def notebook_cell() -> None:
        agentwrite.write("Essay", model=writer_model(), plan=plan, words=2000)

    with pytest.raises(InputError, match="add up to 500 words, but the target is 2000"):
        asyncio.run(notebook_cell())


def test_write_with_no_loop_running() -> None:
    doc = agentwrite.write("Write a 2000-word essay on tea", model=writer_model())
    assert doc.words >= 2000


def test_run_sync_keeps_the_callers_context_and_runs_elsewhere_only_inside_a_loop() -> None:
    ticket = DocumentTicket()

    async def where() -> tuple[threading.Thread, DocumentTicket | None]:
        return threading.current_thread(), CURRENT_DOCUMENT.get(None)

    async def cell() -> tuple[threading.Thread, DocumentTicket | None]:
        CURRENT_DOCUMENT.set(ticket)
        return run_sync(where)

    thread, seen = asyncio.run(cell())
    assert thread is not threading.current_thread() and seen is ticket
    assert run_sync(where)[0] is threading.current_thread()
