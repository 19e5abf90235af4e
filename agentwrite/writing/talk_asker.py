"""Talk addressed to the asker instead of the reader: placeholders left for the asker to
fill in, apologies, offers, thanks and questions to the asker, the model naming itself, and
preambles that present the text ("Here is the continuation:").

``ASKER_PATTERNS`` are the patterns of ``agentwrite.writing.talk`` for the kinds placeholder,
apology, offer and preamble, each with its screen of words.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

_PLACEHOLDER = re.compile(
    r"\[(?:[^\[\]\n]{0,60}?\b(?i:your|insert|name|company|address|date|city|sender|recipient|"
    r"position|phone|e-?mail|signature|placeholder|here|instructions?|paragraphs?|sections?|texts?|notes?|titles?|"
    r"tasks?|edits?|chapters?|sentences?|continuation|summary|parts?|articles?|links?|amount|location|"
    r"number|website|url|product|industry|role|job|degree|skills?|end|next)\b[^\[\]\n]{0,60}?"
    r"|[^\W_]+(?:_[^\W_]+)+|[a-z]+name)\](?!\()"
    r"|[\[【](?:你|您|插入|此处|姓名|名字|公司|地址|日期|职位|电话|邮箱|签名)[^\]】\n]{0,20}[\]】]",
)
_APOLOGY = re.compile(
    r"^(?:I(?:'m|’m| am)\s+(?:so\s+|very\s+|really\s+)?sorry,?\s+(?:but|for\s+(?:the|any|my)\s+"
    r"(?:confusion|mistake|error|misunderstanding|inconvenience))|I\s+apologi[sz]e|(?:my\s+)?apologies\b"
    r"|sorry,?\s+but)"
    r"|\bI\s+made\s+a\s+(?:small\s+|big\s+|little\s+)?(?:mistake|typo|error)\b"
    r"|\bI\s+(?:can't|can’t|cannot|am\s+unable\s+to|'m\s+unable\s+to)\s+(?:write|complete|provide|fulfil+)\b"
    r"|^(?:抱歉|对不起|很抱歉|非常抱歉)|我(?:无法|不能)(?:完成|写|提供|继续)",
    _I,
)
_OFFER = re.compile(
    r"\bI(?:'d|’d|\s+would)\s+be\s+(?:happy|glad|delighted)\s+to\b|\bfeel\s+free\s+to\b"
    r"|\bI(?:'m|’m|\s+am)\s+here\s+to\s+(?:help|guide|assist)\b|\bhappy\s+to\s+(?:help|assist)\b"
    r"|\b(?:let\s+me\s+know|tell\s+me)\s+if\s+you\s+(?:need|want|would\s+like|have)\s+(?:any|more|further|"
    r"changes|other|edits|me\s+to)\b"
    r"|\bplease\s+(?:go\s+ahead\s+and\s+)?(?:share|provide|send)\s+(?:me\s+)?(?:the|your|whatever|more|any)\b"
    r"|\bI\s+can\s+(?:also\s+)?(?:share|provide|write|offer)\s+(?:you\s+)?(?:a|another|more|some)\s+"
    r"(?:tips?|sections?|versions?|drafts?|paragraphs?|examples?|revisions?)\b"
    r"|\bif\s+you\s+(?:need|want|would\s+like|have\s+any)\b[^.!?]*\b(?:help|changes|questions|assistance|"
    r"revisions|edits)\b[^.!?]*\b(?:let\s+me|feel\s+free|ask\s+me|I(?:'d|’d|'ll|’ll|\s+can|\s+will|\s+would))\b"
    r"|\bif\s+you(?:'d|’d|\s+would)\s+like\s+(?:me\s+to|any\s+changes|more\s+(?:details|sections|examples))\b"
    r"|\b(?:I\s+)?hope\s+(?:this|that|it|these)\b[^.!?]*\b(?:helps?|helpful|useful)\b"
    r"|\bI\s+will\s+create\s+something\b"
    r"|\bI(?:'m|’m|\s+am)\s+(?:going|about|happy|excited)\s+to\s+share\s+(?:this|it)\s+with\s+you\b"
    r"|^(?:sure|certainly|of\s+course|absolutely|okay|ok|alright)\s*[,!.:]?\s*(?:$|here|I\b|I'|I’|let|below|this)"
    r"|希望(?:这|以上|本文|这篇|对你|对您)[^。！？]*(?:帮助|有用|喜欢)|如果(?:你|您)(?:需要|还有|想要|有任何)"
    r"|(?:请|欢迎)(?:随时|告诉我|让我知道)|^(?:好的|当然|没问题)[，,。!！]",
    _I,
)
_PREAMBLE = re.compile(
    r"\bhere(?:'s|’s|\s+is|\s+are)\s+(?:(?:the|a|an|your|my|some)\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:continuation|rewritten|revised|edited|updated|version|draft|section|paragraph|text|essay|article|"
    r"outline|chapter|piece|document|\d+-word)\b"
    r"|\bhere(?:'s|’s|\s+is)\s+the\s+(?:next|final|last|remaining|rest\s+of\s+(?:the|my|your))\s+"
    r"(?:part|section|paragraph|chapter)"
    r"|\b(?:below|above)\s+(?:is|are)\s+(?:the|a|an|my|your)\s+(?:[\w-]+\s+){0,3}?(?:outline|text|essay|"
    r"article|section|paragraph|draft|version|plan|summary|story|\d+[- ]word)"
    r"|\bthe\s+following\s+(?:\d[\d,]*\s+words|text|section|paragraphs?|essay|article|outline|draft|post|piece)\b"
    r"|\bcontinuation\s+(?:of\s+(?:the|this|my|your)\s+(?:text|section|story|article|essay|paragraph)|to\b)"
    r"|以下是|下面是|以上是|这是(?:第[\d一二三四五六七八九十]+|一篇|一份|您|你|续写|改写|修改)|(?:续写|改写)如下",
    _I,
)
_ASKER = re.compile(
    r"\bas\s+an\s+AI\b|\b(?:AI|writing|virtual)\s+assistant\b|\blanguage\s+model\b|\bmy\s+next\s+task\b"
    r"|^(?:many\s+thanks|thank\s+you|thanks)\b[^.!?]*\b(?:writ\w*|edit\w*|articles?|essays?|texts?|pieces?|guides?|"
    r"feedback|suggestions?|request|help(?:ing)?\s+me)\b"
    r"|\bit\s+seems\s+(?:that\s+|like\s+)?you(?:'re|’re|\s+are)?\s+(?:want|would\s+like|need|trying|asking)\b"
    r"|\bwhat\s+I\s+would\s+like\s+you\s+to\s+do\b|^happy\s+(?:writing|editing)\b"
    r"|\bI(?:'m|’m|\s+am|'ll\s+be|’ll\s+be|\s+will\s+be)\s+(?:ready|happy|glad|pleased)\s+to\s+(?:continue|help|assist|"
    r"proceed)\b|\bI(?:'m|’m|\s+am)\s+glad\s+you(?:'ve|’ve|\s+have)?\s+(?:enjoy|lik|found\s+(?:this|it|the|my))"
    r"|\b(?:great|awesome|nice|wonderful)\s+to\s+hear\s+from\s+you\b|\bglad\s+you\s+found\s+(?:us|me)\b"
    r"|\b(?:what|how)\s+(?:can|may)\s+I\s+(?:help|assist)\b|\bto\s+answer\s+your\s+question\b"
    r"|\b(?:do\s+you\s+want|would\s+you\s+like|you(?:'d|’d|\s+would)\s+like)\s+me\s+to\s+\w+"
    r"|\b(?:despite|given|within|due\s+to|because\s+of)\s+my\s+(?:own\s+)?limitations\b|\bglad\s+(?:I|to)\s+(?:could\s+)?(?:help|assist)\b|\b(?:happy|glad|love)\s+to\s+"
    r"discuss\s+(?:it\s+|this\s+)?further\b|\bwhat\s+I(?:'m|’m|\s+am)\s+here\s+for\b|\bI(?:'m|’m|\s+am)\s+always\s+here\s+"
    r"to\s+(?:help|assist)\b|\bI\s+hope\s+(?:this|that|it|these|they)\s+(?:satisf|meet|suit|fit)\w*\s+(?:your|the)\s+"
    r"(?:needs|requirements|expectations)\b|^(?:should|shall|can|may)\s+I\s+(?:[\w-]+\s+){0,3}?(?:writ\w*|edit\w*|rewrite|revise)\b"
    r"|\b(?:the|this|that|my|your|another|next|previous|first|second|third|last|final)\s+(?:[\w-]+\s+)?(?:paragraphs?|"
    r"sentences?|drafts?|text|edits?|rewrite|revisions?)\b[^?]*\?\s*$",
    _I,
)
"""Words to the asker: thanks for the task, readiness to go on, the model naming itself,
questions about the text."""
_PRESENTING = re.compile(
    r"\bhere(?:'s|’s|\s+is|\s+are|\s+goes|\s+it\s+goes|\s+comes|\s+we\s+have)\b[^.!?]{0,50}?\b(?:edit(?:ed|s)?|"
    r"rewrit\w*|revis\w*|rephras\w*|original|response|so\s+far|what\s+(?:I|we)(?:'ve|’ve|\s+have)?\s+(?:done|did|got|"
    r"changed)|(?:additional|more|further|extra)\s+information|final\s+(?:product|version|result)|the\s+ending|"
    r"paragraphs?|sentences?)\b"
    r"|^here(?:\s+it)?\s+(?:goes|is|comes)(?:\s+again)?\s*[:!.]?\s*$|\b(?:do|write|say|phrase)\s+it\s+like\s+this\s*:"
    r"|\b(?:paragraphs?|sentences?|text|version|draft|edit|continuation|rewrite|sections)\b[^.!?:]{0,60}[:：]\s*$"
    r"|(?:修改|改写|润色|续写|编辑)后的?(?:版本|文本|文章|内容|段落)|^(?:原文|正文|译文|续写|改写|修改稿?)\s*[:：]",
    _I,
)
"""Text presented as text: its edits, the result so far, a line that announces a paragraph."""
_ASKER_MORE = re.compile(
    r"^please\s+(?:go\s+ahead|allow\s+me|write\s+whatever|note\s+that\s+this)\b"
    r"|\bI(?:'ll|’ll|\s+will)\s+do\s+my\s+best\s+to\s+(?:help|assist)\b|\bassist\s+you\s+with\s+any\b"
    r"|\bI(?:'m|’m|\s+am)\s+here\s+to\s+(?:continue|offer|provide|give|write)\b"
    r"|\b(?:love|like|glad|happy)\s+to\s+hear\s+your\s+(?:thoughts|feedback|comments)\b|\bcollaborate\s+with\s+you\b"
    r"|\byou\s+can\s+ask\s+me\b|\bI(?:'m|’m|\s+am)\s+happy\s+to\s+tell\s+you\b|\bI(?:'m|’m|\s+am)\s+an\s+AI\b"
    r"|\bI\s+will\s+provide\s+you\s+with\s+(?:a|an)\s+(?:[\w-]+\s+){0,2}?(?:plan|guide|outline|summary|list|overview|"
    r"version|draft)\b|\b(?:an?\s+)?(?:excellent|great|good)\s+answer\b|\byou(?:'ve|’ve|\s+have)\s+got\s+it\s+right\b"
    r"|\bwhat\s+would\s+you\s+like\s+(?:to\s+be\s+)?(?:edited|changed|added|written|me\s+to)\b"
    r"|\bI(?:'ll|’ll|\s+will)\s+present\s+you\s+with\b",
    _I,
)
_CHAT = re.compile(
    r"\byou(?:'re|’re|\s+are)\s+(?:very\s+|most\s+|so\s+)?welcome\b(?!\s+to\b)|\bI(?:'m|’m|\s+am)\s+(?:all\s+set|ready\s+when\s+you\s+are)\b"
    r"|\bI(?:'d|’d|\s+would)\s+(?:love|like)\s+to\s+(?:hear|know)\s+(?:more\s+)?(?:about\s+)?(?:your|what\s+you)\b"
    r"|\bthank\s+you\s+for\s+(?:asking|your\s+(?:request|question|patience)|the\s+request|reaching\s+out|choosing\s+me)\b"
    r"|\bavailable\s+for\s+(?:any\s+)?(?:further\s+|more\s+|specific\s+|other\s+)?(?:requests|questions)\b"
    r"|\b(?:share|tell\s+me)\s+your\s+(?:opinions?|thoughts|ideas|"
    r"feedback|stories)\b|\byour\s+creative\s+(?:ideas?|journey|writing|imagination)\b|\bour\s+creative\s+journey\b"
    r"|\bwhat\s+kind\s+of\s+(?:stories|articles|essays|texts)\s+have\s+you\b"
    r"|\bhope\s+you\s+(?:enjoy|enjoyed|like|liked|found)\s+(?:it|this|reading|(?:the|my|this)\s+(?:explanation|"
    r"article|guide|story|essay|post|report|text|piece|section|tips|information)\b)"
    r"|\b(?:share|send)\s+your\s+(?:questions|thoughts|feedback|comments|ideas)\s+with\s+me\b",
    _I,
)
_HERE_IS = re.compile(
    r"^here(?:'s|’s|\s+is|\s+are)\s+(?:some|more|the)\s+(?:[\w-]+\s+){0,2}?(?:explanation|details|information|"
    r"imagination|answer|response)\b",
    _I,
)
_APOLOGY_MORE = re.compile(
    r"^I(?:'m|’m|\s+am)\s+sorry,\s+I\b|\b(?:I|we)(?:'ve|’ve|\s+have)?\s+been\s+asked\s+to\s+(?:write|improve|edit|"
    r"rewrite|translate|continue)\b",
    _I,
)
"""More words to the asker, read in the documents of eval/results/brief_cpu/agent_titles
(written with the checks on: what the other patterns let through)."""
_PRESENTING_MORE = re.compile(
    r"^here(?:'s|’s|\s+is)\s+(?:your|the\s+(?:full|complete|detailed|whole|final))\s+(?:[\w-]+\s+){0,3}?(?:plan|report|"
    r"guide|story|article|essay|list|answer|response|letter)\b[^.!?]*:\s*$"
    r"|\bwould\s+look\s+like\s+this\s*:|\bI\s+(?:would|will|'d|'ll|’d|’ll)\s+(?:simply\s+)?write\b[^.!?]*:\s*$"
    r"|\bI\s+suggest\s+using\s+the\s+following\b|^body\s+of\s+the\s+(?:article|essay|text|letter|report)\b"
    r"|^here(?:'s|’s|\s+is)\s+(?:the|an?|your|my)\s+(?:introduction|conclusion|opening|ending|beginning|body)\s+"
    r"(?:to|of|for)\s+(?:the|your|my|this|our)\s+(?:[\w-]+\s+){0,2}?(?:story|essay|article|text|letter|report|"
    r"guide|explainer|piece|post|document|speech)\b",
    _I,
)
"""More text presented as text (the same documents; "Here's the introduction to your story:"
from eval/results/brief_cpu/agent_reask)."""
_OFFER_HINTS = (
    *("happy", "glad", "delighted", "feel free", "here to", "let me know", "tell me", "please", "i can"),
    *("if you", "hope", "create something", "share", "sure", "certainly", "course", "absolutely", "ok"),
    *("alright", "希望", "如果", "请", "欢迎", "好的", "当然", "没问题"),
)
_ASKER_HINTS = (
    *("as an ai", "assistant", "language model", "next task", "thank", "happy", "ready", "glad", "pleased"),
    *("help", "assist", "question", " me to", "further", "here for", "hope", "should i", "shall i", "can i"),
    *("may i", "?", "hear from", "found us", "found me", "seems", "like you", "limitation"),
)
_PRESENTING_HINTS = ("here", ":", "like this", "：", "后", "原文", "正文", "译文", "续写", "改写", "修改")
_ASKER_MORE_HINTS = (
    *("please", "best", "assist", "here to", "hear your", "collaborate", "ask me", "happy to", "an ai"),
    *("provide you", "answer", "got it", "would you like", "present you"),
)
_CHAT_HINTS = (
    *("welcome", "all set", "ready when", "to hear", "to know", "thank you", "available"),
    *("your opinion", "your thoughts", "your ideas", "your feedback", "your stories", "creative", "have you"),
    *("hope you", "with me"),
)
ASKER_PATTERNS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    ("placeholder", _PLACEHOLDER, ()),
    ("apology", _APOLOGY, ()),
    ("offer", _OFFER, _OFFER_HINTS),
    ("offer", _ASKER, _ASKER_HINTS),
    ("preamble", _PREAMBLE, ()),
    ("preamble", _PRESENTING, _PRESENTING_HINTS),
    ("apology", _APOLOGY_MORE, ("sorry", "asked to")),
    ("offer", _ASKER_MORE, _ASKER_MORE_HINTS),
    ("offer", _CHAT, _CHAT_HINTS),
    ("preamble", _HERE_IS, ("here",)),
    ("preamble", _PRESENTING_MORE, ("here", "like this", "write", "following", "body of")),
)
"""The kinds placeholder, apology, offer and preamble: each row a kind, a pattern and the
words one of which a sentence must hold (lowercased) for the pattern to be tried (none:
always tried), in the order ``talk_kind`` tries them."""


__all__ = ["ASKER_PATTERNS"]
