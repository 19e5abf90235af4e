"""Plans: the outline a planner answers, read and made fit to write from. ``parse`` reads
it (JSON or AgentWrite's line format, a plan cut off part-way, a user's plan file),
``budgets`` sizes its sections to the target, ``render`` shows it to the prompts; for a
small model's untidy plan, ``labels``, ``repeats`` and ``titles`` read its headings,
``hygiene`` names its problems for the model to mend and ``repair`` cleans what stays
untidy without inventing content."""

from agentwrite.plans.budgets import normalise_budgets, section_count_bounds, with_budgets
from agentwrite.plans.hygiene import describe_problems, plan_problems
from agentwrite.plans.labels import label_of, strip_labels
from agentwrite.plans.parse import (
    load_plan_file,
    parse_plan,
    parse_plan_json,
    parse_plan_lines,
    parse_plan_with_format,
    whole_sections,
)
from agentwrite.plans.render import render_outline, render_plan
from agentwrite.plans.repair import clean_plan, titles_from_text
from agentwrite.plans.repeats import content_words, near_repeat
from agentwrite.plans.titles import talks

__all__ = [
    "clean_plan",
    "content_words",
    "describe_problems",
    "label_of",
    "load_plan_file",
    "near_repeat",
    "normalise_budgets",
    "parse_plan",
    "parse_plan_json",
    "parse_plan_lines",
    "parse_plan_with_format",
    "plan_problems",
    "render_outline",
    "render_plan",
    "section_count_bounds",
    "strip_labels",
    "talks",
    "titles_from_text",
    "whole_sections",
    "with_budgets",
]
