"""A run stopped mid-document continues from its checkpoint without redoing finished work."""

import asyncio
from pathlib import Path

import pytest

from agentwrite.errors import InputError
from agentwrite.runner import awrite
from agentwrite.settings import Settings
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import asked_section, writer_model, writer_reply

BRIEF = "Write a 3000-word essay on the tea horse road"


class Crash(Exception):
    """Stands in for a process dying mid-request."""


def crashing_model(fail_on_section: int) -> ScriptedModel:
    """Plans and writes like writer_model, but dies when asked for one section."""

    def reply(messages, params):
        if asked_section(messages[-1]["content"]) == fail_on_section:
            raise Crash(f"died writing section {fail_on_section}")
        return writer_reply(messages, params)

    return ScriptedModel(responder=reply)


def sections_requested(model: ScriptedModel) -> list[int]:
    return [n for c in model.calls if (n := asked_section(c.messages[-1]["content"])) is not None]


@pytest.mark.parametrize("mode", ["sequential", "parallel", "sketch"])
def test_resume_skips_finished_sections(tmp_path: Path, mode: str) -> None:
    settings = Settings(mode=mode)
    clean = asyncio.run(awrite(BRIEF, model=writer_model(), settings=settings))
    middle = len(clean.plan.sections) // 2 + 1  # a section with others before and after it
    first = crashing_model(fail_on_section=middle)
    with pytest.raises(Crash):
        asyncio.run(awrite(BRIEF, model=first, settings=settings, run_dir=tmp_path / "run"))
    done_before = set(sections_requested(first)) - {middle}

    second = writer_model()
    doc = asyncio.run(awrite(BRIEF, model=second, settings=settings, run_dir=tmp_path / "run", resume=True))
    again = sections_requested(second)
    assert not set(again) & done_before, "finished sections were requested again"
    assert middle in again and len(clean.plan.sections) > 2
    assert all(c.params.json_schema is None or "sketches" in str(c.params.json_schema) for c in second.calls)
    if mode == "sketch":
        assert not any("sketches" in str(c.params.json_schema) for c in second.calls)  # sketch kept too
    assert len(doc.sections) == len(clean.sections) == len(doc.plan.sections)
    assert doc.plan == clean.plan


def test_finished_run_resumes_without_any_call(tmp_path: Path) -> None:
    asyncio.run(awrite(BRIEF, model=writer_model(), run_dir=tmp_path / "run"))
    again = writer_model()
    doc = asyncio.run(awrite(BRIEF, model=again, run_dir=tmp_path / "run", resume=True))
    assert again.calls == [] and doc.words >= 3000


def test_existing_run_needs_resume_and_the_same_brief(tmp_path: Path) -> None:
    with pytest.raises(Crash):
        asyncio.run(awrite(BRIEF, model=crashing_model(2), run_dir=tmp_path / "run"))
    with pytest.raises(InputError, match="pass --resume"):
        asyncio.run(awrite(BRIEF, model=writer_model(), run_dir=tmp_path / "run"))
    with pytest.raises(InputError, match="different brief"):
        asyncio.run(awrite("Another brief", model=writer_model(), run_dir=tmp_path / "run", resume=True))
    with pytest.raises(InputError, match="sequential-mode run"):
        asyncio.run(
            awrite(
                BRIEF,
                model=writer_model(),
                run_dir=tmp_path / "run",
                resume=True,
                settings=Settings(mode="parallel"),
            )
        )
