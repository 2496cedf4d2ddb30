"""Rules for the text people type, applied before anything reaches the core's use cases or storage.

Every inbound message is cleaned once (`clean_inbound`): control characters are stripped from its text, command,
arguments, button token and file name. Names have a stricter rule (`name_problem`): letters of any script, with
spaces and the separators names use (张·三, Anna-Li); emoji and symbols are refused with a clear message.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from bot.core import texts
from bot.core.messages import Inbound
from storage.text_hygiene import strip_control_characters

NAME_SEPARATORS = frozenset(" ·•.-'’")
NAME_PUNCTUATION = frozenset("??!!,,。;;::、")


def clean_inbound(inbound: Inbound) -> Inbound:
    """The same message with every control character removed from what the user typed or named."""
    file = inbound.file
    if file is not None:
        file = replace(file, filename=strip_control_characters(file.filename))
    return replace(
        inbound,
        text=strip_control_characters(inbound.text),
        command=strip_control_characters(inbound.command),
        args=strip_control_characters(inbound.args),
        button_token=strip_control_characters(inbound.button_token),
        file=file,
    )


def clean_name(text: str) -> str:
    """A name as stored: no control or invisible format characters (zero-width spaces, BOMs), single spaces."""
    visible = "".join(ch for ch in strip_control_characters(text) if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())


def name_problem(name: str) -> str | None:
    """Why `name` (already cleaned) is not a person's name, in Chinese; None when it is one."""
    if not 2 <= len(name) <= 20 or name.startswith("/"):
        return texts.BAD_NAME
    letters = 0
    for ch in name:
        category = unicodedata.category(ch)
        if category.startswith("L"):
            letters += 1
        elif ch.isdigit() or ch in NAME_PUNCTUATION:
            return texts.BAD_NAME  # a question typed before registering is not a name
        elif not (category.startswith("M") or ch in NAME_SEPARATORS):
            return texts.NAME_NOT_TEXT  # emoji, skin tones, symbols (★), anything that is not writing
    return None if letters >= 2 else texts.NAME_NOT_TEXT
