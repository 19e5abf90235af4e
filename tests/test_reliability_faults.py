"""Drill 1: a document written through the fault proxy with 40% of its requests faulted."""

import pytest

from agentwrite.testing.fault_drill import fault_run
from agentwrite.testing.fault_proxy import Fault, FaultProxy, scripted
from agentwrite.testing.openai_server import OpenAIServer


@pytest.mark.parametrize(("mode", "seed"), [("sequential", 1), ("parallel", 2), ("sketch", 3)])
async def test_a_faulted_run_loses_nothing_and_repeats_nothing(mode: str, seed: int) -> None:
    run = await fault_run(mode, seed, rate=0.4, words=3000)  # six sections of SECTION_WORDS
    assert run.error is None
    assert run.faulted >= 0.3 * run.requests and run.requests >= 8
    assert run.planned == 6 and run.sections == list(range(run.planned))
    assert set(run.done_events.values()) == {1}
    assert run.lost == 0 and not run.leaked


async def test_every_kind_of_fault_is_survived_in_one_run() -> None:
    from agentwrite.runner import awrite
    from agentwrite.testing.fault_drill import BRIEF, fault_settings

    kinds = list(Fault)
    # three faults in a row, then a clean answer (a request must not fail past its retries)
    interleaved = [f for i in range(0, len(kinds), 3) for f in (*kinds[i : i + 3], None)]
    with (
        OpenAIServer() as upstream,
        FaultProxy(upstream.base_url, scripted(*interleaved), stall=1.0) as proxy,
    ):
        # six sections of SECTION_WORDS: enough clean answers for every fault
        doc = await awrite(BRIEF, settings=fault_settings(proxy.base_url, "sequential"), words=3000)
    assert proxy.counts() == {k: 1 for k in kinds}
    assert [s.index for s in doc.sections] == list(range(len(doc.plan.sections))) and len(doc.sections) == 6
    assert doc.markdown.count("\n## ") == len(doc.sections) and "FAULT-INJECTED" not in doc.markdown
