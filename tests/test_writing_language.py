"""The language checks on hand-made texts: scripts, Latin languages, briefs, the wrong language."""

from __future__ import annotations

import pytest

from agentwrite.writing.language import (
    CHINESE,
    ENGLISH,
    brief_language,
    language_named,
    language_of,
    language_share,
    matches,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The kettle sang while the tea leaves unfurled in the pot.", "en"),
        ("茶叶在壶中慢慢舒展，水壶发出轻轻的响声。", "zh"),
        ("お茶の葉がポットの中でゆっくりと開きました。", "ja"),
        ("찻잎이 주전자 안에서 천천히 펼쳐졌다.", "ko"),
        ("Чайные листья медленно раскрывались в чайнике.", "ru"),
        ("Чайне листя повільно розкривалося в чайнику, і ми їли хліб.", "uk"),
        ("أوراق الشاي تتفتح ببطء في الإبريق.", "ar"),
        ("Τα φύλλα του τσαγιού άνοιγαν αργά μέσα στην τσαγιέρα.", "el"),
        ("עלי התה נפתחו לאט בתוך הקומקום.", "he"),
        ("चाय की पत्तियाँ केतली में धीरे धीरे खुल गईं।", "hi"),
        ("ใบชาค่อยๆ คลี่ออกในกาน้ำชา", "th"),
        ("Les feuilles de thé se sont ouvertes lentement dans la théière.", "fr"),
        ("Die Teeblätter öffneten sich langsam in der Kanne, und es war still.", "de"),
        ("Las hojas de té se abrieron lentamente en la tetera y el agua hervía.", "es"),
        ("Le foglie di tè si aprivano lentamente nella teiera e l'acqua bolliva.", "it"),
        ("As folhas de chá abriram-se lentamente no bule e a água fervia.", "pt"),
        ("De theebladeren gingen langzaam open in de pot en het water kookte.", "nl"),
    ],
)
def test_language_of_tells_scripts_and_latin_languages_apart(text: str, code: str) -> None:
    assert language_of(text).code == code


def test_english_with_a_few_foreign_words_stays_english() -> None:
    text = "The café served a croissant and a bowl of café au lait, as the French do, every morning."
    assert language_of(text) == ENGLISH
    assert language_of("") == ENGLISH and language_of("1234 !!! ---") == ENGLISH


@pytest.mark.parametrize(
    ("brief", "code"),
    [
        ("为 Apple AirPods Pro Max Wireless Noise Cancelling Headphones 写一篇3000字的评测", "zh"),
        ("请用 Python 和 asyncio 写一篇关于 LangGraph workflow 的教程", "zh"),
        ("写一篇8000字的旅行指南，介绍云南十日游的路线、交通、美食和注意事项。", "zh"),
        ("Write a 2000-word guide to Yunnan's 过桥米线 and 汽锅鸡 for first-time visitors", "en"),
        ("Write a 10000-word history of the transatlantic telegraph cable.", "en"),
        ("Écris un article de 2000 mots sur l'histoire du thé en Chine.", "fr"),
    ],
)
def test_brief_language_follows_the_words_that_ask_not_the_names_quoted(brief: str, code: str) -> None:
    assert brief_language(brief).code == code


def test_an_english_answer_to_a_chinese_brief_does_not_match() -> None:
    brief = "写一篇1000字的散文，回忆外婆家的老厨房和那里的味道。"
    answer = "My grandmother's kitchen was small and warm, and it always smelled of ginger and rice."
    assert not matches(answer, brief_language(brief))
    assert language_share(answer, CHINESE) == 0.0


def test_chinese_with_english_names_and_chinese_gibberish_are_chinese() -> None:
    with_names = "我们在 Kunming 坐上 G 字头高铁，三个小时后到达大理古城，住在 Lakeview Inn。"
    gibberish = "活偶制定是一位并又分配友谏的一位并又分配友谏。"
    assert matches(with_names, CHINESE) and matches(gibberish, CHINESE)
    assert not matches(with_names, ENGLISH)


def test_mostly_means_more_than_half_of_the_counted_words() -> None:
    half = "茶叶 tea leaves"  # two Han characters, two Latin words
    assert language_share(half, CHINESE) == 0.5 and not matches(half, CHINESE)
    assert matches("茶叶很香 tea", CHINESE)
    assert not matches("", CHINESE) and not matches("", ENGLISH)


def test_a_french_answer_does_not_match_an_english_brief() -> None:
    answer = "Le thé est une boisson que l'on prépare avec des feuilles, et on le boit chaud le matin."
    assert language_share(answer, ENGLISH) == 1.0 and not matches(answer, ENGLISH)


def test_language_named_knows_the_codes_and_refuses_others() -> None:
    assert language_named("zh") == CHINESE and language_named("fr").name == "French"
    with pytest.raises(ValueError, match="no language with code 'xx'"):
        language_named("xx")
