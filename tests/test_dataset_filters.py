"""Document filters against hand-computed cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agentwrite.dataset.filters import (
    EstimatedTokens,
    FilterConfig,
    HFTokens,
    check_document,
    count_artefacts,
    token_counter,
)
from agentwrite.dataset.near_duplicates import NearDuplicateIndex, jaccard, shingles
from agentwrite.errors import InputError
from agentwrite.length import count_words
from tests.dataset_fakes import random_prose

CONFIG = FilterConfig()


def verdicts_of(
    document: str,
    requested: int,
    sections: list[str] | None = None,
    instruction: str = "Write.",
    **config: object,
) -> dict:
    verdicts, figures = check_document(
        instruction,
        requested,
        sections or [document],
        document,
        CONFIG.model_copy(update=config),
        EstimatedTokens(),
    )
    return {v.name: (v.value, v.passed) for v in verdicts} | {"figures": figures}


def test_min_words_is_inclusive() -> None:
    text = random_prose(500, seed=1)
    assert verdicts_of(text, 500)["min_words"] == (500, True)
    assert verdicts_of(text, 500, min_words=501)["min_words"] == (500, False)


def test_length_score_against_the_requested_length() -> None:
    text = random_prose(600, seed=2)
    # 600 of 1000: 100 * (1 - (1000/600 - 1) / 2) = 66.67; 600 of 500: 100 * (1 - (600/500 - 1) / 3) = 93.33
    assert verdicts_of(text, 1000)["length_score"] == (66.67, False)
    assert verdicts_of(text, 500)["length_score"] == (93.33, True)
    assert verdicts_of(text, 1000, min_length_score=60)["length_score"] == (66.67, True)


def test_repeated_ngrams() -> None:
    # 20 tokens with period 10: 13 8-grams, the first and last three of them occur twice -> 6/13
    text = " ".join(["alpha beta gamma delta epsilon zeta eta theta iota kappa"] * 2)
    assert verdicts_of(text, 20, ngram_n=8)["repeated_ngrams"] == (round(6 / 13, 4), False)
    assert verdicts_of(text, 20, ngram_n=8, max_repeated_ngram_rate=0.5)["repeated_ngrams"] == (0.4615, True)
    assert verdicts_of(random_prose(2000, seed=3), 2000)["repeated_ngrams"] == (0.0, True)


def test_repeated_sentences_anywhere_in_the_document() -> None:
    shared = "The caravans carried tea across the mountains every spring."
    one = f"{shared} Rain fell on the high passes for days."
    two = f"Traders rested in the valley towns after the climb. {shared}"
    # four sentences of five words or more, two of them the same: 0.5
    result = verdicts_of(one + " " + two, 40, [one, two])
    assert result["repeated_sentences"] == (0.5, False)
    assert result["figures"]["cross_section_repeated_sentence_rate"] == 0.5
    assert verdicts_of(one, 20, [one])["repeated_sentences"] == (0.0, True)
    # a loop inside one section is caught too, though no sentence crosses sections
    looped = f"{one} {shared.upper()} {shared}"
    result = verdicts_of(looped, 20, [looped, two.split(". ")[0] + "."])
    assert result["repeated_sentences"] == (0.75, False)  # the shared sentence 3 times of 4
    assert result["figures"]["cross_section_repeated_sentence_rate"] == 0.0
    assert result["figures"]["document_repeated_sentence_rate"] == 0.75
    assert verdicts_of(looped, 20, max_repeated_sentence_rate=0.75)["repeated_sentences"] == (0.75, True)


def test_gibberish() -> None:
    text = random_prose(300, seed=7)
    assert verdicts_of(text, 300)["gibberish"] == (0.0, True)
    # 270 words of prose and 30 glued or invented ones: 0.1 is at the default threshold, still kept
    noise = " ".join(["biggerandtheir", "lovedones", "scorpice"] * 10)
    noisy = random_prose(270, seed=7) + " " + noise + "."
    assert verdicts_of(noisy, 300)["gibberish"] == (0.1, True)
    assert verdicts_of(noisy, 300, max_gibberish_rate=0.05)["gibberish"] == (0.1, False)
    assert verdicts_of(noisy, 300)["figures"]["gibberish_rate"] == 0.1
    assert verdicts_of("yahda yeah dunno mr alrightdumminmjerry " * 100, 500)["gibberish"] == (0.4, False)


def test_plan_artefacts() -> None:
    assert count_artefacts("Paragraph 3 - The old road.\nIt climbs. Word Count: 400 words") == 2
    assert count_artefacts("段落2：茶马古道\n字数：500字\n主要内容：历史") == 3
    assert count_artefacts("This paragraph has a word count of about fifty. The main point is tea.") == 0
    text = random_prose(300, seed=4) + " Main Point: tea."
    assert verdicts_of(text, 300)["plan_artefacts"] == (1, False)
    assert verdicts_of(text, 300, max_artefacts=1)["plan_artefacts"] == (1, True)


def test_max_tokens_with_the_estimate() -> None:
    text = "abc " * 300  # 1200 characters: 480 tokens by the estimate, plus 4; the instruction "Write." 3 + 4
    assert verdicts_of(text, 300, max_tokens=491)["max_tokens"] == (491, True)
    assert verdicts_of(text, 300, max_tokens=490)["max_tokens"] == (491, False)


@pytest.fixture(scope="module")
def word_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny word-level tokenizer folder, loadable with AutoTokenizer and no hub."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder = tmp_path_factory.mktemp("tokenizer")
    vocab = {"[UNK]": 0, "tea": 1, "is": 2, "good": 3, ".": 4}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "[UNK]"})
    )
    return folder


def test_max_tokens_with_a_real_tokenizer(word_tokenizer: Path) -> None:
    tokens = HFTokens(word_tokenizer)
    chat = [{"role": "user", "content": "tea ?"}, {"role": "assistant", "content": "tea is good ."}]
    assert tokens.count(chat) == 6  # "tea ?" joined to "tea is good ." by a newline: 2 + 4 words
    verdicts, figures = check_document(
        "tea", 4, ["tea is good"], "tea is good", FilterConfig(max_tokens=3), tokens
    )
    assert figures["tokens"] == 4 and figures["tokenizer"] == f"tokenizer:{word_tokenizer.name}"
    assert [v.passed for v in verdicts if v.name == "max_tokens"] == [False]


def test_shingles_and_jaccard() -> None:
    assert shingles("One two three four five six", n=5) == {
        "one two three four five",
        "two three four five six",
    }
    assert jaccard({"a", "b", "c"}, {"b", "c", "d"}) == 0.5


def test_the_index_estimates_jaccard_and_gives_the_same_figure_every_run() -> None:
    words = random_prose(1000, seed=7).split()
    a, b = " ".join(words[:800]), " ".join(words[200:])  # 596 of 996 5-grams shared
    exact = jaccard(shingles(a), shingles(b))
    assert 0.59 < exact < 0.61
    figures = []
    for _ in range(2):
        index = NearDuplicateIndex(threshold=0.8)
        index.add("a", a)
        figures.append(index.check(b))
    assert figures[0] == figures[1]  # seeded: the same estimate in every fresh index
    assert figures[0][0] == "a" and abs(figures[0][1] - exact) < 0.15


def test_a_duplicate_is_of_the_most_similar_document() -> None:
    index = NearDuplicateIndex(threshold=0.9)
    words = random_prose(1000, seed=8).split()
    edited = [w if i % 20 else "changed" for i, w in enumerate(words)]  # Jaccard about 0.6
    assert index.add("b", " ".join(words))[1] == 0.0
    near, similarity = index.add("a", " ".join(edited))  # similar, below threshold: added
    assert near == "b" and 0.2 < similarity < 0.9 and len(index) == 2
    assert index.add("c", " ".join([*words, "one", "more"])) == ("b", pytest.approx(1.0, abs=0.05))
    assert len(index) == 2


def test_an_id_added_again_replaces_its_text() -> None:
    index = NearDuplicateIndex(threshold=0.8)
    index.add("a", random_prose(500, seed=10))
    index.add("a", random_prose(500, seed=11))
    assert len(index) == 1 and index.find(random_prose(500, seed=11)) == "a"
    assert index.find(random_prose(500, seed=10)) is None


def test_the_index_without_datasketch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasketch", None)  # import raises ModuleNotFoundError
    with pytest.raises(InputError, match=r"needs the 'dataset' extra \(datasketch not installed\)"):
        NearDuplicateIndex()


def test_near_duplicates_are_caught_and_distinct_documents_are_not() -> None:
    index = NearDuplicateIndex(threshold=0.8)
    original = random_prose(1000, seed=5)
    words = original.split()
    edited = " ".join([*words[:500], "changed", *words[501:]])  # one word of 1000 replaced
    assert index.add("first", original) == (None, 0.0)
    duplicate_of, similarity = index.add("second", edited)
    assert duplicate_of == "first" and similarity >= 0.9
    assert len(index) == 1  # a duplicate is not added
    assert index.add("third", random_prose(1000, seed=6))[1] < 0.8
    assert len(index) == 2


def test_token_counter_picks_the_estimate_or_a_folder(word_tokenizer: Path, tmp_path: Path) -> None:
    assert isinstance(token_counter(None), EstimatedTokens)
    assert isinstance(token_counter(str(word_tokenizer)), HFTokens)
    with pytest.raises(InputError, match="does not exist"):
        token_counter(tmp_path / "missing")


TEA = "Write a 600-word essay on the history of tea in China."
TEA_PROSE = (
    "Tea came to China's courts as a medicine and left them as a daily drink. "
    "Under the Tang the tea trade grew, and Lu Yu wrote the first book on tea. "
    "Song China whisked powdered tea in bowls, and Ming China steeped whole leaves in pots. "
)
"""Three sentences on the instruction's subject, 47 words."""


def asked(instruction: str, document: str, **config: object) -> dict:
    """``verdicts_of`` with ``instruction``, asking for the document's own length."""
    return verdicts_of(document, count_words(document), instruction=instruction, **config)


def test_a_document_not_in_the_instruction_s_language_is_rejected_with_both_languages_named() -> None:
    chinese = "写一篇600字的文章，介绍中国茶的历史。"
    english = TEA_PROSE * 11  # 517 words
    verdicts, figures = check_document(chinese, 517, [english], english, CONFIG, EstimatedTokens())
    (language,) = [v for v in verdicts if v.name == "language"]
    assert (language.value, language.threshold, language.passed) == (0.0, 0.5, False)
    assert language.detail() == "language 0.0 vs. threshold 0.5 (document in en, instruction in zh)"
    assert (figures["language"], figures["instruction_language"]) == ("en", "zh")
    zh = "茶最早在中国被当作药，后来成为每天都喝的饮料。唐代的茶叶贸易很兴盛，陆羽写了第一部茶书。" * 12
    assert asked(chinese, zh)["language"] == (1.0, True)
    french = (
        "Le thé est arrivé en Chine comme un remède, puis il est devenu une boisson de tous les jours. " * 30
    )
    assert asked(TEA, french)["language"] == (1.0, False)  # Latin script, but French
    assert asked(chinese, english, min_language_share=0)["language"] == (0.0, True)  # no check


def test_talk_about_the_writing_is_rejected_above_its_rate_per_1000_words() -> None:
    body = TEA_PROSE * 12  # 564 words
    assert asked(TEA, body)["talk"] == (0.0, True)
    talk = "Here is the continuation of the essay:\n" + body + "\nI hope this helps!"
    result = asked(TEA, talk)
    assert result["talk"] == (round(2000 / 575, 4), False)  # 2 lines in 564 + 7 + 4 words
    assert result["figures"]["talk_per_1000_words"] == round(2000 / 575, 4)
    assert asked(TEA, talk, max_talk_per_1000_words=4)["talk"][1] is True


def test_an_off_topic_document_is_rejected_with_its_on_topic_share() -> None:
    assert asked(TEA, TEA_PROSE * 12)["off_topic"] == (1.0, True)
    drift = TEA_PROSE * 3 + random_prose(450, seed=5)  # 141 words on tea, then 450 of random words
    result = asked(TEA, drift)
    value, passed = result["off_topic"]
    assert value < 0.5 and not passed
    assert result["figures"]["on_topic"] == value and result["figures"]["topic_scorer"] == "lexical"
    assert asked(TEA, drift, min_on_topic=value)["off_topic"] == (value, True)
