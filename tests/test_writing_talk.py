"""Talk about the writing on hand-made sections: at the start, in the middle, at the end, in
English and Chinese, and the writing itself left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentwrite.text_stats import split_sentences
from agentwrite.writing import talk
from agentwrite.writing.talk import KINDS, talk_kind, talk_per_1000_words, talk_spans


def spans_of(text: str) -> list[tuple[str, str]]:
    return [(text[t.start : t.end], t.kind) for t in talk_spans(text)]


def test_talk_at_the_start_in_the_middle_and_at_the_end_of_an_english_section() -> None:
    section = (
        "Sure! Here's section 3 of the guide:\n\n"
        "Feed the starter every morning with equal weights of flour and water. "
        "Below is the outline of the 168 word job description. "
        "Keep the jar loosely covered so that it can breathe.\n\n"
        "I hope this helps! Let me know if you would like any changes."
    )
    assert spans_of(section) == [
        ("Sure!", "offer"),
        ("Here's section 3 of the guide:", "preamble"),
        ("Below is the outline of the 168 word job description.", "preamble"),
        ("I hope this helps!", "offer"),
        ("Let me know if you would like any changes.", "offer"),
    ]


def test_talk_at_the_start_in_the_middle_and_at_the_end_of_a_chinese_section() -> None:
    section = (
        "好的，以下是第三部分：\n"
        "第一天从昆明出发，坐高铁到大理，傍晚可以在洱海边散步。（约300字）\n"
        "第二天去喜洲古镇，尝一尝当地的破酥粑粑。\n"
        "希望这篇文章对你有帮助！"
    )
    assert spans_of(section) == [
        ("好的，以下是第三部分：", "offer"),
        ("（约300字）", "label"),
        ("希望这篇文章对你有帮助！", "offer"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "[Your Name]",
        "How to prepare for DPD Simulation - A Guide by [Your Name]",
        "[Insert your instructions here]",
        "Dear [Hiring Manager Name],",
        "[Company Address]",
        "[你的名字]",
        "【公司名称】",
    ],
)
def test_placeholders_are_talk(line: str) -> None:
    assert talk_kind(line) == "placeholder"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("SECTION 8", "label"),
        ("CONTINUATION TO", "preamble"),
        ("### Section 13", "label"),
        ("Title: The History of Tea", "label"),
        ("1. The Job Description for the Sales Manager Role (about 167 words)", "label"),
        ("第三部分", "label"),
        ("Here is the rewritten version of the text with edits for grammar and clarity:", "preamble"),
        ("**Write the next part in a formal tone and do not repeat the plan.**", "task"),
        ("The other sections are written separately, so keep to this section's point.", "task"),
        ("请写一篇关于茶的文章。", "task"),
        ("This is the first paragraph of the literature review.", "meta"),
        ("I am writing a 3000-word travel guide to walking the coastline of Cornwall.", "meta"),
        ("I have rewritten the text to make it more concise.", "meta"),
        ("我将继续写下一部分。", "meta"),
        ("I apologize for the confusion in the previous section.", "apology"),
        ("抱歉，我无法完成这个请求。", "apology"),
        ("Certainly! Below is a 500-word essay on tea.", "offer"),
    ],
)
def test_each_kind_of_talk(line: str, kind: str) -> None:
    assert kind in KINDS
    assert talk_kind(line) == kind


@pytest.mark.parametrize(
    "text",
    [
        "# A Beginner's Guide to Sourdough\n\n## Feeding schedule\n\nKeep the starter in a warm part of "
        "the kitchen. Add 50 g of flour and 50 g of water every morning. Write the date on the jar. "
        "If you have any questions, ask at your local bakery. This is the most important step of all.",
        "Dear Hiring Manager,\n\nI am writing to apply for the Junior Data Analyst position. In my last "
        "role I wrote weekly reports on ridership. I can provide references on request.\n\nSincerely,\nAna",
        '"Sure," said Elara, "I will help you fix the clock."\n"Of course!" Kael replied. '
        "She wrote a letter to the council, and the story of the two clockmakers spread.",
        "In this chapter, we introduce probability to first-year students. The next section explains "
        "conditional probability with worked examples.\n\n### 3. Worked examples\n\nA die is rolled twice.",
        "Volunteers needed! Please let me know if you can come on Saturday. We will make a plan for the "
        "morning and share it on the forum.",
        "The report sets out three options. The plan is to reduce traffic by 20 per cent by 2027.",
        "第一章 山村的冬天\n李医生第一次走进山村时，雪已经下了三天。本节将介绍云南的美食。",
    ],
)
def test_the_writing_itself_is_not_talk(text: str) -> None:
    assert spans_of(text) == []


def test_a_heading_number_is_judged_with_its_heading() -> None:
    assert spans_of("### Step 7. Writing a Book") == []
    assert spans_of("### 8. Section 6") == [("### 8. Section 6", "label")]
    assert talk_kind("### 3.") is None


def test_talk_per_1000_words_counts_lines_not_sentences() -> None:
    prose = "Tea is a drink made from leaves. " * 25  # 175 words on one line
    text = "Sure! Here is the text:\n" + prose + "\nI hope this helps!"
    assert len(talk_spans(text)) == 3
    assert talk_per_1000_words(text) == pytest.approx(1000 * 2 / 184)  # 5 + 175 + 4 words, 2 lines
    assert talk_per_1000_words(prose) == 0.0 and talk_per_1000_words("") == 0.0


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("This paragraph focuses on the history of lighthouses.", "meta"),
        ("The first two paragraphs discuss the origins of tea.", "meta"),
        ("The text is updated to include these details.", "meta"),
        ("Improved sentence structure: shorter clauses and a clearer verb.", "meta"),
        ("I reorganized the paragraphs to create a logical flow.", "meta"),
        ("This article contains multiple steps designed to help you.", "meta"),
        ("The chapter will end with a short quiz.", "meta"),
        ('| Instead of "Flying", write "Aircraft" |', "meta"),
        ("No edits made.", "meta"),
        ("下一段将介绍云南的美食。", "meta"),
        ("Here's what we've got so far:", "preamble"),
        ("The revised paragraph would be:", "preamble"),
        ("修改后的版本如下：", "preamble"),
        ("There should be 3 paragraphs separated by markdown dividers.", "task"),
        ("The paragraph should be written in a formal tone.", "task"),
        ("At the end of your response, add a postscript.", "task"),
        ("Write a guide to keeping a sourdough starter alive.", "task"),
        ("What changes would you like to see to the paragraph?", "offer"),
        ("Thank you for helping me write this article.", "offer"),
        ("I'm ready to continue with my next task!", "offer"),
        ("<<Planning Your First Vegetable Garden>>", "label"),
        ("9 thoughts on building a balcony garden:", "label"),
        ("Original Text:", "preamble"),
        ("Business plan: 19.", "label"),
        ("report-draft-2.json", "label"),
        ("[finish paragraph]", "placeholder"),
        ("[1. 2. 3. Update about Your Experience]", "placeholder"),
        ("The sentence is about the current waste at lunch.", "meta"),
        ("The report is divided into 3 sections.", "meta"),
        ("**Outline of the entire piece**", "meta"),
        ("The next part of your guide should cover finding the hole.", "meta"),
        ("It appears you'd like me to elaborate or expand upon the story.", "offer"),
        ("I'm glad you've kept your interest alive despite my limitations.", "offer"),
        ("(This section ends here)", "meta"),
        ("End of the article.", "meta"),
        # read in eval/results/brief_cpu/agent_titles, written with the checks on
        ("Please go ahead and share it now.", "offer"),
        ("I'll do my best to assist you with any grammar or style-related issues.", "offer"),
        ("Today, I'm here to offer guidance and support.", "offer"),
        ("What would you like to be edited about?", "offer"),
        ("I'm sorry, I've been asked to improve the sentence from Chinese to English.", "apology"),
        ("Here's your detailed plan covered in detail:", "preamble"),
        ("To describe this narrative more precisely, I would simply write:", "preamble"),
        # read in eval/results/brief_cpu/agent_reask, written with the checks on
        ("Here’s the introduction to your story:", "preamble"),
        ("There is no specific title for this article.", "meta"),
        ("Acknowledgments: This is a complete rewrite of my previous blog post.", "meta"),
        ("I will begin by providing an introduction to the history of lighthouse keepers.", "meta"),
        ("When writing this piece I chose to focus on the topic of conflict.", "meta"),
        ("Section 23: Writing section 725.", "meta"),
        ("输出本文说明：", "meta"),
        ("Thus concludes the details of this tutorial.", "meta"),
        # read in the fresh set's misses (eval/labels/brief_checks_fresh.jsonl, a dev set since)
        ("You're very welcome.", "offer"),
        ("Thank you for asking for this service.", "offer"),
        ("I'd love to hear more about your plans for the garden.", "offer"),
        ("I hope you enjoy reading it!", "offer"),
        # read in eval/results/brief_cpu/agent_chat (written with the checks on at 64ee1ba)
        ("I hope you enjoyed the explanation.", "offer"),
        ("So go ahead and share your questions with me.", "offer"),
        ("Here's the detailed explanation of how the tides turn.", "preamble"),
        ("Your next section could explore the keepers' families.", "meta"),
        ("**Let's move to the next scene:**", "meta"),
        ("This scene begins by describing the harbour at night.", "meta"),
        ("[END OF THE REPORT]", "placeholder"),
        ("[Hospital Name]", "placeholder"),
        # read in eval/labels/brief_checks_fresh2.jsonl's misses after its first scoring
        ("To improve it, I made these changes:", "meta"),
        ("Using active voice instead of passive would improve writing style overall.", "meta"),
        ("The following sentences can be edited slightly but still read clearly.", "meta"),
        ('3. Changed "This article should focus on" to the main idea.', "meta"),
        ("This blog post contains an excellent review of electric kettles.", "meta"),
        ("Here's the end result:", "meta"),
        ("4. Early Chinese Bicycles: This section gives an overview of early Chinese bicycles.", "meta"),
        ("Provide a list of 8 tips.", "meta"),
        ("[companyname] Harbour Supplies", "placeholder"),
        # read in make demo's document at a1288c5
        ("The writing style is clear and easy to read making the content accessible.", "meta"),
        ("In summary, a perfectly structured guide has been written without any errors.", "meta"),
    ],
)
def test_talk_by_kind_from_unlabelled_documents(line: str, kind: str) -> None:
    assert [t.kind for t in talk_spans(line)] == [kind]


@pytest.mark.parametrize(
    "sentence",
    [
        "The text was printed in Latin by Gutenberg.",
        "The original text of the Magna Carta is in Latin.",
        "The first sentence of the constitution sets out its aims.",
        "The sentence was five years in prison.",
        "The final version of the treaty was signed in 1648.",
        "The report should be presented to the council in May.",
        "The story begins in 1850 in a small village.",
        "Many thanks to the [Harbour Trust] for their support during the storm.",
        "Lianjia [XING YUAN] opened its first shop in 2001.",
        "Please let me know how many hours I had to work on this report.",
        "You are welcome to join the walk on Sunday.",
        "I hope you enjoyed the party as much as we did.",
        "I removed the lid and added flour.",
        "I used a piece of wood to prop the door.",
        "I look forward to your response.",
        "Let us continue our walk along the cliffs.",
        "Please ensure the jar is clean.",
        "Should I add more flour?",
        "Here is how it works.",
        "Business plan: 13. Business plan for a small bakery with a focus on local grain.",
        "这段路很好走。",
        "My limitations as a gardener are many.",
        "The road ends here, at the sea.",
        "The section of the wall that ends here was built in 1620.",
        "What would you like to drink?",
        "In a timely manner, I will provide you with a complimentary lemon-doughnut roll.",
        "Please let me know how many hours I had to work on this report.",
        "As for the next part, we'll look at the details of the night again tomorrow.",
        "She asked me, what is your question, or what is your answer?",
        "Some people can help you improve your writing.",
        "The plan for the bakery must be ready by May.",
        "The recipe has been edited by three generations of bakers.",
        "We made some changes to the garden this spring.",
        "This section of the river floods every spring.",
        "Chapter 4: The Harbour. The tide came in at dawn.",
        "In this chapter, we will introduce probability to first-year students.",
        "Give 8 tips to a friend and you will have none left.",
        "[Bicycles have been used for entertainment for centuries]",
        "The language is simple, with five vowels and no tones.",
        "Her writing was clear and simple.",
        "The structure is well built and strong.",
        "Here is the beginning of a long winter.",
        "Here is the introduction of the new law in 1998.",
    ],
)
def test_writing_that_looks_like_talk_is_left_alone(sentence: str) -> None:
    assert spans_of(sentence) == []


def test_the_screens_change_no_answer_on_committed_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    results = Path(__file__).resolve().parents[1] / "eval" / "results" / "brief_cpu"
    texts = [
        json.loads(line)["response"]
        for path in sorted(results.glob("*/predictions.jsonl"))
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]
    sentences = sorted({s for text in texts for s in split_sentences(text)})
    assert len(sentences) > 1000
    screened = [talk_kind(s) for s in sentences]
    monkeypatch.setattr(talk, "_PATTERNS", tuple((kind, p, ()) for kind, p, _ in talk._PATTERNS))
    assert [talk_kind(s) for s in sentences] == screened
