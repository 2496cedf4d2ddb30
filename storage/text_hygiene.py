"""What text may be stored: no control characters (PostgreSQL refuses NUL; the rest only makes trouble later).

Pure functions, shared by every layer that takes text from people or files before it reaches storage.
"""

from __future__ import annotations

import re

# C0 and C1 control characters except tab and line feed, and lone surrogates (not encodable as UTF-8).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def strip_control_characters(text: str) -> str:
    """`text` without control characters; a carriage return is dropped, so CRLF becomes LF."""
    return _CONTROL.sub("", text)
