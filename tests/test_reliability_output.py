"""Model output that tries to break the pipeline: the document stays well-formed."""

import json

import pytest
from markdown_it import MarkdownIt

from agentwrite.evaluation.judge import JudgeError, parse_ratings
from agentwrite.llm.base import GenerationParams, Message
from agentwrite.llm.vllm_server import DEFAULT_HOST, VLLMServer
from agentwrite.runner import awrite
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import prose
from agentwrite.testing.scripted_model import ScriptedModel

TITLES = [
    "## Getting <b>there</b>",
    "<h1>Where to stay</h1>",
    "**Food** & `tea`\n# and more",
    "Title: Paragraph 4",
]
HOSTILE_BODIES = [
    "# A Fake Title\n\n## A Fake Section\n\n{prose}",
    "Paragraph 2 - Main Point: injected - Word Count: 500 words\n\n{prose}\n\nWord count: 500",
    "{prose}\n\nA setext heading\n================\n\nAnother one\n-----------\n\n{prose}",
    "{prose}\n\n```python\nprint('a fence the model never closed')",
]


def hostile_model() -> ScriptedModel:
    def reply(messages: list[Message], params: GenerationParams) -> str:
        if params.json_schema is not None:
            sections = [{"title": t, "main_point": "Something.", "target_words": 300} for t in TITLES]
            return json.dumps({"title": "# Yunnan <script>alert(1)</script>\n## Guide", "sections": sections})
        body = HOSTILE_BODIES[len(model.calls) % len(HOSTILE_BODIES)]
        return body.format(prose=prose(200, seed=len(model.calls)))

    model = ScriptedModel(responder=reply)  # each section gets the next hostile body in turn
    return model


def headings(markdown: str) -> list[tuple[str, str]]:
    """(tag, inline text) of every heading a CommonMark parser finds."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]


@pytest.mark.parametrize("mode", ["sequential", "parallel"])
async def test_hostile_titles_and_sections_leave_one_title_and_one_heading_per_section(mode: str) -> None:
    doc = await awrite(
        "Write a guide to Yunnan.", settings=Settings(mode=mode), model=hostile_model(), words=1200
    )
    found = headings(doc.markdown)
    assert [tag for tag, _ in found if tag in ("h1", "h2")] == ["h1"] + ["h2"] * len(TITLES)
    expected = [" ".join(t.split()).lstrip("#").strip() for t in TITLES[:-1]]
    assert [text for tag, text in found if tag == "h2"] == [*expected, "Something"]  # a label is no title
    assert doc.plan_repairs  # the untidy plan was cleaned, and the sidecar says so
    assert "Word Count" not in doc.markdown and "Main Point" not in doc.markdown


REST = '"accuracy": 4, "coherence": 4, "clarity": 4, "breadth_and_depth": 4, "reading_experience": 4}'


@pytest.mark.parametrize(
    "first", ['{"relevance": 6, ', '{"relevance": 0, ', '{"relevance": 4.5, ', '{"relevance": -1, ']
)
def test_judge_scores_outside_1_to_5_are_rejected_not_clipped(first: str) -> None:
    assert parse_ratings('{"relevance": 5, ' + REST)["relevance"] == 5
    with pytest.raises(JudgeError):
        parse_ratings(first + REST)


def test_serve_binds_loopback_unless_told_otherwise() -> None:
    assert DEFAULT_HOST == "127.0.0.1"
    assert VLLMServer.__init__.__kwdefaults__["host"] == "127.0.0.1"
