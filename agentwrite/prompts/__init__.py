"""Prompt templates are Markdown files in this folder, rendered strictly.

A template names its variables as ``{{name}}``. Rendering fails loudly when a variable
is missing or when one is passed that the template does not use.

>>> render_text("Write about {{topic}}.", topic="tea")
'Write about tea.'
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from agentwrite.errors import PromptError

_VARIABLE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def variables(template: str) -> set[str]:
    """The variable names a template uses.

    >>> sorted(variables("{{a}} and {{ b }} and {{a}}"))
    ['a', 'b']
    """
    return set(_VARIABLE.findall(template))


def render_text(template: str, **values: object) -> str:
    """Fill a template; raise PromptError on missing or unused variables."""
    wanted = variables(template)
    missing = wanted - values.keys()
    unused = values.keys() - wanted
    if missing or unused:
        raise PromptError(
            f"template variables do not match: missing {sorted(missing)}, unused {sorted(unused)}"
        )
    return _VARIABLE.sub(lambda m: str(values[m.group(1)]), template)


@cache
def template(name: str) -> str:
    """The text of ``agentwrite/prompts/<name>.md``."""
    try:
        return resources.files(__package__).joinpath(f"{name}.md").read_text("utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"no prompt template named {name!r}") from exc


def render(name: str, **values: object) -> str:
    """Render the packaged template ``name`` with ``values``."""
    return render_text(template(name), **values)
