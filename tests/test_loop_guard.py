"""The loop guard on hand-made texts: where a loop starts, what is dropped, what is left alone."""

import json
import lzma
from pathlib import Path
from typing import Any

import pytest

from agentwrite.length import count_words
from agentwrite.testing.openai_server import prose
from agentwrite.text_stats import document_repeated_sentence_rate, split_sentences
from agentwrite.writing.loop_guard import Loop, LoopGuard, Sentence
from agentwrite.writing.loop_rules import RUN_ON_WORDS

STEP = (
    "## Your step\n"
    'Write section 2 of 4, "Soil": What soil a balcony garden needs.\n'
    "Write about 500 words. Write only the prose of this section: no heading, no section number."
)
FRESH = "Balcony gardens need light. Pots must drain well after rain. Herbs forgive a missed watering."
LOOPED = "I was experimenting with different types of seeds that are good for people."


def test_a_sentence_coming_back_is_cut_before_its_second_occurrence() -> None:
    text = f"{FRESH} {LOOPED} Then the rain came. {LOOPED} {LOOPED} {LOOPED} {LOOPED}"
    loop = LoopGuard().find(text)
    assert loop is not None and loop.kind == "repeated sentence"
    assert text[: loop.start].rstrip() == f"{FRESH} {LOOPED} Then the rain came."
    assert loop.sample == LOOPED


def test_stray_repeats_are_dropped_not_cut() -> None:
    text = f"{LOOPED} {FRESH} Compost feeds the soil slowly. {LOOPED} Worms help as well. {LOOPED}"
    guard = LoopGuard()
    assert guard.find(text) is None
    cleaned, dropped = guard.clean(text)
    assert cleaned.count(LOOPED) == 1 and dropped == 2 * count_words(LOOPED)


def test_a_loop_without_sentence_ends_is_caught_by_its_spans() -> None:
    text = "The beds were ready. " + "and we planted beans and peas along the rail " * 4
    loop = LoopGuard().find(text)
    assert loop is not None and loop.kind == "repeated span"
    assert text[: loop.start] == "The beds were ready. "


def test_a_run_on_and_a_gibberish_tail_are_loops() -> None:
    run_on = FRESH + " " + " ".join(prose(RUN_ON_WORDS + 20).replace(".", "").split())
    loop = LoopGuard().find(run_on)
    assert loop is not None and loop.kind == "run-on text" and run_on[: loop.start].rstrip() == FRESH
    babble = FRESH + " yahda yeah dunno mr alrightdumminmjerry frobnax quilpert zandivox " * 5
    loop = LoopGuard().find(babble)
    assert loop is not None and loop.kind in ("gibberish", "repeated span")
    assert babble[: loop.start].rstrip() == FRESH


ARABIC_SENTENCE = "صلح الفاريل عن تعد متقالة الموسب وهي بك في الدين ابتكاًا بشكتأ الطريفية العبارية."
ARABIC_SPAN = "ولاذلا العربيع النصافي، ولاذلا العربيع الأفتية الأفتية التسليبية، "


@pytest.mark.parametrize(
    ("tail", "kind", "kept"),
    [
        (f"{ARABIC_SENTENCE} " * 4, "repeated sentence", ARABIC_SENTENCE),  # read in a sequential run
        (ARABIC_SPAN * 6, "repeated span", ""),
        (
            " ".join(f"слово{chr(0x430 + i % 32)}{chr(0x430 + i // 32)}" for i in range(RUN_ON_WORDS + 10)),
            "run-on text",
            "",
        ),
    ],
    ids=["arabic-sentences", "arabic-span", "cyrillic-run-on"],
)
def test_the_guard_sees_loops_in_scripts_the_word_count_does_not_count(
    tail: str, kind: str, kept: str
) -> None:
    text = f"{FRESH}\n\n{tail}"
    assert count_words(text) == count_words(FRESH)  # LongBench-Write counts none of the tail's words
    read = LoopGuard().read(text)
    loop = read.loop()
    assert loop is not None and loop.kind == kind
    assert text[: loop.start].rstrip() == f"{FRESH}\n\n{kept}".rstrip()
    assert read.words == count_words(text)  # the words a text has stay the counted ones


def test_words_dropped_with_a_sentence_in_another_script_are_counted_ones() -> None:
    text = f"{FRESH} {ARABIC_SENTENCE} Some more words here. {ARABIC_SENTENCE}"
    cleaned, dropped = LoopGuard().clean(text)
    assert cleaned.count(ARABIC_SENTENCE) == 1 and dropped == 0


def test_prompt_lines_and_headings_echoed_back_are_removed() -> None:
    guard = LoopGuard(prompt=[STEP])
    text = f"## Your step\nWrite about 500 words. {FRESH}"
    assert guard.find(text) is None  # restating the directions once is dropped, not a loop
    cleaned, _ = guard.clean(text)
    assert cleaned == FRESH
    echoes = "## Your step\nWrite about 500 words. Write only the prose of this section: no heading."
    loop = guard.find(f"{FRESH}\n{echoes}\n{echoes}\n{echoes}")
    assert loop is not None and loop.kind == "repeated sentence" and loop.sample == "Write about 500 words."


def test_sentences_of_earlier_sections_are_copies() -> None:
    earlier = "Tomatoes want six hours of sun. Basil grows beside them happily."
    guard = LoopGuard(earlier=[earlier])
    text = f"{FRESH} Tomatoes want six hours of sun."
    cleaned, dropped = guard.clean(text)
    assert cleaned == FRESH and dropped == 6
    assert guard.find(f"{FRESH} {earlier}") is None  # a quoted sentence or two is dropped, not a loop
    guard.remember("Water early in the day. Mulch keeps the roots cool.")
    copied = f"{FRESH} {earlier} Water early in the day. Mulch keeps the roots cool."
    loop = guard.find(copied)
    assert loop is not None and loop.kind == "copied from an earlier section"
    assert copied[: loop.start].rstrip() == FRESH


def test_ordinary_prose_code_and_short_sentences_pass_untouched() -> None:
    text = (
        prose(800, seed=5)
        + "\n\n```bash\npip install the package now\npip install the package now\n```\nYes. Yes. Yes."
    )
    guard = LoopGuard(prompt=[STEP])
    assert guard.find(text) is None
    assert guard.clean(text) == (text, 0)


def test_the_watch_stops_a_stream_soon_after_the_loop_starts() -> None:
    guard = LoopGuard()
    watch = guard.watch(prefix=FRESH + " ")
    pieces = [f" {w}" for w in (" ".join([LOOPED] * 30)).split()]
    stopped_at = next(i for i, piece in enumerate(pieces) if watch(piece))
    words_per_sentence = len(LOOPED.split())
    assert stopped_at < 4 * words_per_sentence  # the third repeat ends the stream
    text = FRESH + " " + "".join(pieces[: stopped_at + 1]).strip()
    loop = guard.find(text)
    assert loop is not None and document_repeated_sentence_rate(text[: loop.start]) == 0.0


FIXTURES = Path(__file__).parent / "fixtures" / "loop_guard" / "streams.json.xz"
"""Streams and the decisions the guard of f949d27 made on them (``record_streams.py`` beside it);
the cleaned text of three re-recorded when a heading that repeats a prompt line became an echo."""


def _recorded() -> list[dict[str, Any]]:
    return json.loads(lzma.decompress(FIXTURES.read_bytes()))["cases"]


def _as_list(loop: Loop | None) -> list[Any] | None:
    return None if loop is None else [loop.start, loop.kind, loop.sample]


@pytest.mark.parametrize("case", _recorded(), ids=lambda case: case["name"])
def test_the_guard_decides_as_recorded(case: dict[str, Any]) -> None:
    """Same stop piece, same loop there and on the whole text, same cleaned text."""
    guard = LoopGuard(case["prompt"], case["earlier"])
    watch = guard.watch(case["prefix"])
    stop = next((i for i, piece in enumerate(case["pieces"]) if watch(piece)), None)
    assert stop == case["stop"]
    if stop is not None:
        at_stop = case["prefix"] + "".join(case["pieces"][: stop + 1])
        assert _as_list(guard.find(at_stop)) == case["loop_at_stop"]
        streamed = guard.read(case["prefix"])  # the stream's own answer there, last sentence unfinished
        for piece in case["pieces"][: stop + 1]:
            streamed.add(piece)
        assert _as_list(streamed.loop()) == case["loop_at_stop"]
    whole = case["prefix"] + "".join(case["pieces"])
    assert _as_list(guard.find(whole)) == case["loop"]
    assert list(guard.clean(whole)) == case["clean"]


TALK = "talk about the writing"


def talk(sentence: str) -> str | None:
    """A judge for the tests: sentences that announce the text instead of writing it."""
    return TALK if sentence.startswith(("Here is", "Sure!")) else None


def test_a_judge_s_faults_are_dropped_like_echoes_and_never_loop() -> None:
    announcements = " ".join(f"Here is part {n} of the section you asked for." for n in range(6))
    text = f"{FRESH} {announcements} Sure! Compost feeds the soil slowly."
    guard = LoopGuard(judges=[talk])
    assert guard.find(text) is None  # six in a row: dropped, not a loop
    cleaned, dropped = guard.clean(text)
    assert (
        cleaned == f"{FRESH} Compost feeds the soil slowly." and dropped == 6 * 9 + 1
    )  # "Here is part of the section you asked for", "Sure"
    assert [s.fault for s in guard.read(text).sentences].count(TALK) == 7
    assert LoopGuard().clean(text) == (text, 0)  # without the judge, nothing to drop


def test_a_judge_s_faults_neither_break_nor_extend_a_copied_run() -> None:
    earlier = "Tomatoes want sun. Basil grows beside them. Water it early. Mulch keeps roots cool."
    copied = earlier.split(". ")
    text = f"{FRESH} {copied[0]}. {copied[1]}. Here is the next part of it. {copied[2]}. {copied[3]}"
    loop = LoopGuard(earlier=[earlier], judges=[talk]).find(text)
    assert loop is not None and loop.kind == "copied from an earlier section"
    assert text[: loop.start].rstrip() == FRESH


def test_a_judge_sees_each_finished_sentence_once_however_often_the_stream_is_checked() -> None:
    seen: list[str] = []

    def judge(sentence: str) -> None:
        seen.append(sentence)

    guard = LoopGuard(judges=[judge])
    watch = guard.watch()
    text = prose(600, seed=3)
    for character in text:  # a check at every sentence end and every 80 characters
        assert not watch(character)
    assert len(seen) == len(split_sentences(text)) - 1  # the last one has not ended
    assert seen == split_sentences(text)[:-1]


def test_a_tally_keeps_running_figures_as_the_text_streams() -> None:
    told: list[Sentence] = []
    guard = LoopGuard()
    reading = guard.read("茶很古老。", tally=told.append)
    watch = reading.watch()  # a stream's watch, whose text's figures can be read meanwhile
    for piece in ["Tea is old. ", "It grew in Yunnan.\n```\ncode is not told\n```\n", "Then trade came"]:
        assert not watch(piece)
        assert reading.words == count_words(reading.text)
    assert [s.text for s in told] == ["茶很古老。", "Tea is old.", "It grew in Yunnan."]
    guard.add_prompt("Write about tea.")  # the guard learns more: the text is judged again, not told again
    reading.end()
    assert [s.text for s in told] == ["茶很古老。", "Tea is old.", "It grew in Yunnan.", "Then trade came"]
    assert reading.words == count_words(reading.text) == 4 + 3 + 4 + 4 + 3  # the code counts too
    assert sum(s.words for s in told) == 4 + 3 + 4 + 3


def test_what_the_guard_learns_mid_stream_counts_for_the_text_read_so_far() -> None:
    earlier = "Tomatoes want sun. Basil grows beside them. Water it early. Mulch keeps roots cool."
    guard = LoopGuard()
    reading = guard.read(f"{FRESH} ")
    reading.add(earlier + " Then")
    assert reading.loop() is None
    guard.remember(earlier)  # another section wrote it first: now this is a copied run
    loop = reading.loop()
    assert loop is not None and loop.kind == "copied from an earlier section"
    assert reading.text[: loop.start].rstrip() == FRESH
    assert reading.clean() == (f"{FRESH} Then", count_words(earlier))
