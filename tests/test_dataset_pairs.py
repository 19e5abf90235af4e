"""``dataset build --pairs --document-pairs``: preference pairs from the section checks'
candidates and from the one-request answer, against the loopback writer server. Most tests
turn the checks off and let ``tests.pair_fakes`` give the sections candidates, so that the
pairs are known in advance; one runs the real checks against a writer that drifts off the
topic on some first answers. Pairs are committed with their document: a resumed build
writes the same bytes as one that ran through, a Ray build the same lines, shards merge
into them, and a near-duplicate takes its pairs with it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.dataset.build import build_dataset
from agentwrite.dataset.filters import FilterConfig
from agentwrite.dataset.journal import META, TRAIN, recover
from agentwrite.dataset.merge import merge_builds
from agentwrite.dataset.pairs import section_pairs
from agentwrite.dataset.preference import PAIRS, load_pairs
from agentwrite.dataset.recipe import Recipe
from agentwrite.dataset.shards import Shard, shard_of
from agentwrite.errors import InputError
from agentwrite.runner import write
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply
from tests import pair_fakes
from tests.dataset_fakes import random_prose

REPO = Path(__file__).resolve().parent.parent

ITEMS = [
    *({"id": f"tea-{i}", "prompt": f"Write a 700-word essay on tea custom {i}.", "type": "essay"}
      for i in range(4)),
    {"id": "long", "prompt": "Write a 2000-word essay on the history of porcelain.", "type": "essay"},
    {"id": "note", "prompt": "Write a 300-word note on green tea.", "type": "note"},  # too short below
]  # fmt: skip
RECIPE = Recipe(concurrency=1, pairs=True, document_pairs=True, filters=FilterConfig(min_words=400))
MAX_CONTEXT = 4096
"""So that the one-request answer is about 2,400 words: too long for 700, right for 2,000."""
RUN_SPECIFIC = {"started_at", "finished_at", "seconds", "write_seconds", "session", "endpoints"}


def write_source(folder: Path, items: list[dict[str, Any]] = ITEMS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "in.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in items), "utf-8")
    return path


def settings(server: OpenAIServer) -> Settings:
    """Checks off: the candidates are ``tests.pair_fakes``'s."""
    return Settings(base_url=server.base_url, model="test-model", max_context=MAX_CONTEXT, checks=False)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture
def candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent's sections come back with candidates (``tests.pair_fakes``)."""
    monkeypatch.setattr("agentwrite.runner.awrite", pair_fakes.awrite)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build of ITEMS through the command line, with both kinds of pairs."""
    folder = tmp_path_factory.mktemp("reference")
    source = write_source(folder)
    with pytest.MonkeyPatch.context() as patch, OpenAIServer(writer_handler) as server:
        patch.setattr("agentwrite.runner.awrite", pair_fakes.awrite)
        result = CliRunner().invoke(
            app,
            ["dataset", "build", str(source), "-o", str(folder / "out"), "--pairs", "--document-pairs",
             "--concurrency", "1", "--min-words", "400", "--base-url", server.base_url,
             "--model", "test-model", "--max-context", str(MAX_CONTEXT), "--no-checks", "-q"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().endswith(f"preference pairs; {folder / 'out' / TRAIN}")
    return folder / "out"


def test_section_pairs_only_where_the_kept_and_weakest_candidates_differ_by_the_margin(
    reference: Path,
) -> None:
    meta = {m["id"]: m for m in records(reference / META)}
    pairs = records(reference / PAIRS)
    accepted = [i for i, m in meta.items() if m["status"] == "accepted"]
    assert meta["note"]["status"] == "rejected" and "pairs" not in meta["note"]
    sections = [p for p in pairs if p["kind"] == "section"]
    assert sections, "no section pairs"
    for doc_id in accepted:
        count = len(meta[doc_id]["sections"])
        assert [p["id"] for p in sections if p["instruction_id"] == doc_id] == [
            f"{doc_id}#s{index}"
            for index in range(1, count, 3)  # sections 1, 4, 7 ... (pair_fakes)
        ]
        assert meta[doc_id]["pairs"] == sum(p["instruction_id"] == doc_id for p in pairs)
    for pair in sections:
        assert pair["margin"] == 0.5 and pair["separated_by"] == ["talk"]
        assert pair["rejected"].startswith("Here is section") and pair["rejected"].endswith(pair["chosen"])
        assert pair["prompt"][-1]["content"].startswith(
            f"Write section {int(pair['id'].split('#s')[1]) + 1}:"
        )
        assert (pair["chosen_scores"]["score"], pair["rejected_scores"]["problems"]) == (0.9, ["talk"])


def test_a_margin_no_candidates_reach_gives_no_pairs(reference: Path) -> None:
    from agentwrite.domain import Section

    sections = [
        pair_fakes.with_candidates(Section(index=i, title="Tea", text=f"Tea {i} grows.", target_words=3,
                                           finish_reason="stop"))
        for i in range(6)
    ]  # fmt: skip
    assert [p.id for p in section_pairs("tea", sections, 0.1)] == ["tea#s1", "tea#s4"]
    assert [p.id for p in section_pairs("tea", sections, 0.05)] == ["tea#s1", "tea#s2", "tea#s4", "tea#s5"]
    assert section_pairs("tea", sections, 0.51) == []


def test_document_pairs_only_where_the_one_request_answer_fails_a_filter(reference: Path) -> None:
    meta = {m["id"]: m for m in records(reference / META)}
    documents = {p["instruction_id"]: p for p in records(reference / PAIRS) if p["kind"] == "document"}
    assert sorted(documents) == [f"tea-{i}" for i in range(4)]
    assert meta["long"]["status"] == "accepted" and meta["long"]["one_request"]["failed"] == []
    train = {m["id"]: row for m, row in zip([m for m in meta.values() if m["status"] == "accepted"],
                                            records(reference / TRAIN), strict=True)}  # fmt: skip
    for doc_id, pair in documents.items():
        assert pair["prompt"] == [train[doc_id]["messages"][0]]
        assert pair["chosen"] == train[doc_id]["messages"][1]["content"]
        assert pair["separated_by"] == meta[doc_id]["one_request"]["failed"] == ["length_score"]
        assert pair["margin"] == 1.0 and pair["rejected_scores"]["length_score"] < 80
        assert meta[doc_id]["one_request"]["words"] > 2000
    assert "one_request" not in meta["note"]  # rejected: no answer asked for


def test_stats_count_the_pairs(reference: Path) -> None:
    stats = json.loads((reference / "stats.json").read_text("utf-8"))
    pairs = records(reference / PAIRS)
    assert stats["pairs"]["count"] == len(pairs)
    assert stats["pairs"]["by_kind"] == {"document": 4, "section": len(pairs) - 4}
    assert stats["pairs"]["separated_by"] == {"talk": len(pairs) - 4, "length_score": 4}


CHINESE_ITEMS = [
    {"id": f"zh-{i}", "prompt": f"写一篇700字的文章，介绍第{i}种茶的习俗。", "type": "essay"}
    for i in range(2)
]


async def last_section_candidates(*args: Any, **kwargs: Any) -> Any:
    """The agent's document with its last section's two candidates separated by one check, as
    the section checks would keep them: the language for a Chinese instruction, talk otherwise."""
    document = await pair_fakes._AGENT(*args, **kwargs)
    problem = "language" if re.search(r"[\u4e00-\u9fff]", document.brief.instruction) else "talk"
    *before, section = document.sections
    kept = pair_fakes.candidate(section, section.text, pair_fakes.scores(0.9))
    wrong = pair_fakes.candidate(section, f"Tea. {section.text}", pair_fakes.scores(0.2, problem))
    section = section.model_copy(update={"candidates": [wrong, kept], "chosen": 1, "scores": kept.scores})
    return document.model_copy(update={"sections": [*before, section]})


def test_rejected_pairs_keep_a_rejected_documents_pairs_that_its_failed_check_separates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Chinese instructions answered in English are rejected for their language: with
    ``rejected_pairs`` their pair separated by the language check is kept; the note, rejected as
    too short (no section check), keeps its pair separated by talk out. A merge carries them."""
    monkeypatch.setattr("agentwrite.runner.awrite", last_section_candidates)
    source = write_source(tmp_path, [*CHINESE_ITEMS, ITEMS[-1]])
    recipe = Recipe(concurrency=1, pairs=True, rejected_pairs=True, filters=FilterConfig(min_words=400))
    with OpenAIServer(writer_handler) as server:
        build_dataset(source, tmp_path / "with", settings(server), recipe=recipe)
        build_dataset(source, tmp_path / "without", settings(server), recipe=recipe.model_copy(
            update={"rejected_pairs": False}))  # fmt: skip
    meta = {m["id"]: m for m in records(tmp_path / "with" / META)}
    assert {i: (m["status"], m["reason"]) for i, m in meta.items()} == {
        "zh-0": ("rejected", "not in the instruction's language"),
        "zh-1": ("rejected", "not in the instruction's language"),
        "note": ("rejected", "too short"),
    }
    pairs = records(tmp_path / "with" / PAIRS)
    last = {i: len(m["sections"]) - 1 for i, m in meta.items()}
    assert [(p["id"], p["separated_by"]) for p in pairs] == [
        (f"zh-{i}#s{last[f'zh-{i}']}", ["language"]) for i in range(2)
    ]
    assert [meta[i].get("pairs") for i in ("zh-0", "zh-1", "note")] == [1, 1, None]
    assert not (tmp_path / "without" / PAIRS).exists() or not records(tmp_path / "without" / PAIRS)
    merge_builds([tmp_path / "with"], tmp_path / "merged")
    assert (tmp_path / "merged" / PAIRS).read_bytes() == (tmp_path / "with" / PAIRS).read_bytes()


def test_rejected_pairs_need_pairs() -> None:
    with pytest.raises(ValueError, match="needs pairs"):
        Recipe(rejected_pairs=True)


def test_a_resumed_build_writes_the_same_bytes(reference: Path, candidates: None, tmp_path: Path) -> None:
    source = write_source(tmp_path)
    out = tmp_path / "out"
    with OpenAIServer(writer_handler) as server:
        build_dataset(source, out, settings(server), recipe=RECIPE, limit=2)
        committed = records(out / PAIRS)
        assert committed and len(committed) < len(records(reference / PAIRS))
        with (out / PAIRS).open("a") as torn:  # what a kill between the pair lines and meta leaves
            torn.write(json.dumps(committed[0]) + "\n" + json.dumps(committed[1])[:40])
        build_dataset(source, out, settings(server), recipe=RECIPE)
    for name in (PAIRS, TRAIN, "rejects.jsonl"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name


def test_recover_refuses_fewer_pair_lines_than_meta_commits(reference: Path, tmp_path: Path) -> None:
    shutil.copytree(reference, tmp_path / "out")
    data = (tmp_path / "out" / PAIRS).read_bytes()
    (tmp_path / "out" / PAIRS).write_bytes(data[: data.rindex(b"\n", 0, -1) + 1])  # one line lost
    with pytest.raises(InputError, match=r"pairs\.jsonl has .* lines but .*meta\.jsonl commits"):
        recover(tmp_path / "out")


def build_shards(source: Path, folder: Path) -> None:
    """Build ``source`` as shards 1/2 and 2/2 into ``folder``/s1 and s2."""
    with OpenAIServer(writer_handler) as server:
        for index in (1, 2):
            build_dataset(
                source, folder / f"s{index}", settings(server), recipe=RECIPE, shard=Shard(index, 2)
            )


def test_shards_merge_into_the_same_pairs(reference: Path, candidates: None, tmp_path: Path) -> None:
    source = write_source(tmp_path)
    with OpenAIServer(writer_handler) as server:
        for index in (1, 2):
            build_dataset(
                source, tmp_path / f"s{index}", settings(server), recipe=RECIPE, shard=Shard(index, 2)
            )
    merged = merge_builds([tmp_path / "s1", tmp_path / "s2"], tmp_path / "merged")
    assert sorted(records(tmp_path / "merged" / PAIRS), key=str) == sorted(
        records(reference / PAIRS), key=str
    )
    assert merged.stats["pairs"] == json.loads((reference / "stats.json").read_text())["pairs"]
    shown = CliRunner().invoke(app, ["dataset", "stats", str(tmp_path / "merged")])
    assert json.loads(shown.stdout)["pairs"]["count"] == len(records(reference / PAIRS))


def test_a_near_duplicate_dropped_in_a_merge_takes_its_pairs(candidates: None, tmp_path: Path) -> None:
    prompt = "Write a 700-word essay on tea custom 0."  # the writer writes the same document twice
    other = next(f"twin-{n}" for n in range(50) if shard_of(f"twin-{n}", 2) != shard_of("twin-a", 2))
    ids, first = ["twin-a", other], shard_of("twin-a", 2)
    source = write_source(tmp_path, [{"id": i, "prompt": prompt, "type": "essay"} for i in ids])
    with OpenAIServer(writer_handler) as server:
        for index in (1, 2):
            build_dataset(
                source, tmp_path / f"s{index}", settings(server), recipe=RECIPE, shard=Shard(index, 2)
            )
    order = [tmp_path / f"s{first}", tmp_path / f"s{3 - first}"]
    merged = merge_builds(order, tmp_path / "merged")
    assert merged.duplicates == [ids[1]]
    assert {p.instruction_id for p in load_pairs(tmp_path / "merged")} == {ids[0]}
    meta = {m["id"]: m for m in records(tmp_path / "merged" / META)}
    assert meta[ids[0]]["pairs"] == len(load_pairs(tmp_path / "merged")) and "pairs" not in meta[ids[1]]


ASKED = re.compile(r'Now write the part titled "([^"]+)"')
ASKED_AGAIN = "Above all, in this answer"  # the choose loop's words for a section that failed


def drifting(request: dict[str, Any]) -> Reply:
    """The writer, but its first answer for a section whose title hashes to 0 mod 3 is common
    words at random: off the topic, so the checks ask again, and keep the writer's next answer."""
    reply = writer_handler(request)
    last = request["messages"][-1]["content"]
    asked = ASKED.search(last)
    if asked is None or ASKED_AGAIN in last or zlib.crc32(asked.group(1).encode()) % 3:
        return reply
    return Reply.completion(random_prose(len((reply.text or "").split()), zlib.crc32(last.encode())))


def test_the_section_checks_own_candidates_make_the_pairs(tmp_path: Path) -> None:
    items = [
        ITEMS[4],
        {"id": "glass", "prompt": "Write a 1500-word essay on the history of glass.", "type": "essay"},
    ]
    source = write_source(tmp_path, items)
    recipe = Recipe(concurrency=1, pairs=True, filters=FilterConfig(min_words=400))
    with OpenAIServer(drifting) as server:
        checked = Settings(base_url=server.base_url, model="test-model", max_context=MAX_CONTEXT,
                           max_section_words=300, check_budget=1.0)  # fmt: skip
        documents = [write(i["prompt"], settings=checked) for i in items]
        build_dataset(source, tmp_path / "whole", checked, recipe=recipe)
        build_dataset(source, tmp_path / "resumed", checked, recipe=recipe, limit=1)
        build_dataset(source, tmp_path / "resumed", checked, recipe=recipe)
    expected = [
        p.model_dump(mode="json")
        for item, doc in zip(items, documents, strict=True)
        for p in section_pairs(item["id"], doc.sections, recipe.pair_margin)
    ]
    assert records(tmp_path / "whole" / PAIRS) == expected
    assert len({p["instruction_id"] for p in expected}) == 2
    assert all(p["separated_by"] == ["off_topic"] and p["margin"] >= 0.1 for p in expected)
    asked_again = [s for doc in documents for s in doc.sections if s.candidates]
    assert len(asked_again) >= len(expected)  # a pair only where a section was asked again (margins: above)
    for name in (PAIRS, TRAIN):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "resumed" / name).read_bytes(), name
    assert committed(tmp_path / "whole") == committed(tmp_path / "resumed")


def committed(out: Path) -> list[dict[str, Any]]:
    """The meta records but for their timings and sessions."""
    return [{k: v for k, v in m.items() if k not in RUN_SPECIFIC} for m in records(out / META)]


needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install 'agentwrite[ray]')"
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A Ray cluster of this machine, on loopback, whose workers write with ``tests.pair_fakes``."""
    from agentwrite.dataset.ray_build import LOCAL, import_ray

    ray = import_ray(LOCAL)
    temp = tempfile.mkdtemp(prefix="ray-")
    ray.init(
        address=LOCAL, num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, _temp_dir=temp,
        runtime_env={"worker_process_setup_hook": "tests.pair_fakes.install",
                     "env_vars": {"PYTHONPATH": str(REPO)}},
    )  # fmt: skip
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@needs_ray
@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")
def test_a_ray_build_carries_the_same_pairs(reference: Path, cluster: None, tmp_path: Path) -> None:
    from agentwrite.dataset.ray_build import build_dataset_ray

    with OpenAIServer(writer_handler) as server:
        build_dataset_ray(
            write_source(tmp_path), tmp_path / "out", settings(server),
            recipe=RECIPE.model_copy(update={"concurrency": 2}), actors=2,
        )  # fmt: skip
    for name in (PAIRS, TRAIN):
        assert sorted((tmp_path / "out" / name).read_bytes().splitlines()) == sorted(
            (reference / name).read_bytes().splitlines()
        ), name
    pairs_of = {m["id"]: m.get("pairs") for m in records(tmp_path / "out" / META)}
    assert pairs_of == {m["id"]: m.get("pairs") for m in records(reference / META)}
