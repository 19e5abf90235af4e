"""Defaults that suit a known model, used where the user has not chosen the setting.

A small model degrades sooner than a large one. The bundled SmolLM2-135M kept 96% of a
300-word section's words before any loop but 93% of a 600-word one, at its writer's
repetition penalty (``eval/section_length.py``; eval/README.md, "Quality"), so its
sections are planned at 150 to 400 words rather than 200 to 1,000, and a 2,000-word
document has five or more of them.

>>> from agentwrite.settings import Settings
>>> tuned = for_model(Settings(), "smollm2-135m-instruct")
>>> tuned.min_section_words, tuned.max_section_words
(150, 400)
>>> for_model(Settings(max_section_words=800), "smollm2-135m-instruct").max_section_words
800
>>> for_model(Settings(), "Qwen/Qwen2.5-7B-Instruct").max_section_words
1000
"""

from __future__ import annotations

from typing import Any

from agentwrite.llm.bundled import BUNDLED_MODEL_NAME
from agentwrite.settings import Settings

PROFILES: dict[str, dict[str, Any]] = {
    BUNDLED_MODEL_NAME: {"min_section_words": 150, "max_section_words": 400},
}
"""Per model name (as the server or backend reports it): settings and their values."""


def for_model(settings: Settings, model_name: str) -> Settings:
    """``settings`` with the profile of ``model_name`` filled in where nothing was set."""
    profile = PROFILES.get(model_name, {})
    unset = {name: value for name, value in profile.items() if name not in settings.model_fields_set}
    return settings.model_copy(update=unset) if unset else settings
