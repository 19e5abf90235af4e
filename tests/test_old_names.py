"""Names and import paths renamed for one word per idea still answer, so that code written
against them (the README's examples before the renames) keeps working."""

from __future__ import annotations

import agentwrite
from agentwrite.evaluation import predict
from agentwrite.evaluation.run import SuiteProgress, arun_suite, run_suite
from agentwrite.graph.context import RunContext, WriteContext
from agentwrite.material.read import split_text
from agentwrite.runner import run_context, write_context
from agentwrite.sources import split_text as old_split_text


def test_the_old_names_are_the_new_objects() -> None:
    assert agentwrite.RunContext is RunContext is WriteContext
    assert run_context is write_context
    assert (run_suite, arun_suite, SuiteProgress) == (
        predict.run_suite,
        predict.arun_suite,
        predict.SuiteProgress,
    )
    assert old_split_text is split_text
