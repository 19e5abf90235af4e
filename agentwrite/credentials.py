"""The API key and a server URL's password: checked where they come in, sent only in the
``Authorization`` header, and kept out of everything agentwrite records or prints.

``public_url`` is the one form of a URL that is written to a file or shown (its user name
and password removed); ``without_secrets`` is what a record of settings keeps; ``redact``
blanks secrets out of text a server sent back.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from agentwrite.errors import InputError

KEY_NAMES = frozenset({"api_key", "api-key", "agentwrite_api_key", "openai_api_key"})
"""The names an API key goes by in settings (a field, its environment variables)."""
URL_NAMES = frozenset(
    {"base_url", "base_urls", "base-url", "base-urls", "agentwrite_base_url", "openai_base_url"}
)
"""The names a server URL (or a list of them) goes by in settings."""


def public_url(url: str) -> str:
    """``url`` without the user name and password it may carry: the form that is recorded
    and shown.

    >>> public_url("http://user:s3cret@127.0.0.1:8000/v1"), public_url("https://host/v1")
    ('http://127.0.0.1:8000/v1', 'https://host/v1')
    """
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def url_credentials(url: str) -> tuple[str, str] | None:
    """The user name and password a URL carries (percent-decoded), or None.

    >>> url_credentials("http://me:p%40ss@host/v1"), url_credentials("http://host/v1")
    (('me', 'p@ss'), None)
    """
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return None
    user, _, password = parts.netloc.rpartition("@")[0].partition(":")
    return urllib.parse.unquote(user), urllib.parse.unquote(password)


def check_api_key(key: str) -> None:
    """InputError, never showing the key, when it cannot be sent as an HTTP header value:
    empty, or holding a space, a control character (a stray CR or LF) or a non-ASCII one.

    >>> check_api_key("sk-abc.123_XYZ")
    >>> check_api_key("sk-abc\\r")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: the API key cannot ... a control character (a line end?) at position 7; ...
    """
    if not key:
        raise InputError("the API key is empty; unset it, or set it to the key")
    for position, char in enumerate(key, start=1):
        if "!" <= char <= "~":
            continue
        what = (
            "a space"
            if char == " "
            else "a control character (a line end?)"
            if ord(char) < 32 or ord(char) == 127
            else "a non-ASCII character"
        )
        raise InputError(
            f"the API key cannot be sent as an HTTP header: it holds {what} at position {position}; "
            "set it again without it"
        )


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret blanked out, as it is and in the escaped forms a server or
    a ``repr`` may echo it in (JSON, Python, percent-encoded).

    >>> redact('bad key "sk-\\\\"q\\\\"" and sk-"q"', ['sk-"q"'])
    'bad key "***" and ***'
    """
    for secret in secrets:
        if not secret:
            continue
        forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], urllib.parse.quote(secret, safe="")}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
    return text


def without_secrets(record: Mapping[str, Any]) -> dict[str, Any]:
    """A settings record as it may be written: no API key under any of its names, every
    server URL in its public form (nested mappings too).

    >>> without_secrets({"api_key": "sk-1", "base_url": ["http://u:p@h/v1"], "decoding": {"x": 1}})
    {'base_url': ['http://h/v1'], 'decoding': {'x': 1}}
    """
    out: dict[str, Any] = {}
    for name, value in record.items():
        lowered = str(name).lower()
        if lowered in KEY_NAMES:
            continue
        if lowered in URL_NAMES:
            value = _public_urls(value)
        elif isinstance(value, Mapping):
            value = without_secrets(value)
        out[name] = value
    return out


def _public_urls(value: Any) -> Any:
    if isinstance(value, str):
        return ",".join(public_url(u) for u in value.split(","))
    if isinstance(value, list | tuple):
        return [public_url(u) if isinstance(u, str) else u for u in value]
    return value
