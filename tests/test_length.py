"""Word counting and targets, against hand-counted cases."""

import pytest

from agentwrite.errors import InputError
from agentwrite.length import count_words, parse_target, resolve_target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("One two three.", 3),
        ("It's a well-known fact.", 6),  # it, s, a, well, known, fact
        ("Room 101 has 2 beds", 3),  # digits are not words
        ("abc123 and x9", 1),  # letters glued to digits have no word boundary
        ("云南是一个美丽的地方", 10),
        ("我爱Yunnan", 2),  # 我, 爱; the Latin run touches CJK: no boundary, not counted
        ("我爱 Yunnan 的茶", 5),
        ("Ｆｕｌｌｗｉｄｔｈ", 0),  # full-width letters are neither CJK nor [a-zA-Z]
    ],
)
def test_count_words_matches_longbench_write(text: str, expected: int) -> None:
    assert count_words(text) == expected


@pytest.mark.parametrize(
    ("brief", "expected"),
    [
        ("Write a 10000-word travel guide to Yunnan", 10000),
        ("Write a 10,000 word guide", 10000),
        ("a 10k words essay", 10000),
        ("about 3000 words on tea", 3000),
        ("Write 3 poems of 200 words each, then a 5000-word essay", 5000),
        ("写一篇5000字的关于云南的文章", 5000),
        ("约3000字", 3000),
        ("请写一篇1.5万字的报告", 15000),
        ("写一篇三千字的文章", None),  # Chinese numerals are not parsed
        ("Write a poem about the sea", None),
    ],
)
def test_parse_target(brief: str, expected: int | None) -> None:
    assert parse_target(brief) == expected


def test_resolve_target_prefers_words_then_brief_then_default() -> None:
    assert resolve_target("a 3000-word essay", words=1200) == 1200
    assert resolve_target("a 3000-word essay") == 3000
    assert resolve_target("an essay") == 10000


@pytest.mark.parametrize("words", [0, -5, 10**12, 100_001])
def test_resolve_target_refuses_out_of_range(words: int) -> None:
    with pytest.raises(InputError, match="word target"):
        resolve_target("essay", words=words)
