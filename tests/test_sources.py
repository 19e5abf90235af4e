"""The user's own material (``--source``): chunks, bad files, the plan's assignment, the
section prompts that carry it, resume, and prompts unchanged without it."""

import asyncio
import hashlib
import json
import re
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.domain import Plan, SectionPlan, Usage
from agentwrite.errors import InputError
from agentwrite.llm.base import Capabilities, Completion, GenerationParams, Message
from agentwrite.material.read import CHUNK_WORDS, load_material, size, split_text
from agentwrite.runner import aplan, awrite
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import prose, writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.scripted_model import RecordedCall, ScriptedModel
from tests.scripted import asked_section, writer_reply

BRIEF = "Write a 2000-word travel guide to Yunnan"
NOTES = """# Kunming

We landed in Kunming on 3 March. The flower market at Dounan sells roses by the armful.

## Dali

Dali's old town has stone lanes. We rented bikes and rode around Erhai Lake, 42 km in all.

## Lijiang

Tiger Leaping Gorge took two days on the high trail; the Halfway Guesthouse has the view.

## Food

Crossing-the-bridge noodles, fried goat cheese, and pu'er tea pressed into cakes of 357 g.
"""
BUDGET = "Flights Beijing-Kunming cost 1,200 yuan each way. Guesthouses cost 150 to 300 yuan a night.\n"
MARKER = re.compile(r"^\[([^\]\n]+#\d+)\]", re.MULTILINE)


@pytest.fixture
def material(tmp_path: Path) -> list[Path]:
    notes, budget = tmp_path / "notes.md", tmp_path / "budget.txt"
    notes.write_text(NOTES, "utf-8")
    budget.write_text(BUDGET, "utf-8")
    return [notes, budget]


def run(model: ScriptedModel, **kwargs: object):
    return asyncio.run(awrite(BRIEF, model=model, **kwargs))


def section_calls(model: ScriptedModel) -> dict[int, RecordedCall]:
    """The first request for each section, by section number."""
    calls: dict[int, RecordedCall] = {}
    for call in model.calls:
        if (number := asked_section(call.messages[-1]["content"])) is not None and number not in calls:
            calls[number] = call
    return calls


def shown(call: RecordedCall) -> list[str]:
    """The chunk ids a request shows."""
    return MARKER.findall(call.messages[-1]["content"])


def planner(sections: list[dict[str, object]], title: str = "Yunnan") -> Callable[..., Completion | str]:
    """Answers the plan request with these sections (JSON), everything else as writer_reply."""

    def reply(messages: list[Message], params: GenerationParams) -> Completion | str:
        if params.json_schema is not None and "sections" in params.json_schema.get("properties", {}):
            return json.dumps({"title": title, "sections": sections})
        return writer_reply(messages, params)

    return reply


def planned(*sources: list[str]) -> list[dict[str, object]]:
    titles = ["Kunming and its flowers", "Dali and Erhai Lake", "Lijiang and the gorge", "Food and budget"]
    return [
        {
            "title": t,
            "main_point": f"What to see in {t.lower()}, in Yunnan.",
            "target_words": 500,
            "sources": s,
        }
        for t, s in zip(titles, sources, strict=True)
    ]


# --- chunks ----------------------------------------------------------------------------------


def test_chunks_are_bounded_keep_their_headings_and_lose_no_word() -> None:
    long_paragraph = " ".join(f"Sentence {i} tells of tea roads and caravans." for i in range(200))
    text = f"# Tea\n\n{long_paragraph}\n\n## Trade\n\nShort one.\n\nAnother short one."
    chunks = split_text(text, "tea.md")
    assert [c.id for c in chunks] == [f"tea.md#{i}" for i in range(1, len(chunks) + 1)]
    assert all(size(re.sub(r"(?m)^#+ .*$", "", c.text)) <= CHUNK_WORDS for c in chunks)
    assert len(chunks) > 3 and chunks[0].heading == "Tea" and chunks[-1].heading == "Trade"
    assert chunks[-1].text == "## Trade\n\nShort one.\n\nAnother short one."
    assert " ".join(c.text for c in chunks).split() == text.split()
    assert split_text(text, "tea.md") == chunks  # stable ids for the same text
    chinese = split_text("茶马古道。" * 200, "zh.txt", max_words=100)
    assert len(chinese) == 8 and all(size(c.text) <= 100 for c in chinese)


def test_files_named_alike_stay_apart_and_pdfs_are_read(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "notes.md").write_text("Tea grows on slopes.", "utf-8")
    (tmp_path / "b" / "notes.md").write_text("Caravans carried it.", "utf-8")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(tiny_pdf(["Tea grows in Yun-", "nan, on high slopes.", "Caravans carried it."]))
    chunks = load_material([tmp_path / "a" / "notes.md", tmp_path / "b" / "notes.md", pdf])
    assert [c.id for c in chunks] == ["notes.md#1", f"{tmp_path / 'b' / 'notes.md'}#1", "report.pdf#1"]
    assert chunks[2].text == "Tea grows in Yunnan, on high slopes. Caravans carried it."


def tiny_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text is ``lines``, one under the other."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


# --- bad files -------------------------------------------------------------------------------

BAD_FILES: list[tuple[str, bytes | None, str]] = [
    ("missing.md", None, "does not exist"),
    ("latin1.txt", "Café au lait".encode("latin-1"), "is not UTF-8 text"),
    ("binary.md", b"\x00\x01\x02 tea", "holds NUL bytes"),
    ("empty.md", b"  \n\n \t\n", "is empty"),
    ("broken.pdf", b"%PDF-1.4\nnot really", "cannot read PDF"),
]


@pytest.mark.parametrize(("name", "data", "fragment"), BAD_FILES)
def test_a_bad_source_is_one_line(tmp_path: Path, name: str, data: bytes | None, fragment: str) -> None:
    if name.endswith(".pdf"):
        pytest.importorskip("pypdf")
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    with pytest.raises(InputError, match=re.escape(fragment)) as raised:
        load_material([path])
    assert "\n" not in str(raised.value) and str(path) in str(raised.value)


def test_a_pdf_without_the_extra_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "pypdf", None)  # import pypdf now fails
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(tiny_pdf(["Tea."]))
    with pytest.raises(InputError, match=r"needs the 'sources' extra: pip install 'agentwrite\[sources\]'"):
        load_material([pdf])


def test_a_folder_or_a_file_given_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "n.md").write_text("Tea.", "utf-8")
    with pytest.raises(InputError, match="is a folder"):
        load_material([tmp_path])
    with pytest.raises(InputError, match="given twice"):
        load_material([tmp_path / "n.md", tmp_path / "n.md"])


@pytest.fixture(scope="module")
def server():
    with OpenAIServer(writer_handler) as srv:
        yield srv


@pytest.mark.parametrize(("name", "data", "fragment"), BAD_FILES)
def test_the_cli_exits_2_on_a_bad_source_before_any_call(
    tmp_path: Path, server: OpenAIServer, name: str, data: bytes | None, fragment: str
) -> None:
    if name.endswith(".pdf"):
        pytest.importorskip("pypdf")  # a damaged PDF's warnings stay off the one line too
    bad = tmp_path / "in" / name
    bad.parent.mkdir()
    if data is not None:
        bad.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    before = len(server.requests)
    result = CliRunner().invoke(
        app,
        ["write", BRIEF, "--source", str(bad), "--base-url", server.base_url, "-o", str(out / "d.md")],
        env={"AGENTWRITE_BASE_URL": ""},
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("agentwrite: error:") and fragment in lines[0], lines
    assert len(server.requests) == before, "no model call for a bad source"
    assert list(out.iterdir()) == [], "no run folder, no output"


def test_the_cli_writes_from_sources(tmp_path: Path, server: OpenAIServer, material: list[Path]) -> None:
    before = len(server.requests)
    out = tmp_path / "guide.md"
    args = ["write", BRIEF, "--base-url", server.base_url, "-o", str(out), "-q"]
    result = CliRunner().invoke(
        app,
        [*args, "--source", str(material[0]), "--source", str(material[1])],
        env={"AGENTWRITE_BASE_URL": ""},
    )
    assert result.exit_code == 0, result.output
    sidecar = json.loads((tmp_path / "guide.md.json").read_text("utf-8"))
    assert sidecar["sources"] == {
        "notes.md": [f"notes.md#{i}" for i in (1, 2, 3, 4)],
        "budget.txt": ["budget.txt#1"],
    }
    used = {i for s in sidecar["sections"] for i in s["sources"]}
    assert used == {"notes.md#1", "notes.md#2", "notes.md#3", "notes.md#4", "budget.txt#1"}
    sent = json.dumps([r.body for r in server.requests[before:]])
    assert "Erhai Lake, 42 km in all" in sent and "1,200 yuan each way" in sent
    assert not (tmp_path / "guide.md.run").exists()


def test_plan_then_write_with_the_same_sources(
    tmp_path: Path, server: OpenAIServer, material: list[Path]
) -> None:
    sources = ["--source", str(material[0]), "--source", str(material[1])]
    env = {"AGENTWRITE_BASE_URL": ""}
    planned_out = CliRunner().invoke(app, ["plan", BRIEF, "--base-url", server.base_url, *sources], env=env)
    assert planned_out.exit_code == 0, planned_out.output
    plan = json.loads(planned_out.stdout)
    assert {i for s in plan["sections"] for i in s["sources"]} == {
        "notes.md#1", "notes.md#2", "notes.md#3", "notes.md#4", "budget.txt#1"
    }  # fmt: skip
    (tmp_path / "plan.json").write_text(planned_out.stdout, "utf-8")
    before = len(server.requests)
    out = tmp_path / "guide.md"
    args = ["write", BRIEF, "--plan", str(tmp_path / "plan.json"), "-o", str(out), "-q", *sources]
    result = CliRunner().invoke(app, [*args, "--base-url", server.base_url], env=env)
    assert result.exit_code == 0, result.output
    bodies = [r.body for r in server.requests[before:] if r.body and "messages" in r.body]
    assert not any("response_format" in b for b in bodies), "no planner call"
    sidecar = json.loads((tmp_path / "guide.md.json").read_text("utf-8"))
    assert [s["sources"] for s in sidecar["sections"]] == [s["sources"] for s in plan["sections"]]


# --- the plan's assignment -------------------------------------------------------------------


def test_the_plan_assigns_chunks_and_the_sidecar_records_them(material: list[Path]) -> None:
    ids = [["notes.md#1"], ["Notes.md #2", "notes.md#9"], ["[notes.md#3]"], ["notes.md#4", "budget.txt#1"]]
    model = ScriptedModel(responder=planner(planned(*ids)))
    doc = run(model, sources=material)
    first = model.calls[0]
    assert "## The user's material" in first.messages[-1]["content"]
    assert shown(first) == ["notes.md#1", "notes.md#2", "notes.md#3", "notes.md#4", "budget.txt#1"]
    items = first.params.json_schema["$defs"]["SectionPlan"]["properties"]["sources"]["items"]
    assert items["enum"] == shown(first)
    sidecar = doc.sidecar()
    assert [s["sources"] for s in sidecar["plan"]["sections"]] == [
        ["notes.md#1"],
        ["notes.md#2"],
        ["notes.md#3"],
        ["notes.md#4", "budget.txt#1"],
    ]
    assert [s["sources"] for s in sidecar["sections"]] == [s["sources"] for s in sidecar["plan"]["sections"]]
    assert sidecar["plan_repairs"] == ['section 2: unknown source "notes.md#9" dropped']
    assert sidecar["sources"]["budget.txt"] == ["budget.txt#1"]


def test_section_prompts_carry_their_own_chunks(material: list[Path]) -> None:
    chunks = load_material(material)
    text = {c.id: c.text.splitlines()[-1] for c in chunks}  # a line of each chunk's body
    model = ScriptedModel(
        responder=planner(
            planned(["notes.md#1"], ["notes.md#2"], ["notes.md#3"], ["notes.md#4", "budget.txt#1"])
        )
    )
    doc = run(model, sources=chunks)  # chunks made before the run
    calls = section_calls(model)
    assert len(calls) == len(doc.sections) == 4
    for number, call in calls.items():
        own = doc.plan.sections[number - 1].sources
        prompt = call.messages[-1]["content"]
        assert shown(call) == own
        assert all(text[i] in prompt for i in own)
        assert not any(text[i] in prompt for i in text if i not in own)
        assert prompt.index("The text so far:") < prompt.index("## Material for this section")
        assert prompt.index("## Material for this section") < prompt.index("Now write the part titled")


@pytest.mark.parametrize("mode", ["parallel", "sketch"])
def test_fanned_out_sections_carry_their_chunks(material: list[Path], mode: str) -> None:
    model = ScriptedModel(
        responder=planner(planned(["notes.md#1"], ["notes.md#2"], ["notes.md#3"], ["notes.md#4"]))
    )
    doc = run(model, sources=material, settings=Settings(mode=mode))
    assert [shown(c) for _, c in sorted(section_calls(model).items())] == [
        ["notes.md#1"],
        ["notes.md#2"],
        ["notes.md#3"],
        ["notes.md#4", "budget.txt#1"],
    ]  # budget.txt#1, left out by the plan, went to the section on food and budget
    assert doc.sections[3].sources == ["notes.md#4", "budget.txt#1"]
    assert any("left out" in note for note in doc.plan_repairs)


def test_chunks_are_cut_to_fit_a_small_window(tmp_path: Path) -> None:
    notes = tmp_path / "long.md"
    notes.write_text(
        "\n\n".join(f"Fact {i}: " + "the caravans carried tea north. " * 40 for i in range(12)), "utf-8"
    )
    model = ScriptedModel(responder=writer_reply, context_window=4096)
    doc = run(model, sources=[notes], words=1200)
    for number, call in section_calls(model).items():
        assert call.params.max_tokens >= 200  # the material left room for the answer
        assert shown(call) == doc.sections[number - 1].sources
    assert {i for s in doc.sections for i in s.sources} == {f"long.md#{i}" for i in range(1, 13)}


def test_without_a_plan_assignment_every_chunk_goes_where_it_fits(material: list[Path]) -> None:
    model = ScriptedModel(responder=planner(planned([], [], [], [])))
    doc = run(model, sources=material)
    assert [s.sources for s in doc.plan.sections] == [
        ["notes.md#1"],
        ["notes.md#2"],
        ["notes.md#3"],
        ["notes.md#4", "budget.txt#1"],
    ]
    assert doc.plan_repairs == [
        "no section was given material; each chunk went to the section that fits it best"
    ]


def test_a_model_that_never_plans_tidily_writes_to_the_materials_headings(material: list[Path]) -> None:
    untidy = [
        {"title": "Section", "main_point": "Section", "target_words": 500, "sources": []} for _ in range(4)
    ]
    model = ScriptedModel(responder=planner(untidy, title="The document"))
    doc = run(model, sources=material)
    assert doc.plan.title == "Kunming"  # the material's top-level heading
    assert [(s.title, s.sources) for s in doc.plan.sections] == [
        ("Kunming", ["notes.md#1"]),
        ("Dali", ["notes.md#2"]),
        ("Lijiang", ["notes.md#3"]),
        ("Food", ["notes.md#4", "budget.txt#1"]),
    ]
    assert doc.plan.sections[1].main_point == "Dali's old town has stone lanes."
    assert sum(s.target_words for s in doc.plan.sections) == 2000
    assert doc.plan_repairs == [
        "the model's plans stayed untidy; the plan follows the headings of the material"
    ]


def test_a_model_that_never_plans_tidily_keeps_its_cleaned_plan_without_headed_material(
    tmp_path: Path,
) -> None:
    (plain := tmp_path / "plain.txt").write_text(BUDGET, "utf-8")
    untidy = [
        {"title": "Section", "main_point": "Section", "target_words": 500, "sources": []} for _ in range(4)
    ]
    doc = run(ScriptedModel(responder=planner(untidy)), sources=[plain])
    assert "the plan follows the headings of the material" not in " ".join(doc.plan_repairs)
    assert len(doc.plan.sections) == 4


def test_a_line_format_plan_names_its_sources(material: list[Path]) -> None:
    lines = "\n".join(
        f"Paragraph {n} - Main Point: {point} - Word Count: 500 words - Sources: {ids}"
        for n, (point, ids) in enumerate(
            [("Kunming, Yunnan.", "notes.md#1"), ("Dali, Yunnan.", "notes.md#2"),
             ("Lijiang, Yunnan.", "notes.md#3"), ("Food and money in Yunnan.", "notes.md#4, budget.txt#1")],
            start=1,
        )
    )  # fmt: skip

    def reply(messages: list[Message], params: GenerationParams) -> Completion | str:
        return (
            f"Title: Yunnan\n{lines}"
            if "- Word Count:" in messages[-1]["content"]
            else writer_reply(messages, params)
        )

    model = ScriptedModel(responder=reply, capabilities=Capabilities(structured_output=False))
    doc = run(model, sources=material)
    assert "- Sources: notes.md#1, notes.md#2" in model.calls[0].messages[-1]["content"]
    assert [s.sources for s in doc.sections] == [
        ["notes.md#1"],
        ["notes.md#2"],
        ["notes.md#3"],
        ["notes.md#4", "budget.txt#1"],
    ]
    assert doc.plan_repairs == []


def test_a_user_plan_naming_an_unknown_chunk_is_refused(material: list[Path], tmp_path: Path) -> None:
    plan = Plan(
        title="Y", sections=[SectionPlan(title="A", main_point="a b", target_words=2000, sources=["x#1"])]
    )
    with pytest.raises(InputError, match='names source "x#1"'):
        run(ScriptedModel(), sources=material, plan=plan, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_user_plan_without_sources_gets_every_chunk(material: list[Path]) -> None:
    sections = [SectionPlan.model_validate({**s, "sources": []}) for s in planned([], [], [], [])]
    model = ScriptedModel(responder=writer_reply)
    doc = run(model, sources=material, plan=Plan(title="Yunnan", sections=sections))
    assert not any(c.params.json_schema for c in model.calls), "no planner call"
    assert [s.sources for s in doc.sections] == [
        ["notes.md#1"], ["notes.md#2"], ["notes.md#3"], ["notes.md#4", "budget.txt#1"]
    ]  # fmt: skip
    assert doc.plan_source == "user"


def test_aplan_plans_with_the_material(material: list[Path]) -> None:
    model = ScriptedModel(responder=planner(planned(["notes.md#1"], ["notes.md#2"], ["notes.md#3"], [])))
    plan = asyncio.run(aplan(BRIEF, model=model, sources=material))
    assert [s.sources for s in plan.sections] == [
        ["notes.md#1"], ["notes.md#2"], ["notes.md#3"], ["notes.md#4", "budget.txt#1"]
    ]  # fmt: skip


# --- resume ----------------------------------------------------------------------------------


class Crash(Exception):
    """Stands in for a process dying mid-request."""


def test_resume_keeps_the_chunks(material: list[Path], tmp_path: Path) -> None:
    plan = planned(["notes.md#1"], ["notes.md#2"], ["notes.md#3"], ["notes.md#4", "budget.txt#1"])

    def dies_on_section_3(messages: list[Message], params: GenerationParams) -> Completion | str:
        if asked_section(messages[-1]["content"]) == 3:
            raise Crash
        return planner(plan)(messages, params)

    with pytest.raises(Crash):
        run(ScriptedModel(responder=dies_on_section_3), sources=material, run_dir=tmp_path / "run")
    with pytest.raises(InputError, match="other source material"):
        run(ScriptedModel(), sources=material[:1], run_dir=tmp_path / "run", resume=True)
    for path in material:
        path.unlink()  # the run's checkpoint holds the chunks: the files are no longer needed
    again = ScriptedModel(responder=writer_reply)
    doc = run(again, run_dir=tmp_path / "run", resume=True)
    assert sorted(section_calls(again)) == [3, 4]
    assert shown(section_calls(again)[4]) == ["notes.md#4", "budget.txt#1"]
    assert [s.sources for s in doc.sections] == [
        ["notes.md#1"],
        ["notes.md#2"],
        ["notes.md#3"],
        ["notes.md#4", "budget.txt#1"],
    ]
    assert doc.sources == {
        "notes.md": [f"notes.md#{i}" for i in (1, 2, 3, 4)],
        "budget.txt": ["budget.txt#1"],
    }


# --- without sources, nothing changes --------------------------------------------------------

_ASKED = re.compile(r"(?:in|for) about (\d+) (?:more )?words")


def steady_writer(messages: list[Message], params: GenerationParams) -> Completion:
    """Plans and sketches as writer_reply; sections of exactly the words the step asks for,
    the same for the same step (nothing here depends on max_tokens or min_tokens)."""
    step = messages[-1]["content"]
    asked = _ASKED.search(step)
    if params.json_schema is not None or asked is None or "- Word Count:" in step:
        return writer_reply(messages, params)
    text = prose(int(asked.group(1)), seed=zlib.crc32(step.encode()))
    prompt_tokens = sum(len(m["content"].split()) for m in messages)
    return Completion(
        text, "stop", Usage(prompt_tokens=prompt_tokens, completion_tokens=len(text.split()), requests=1)
    )


PROMPTS_BEFORE_SOURCES = {
    ("sequential", True, None): (4, "78a5b8edb4fa1856"),
    ("parallel", True, None): (4, "d726f1b43b3ca4ca"),
    ("sketch", True, None): (5, "e2ea565ec5d385a5"),
    ("sequential", False, 4096): (7, "dc2043599b62724f"),
    ("parallel", False, 4096): (7, "bfccc3649ed00a67"),
}
"""What these runs sent (messages and JSON schemas, hashed) at 74541e5, before --source;
recorded again when the fake began to answer from the request's schema and plan format (the
agent's prompts were unchanged: the old fake still gave the figures of 74541e5), when the
section prompts were rewritten brief-first with the language named (the same number of calls),
and when the fake's plan began to name the instruction's subject (the same number of calls)."""


@pytest.mark.parametrize(("mode", "structured", "window"), list(PROMPTS_BEFORE_SOURCES))
def test_without_sources_the_prompts_are_byte_identical(
    mode: str, structured: bool, window: int | None
) -> None:
    model = ScriptedModel(
        responder=steady_writer,
        capabilities=Capabilities(structured_output=structured),
        context_window=window,
    )
    doc = asyncio.run(
        awrite("Write a 3000-word essay on the tea horse road", model=model, settings=Settings(mode=mode))
    )
    digest = hashlib.sha256()
    for call in model.calls:
        digest.update(
            json.dumps([call.messages, call.params.json_schema], sort_keys=True, ensure_ascii=False).encode()
        )
    # A prompt changed on purpose changes this: record the new figures here.
    assert (len(model.calls), digest.hexdigest()[:16]) == PROMPTS_BEFORE_SOURCES[(mode, structured, window)]
    sent = json.dumps([[c.messages, c.params.json_schema] for c in model.calls])
    assert "sources" not in sent and "material" not in sent
    assert "sources" not in json.dumps(doc.sidecar())
