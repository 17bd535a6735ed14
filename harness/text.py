"""Text from manifests and examples shown as text: terminal control sequences escaped (an
example's stderr cannot clear the screen or retitle the terminal) and Rich markup escaped (a
`[bold]` in a title, or a regex's brackets in an error, print as written)."""

from __future__ import annotations

import re

from rich.markup import escape

# C0 controls but tab and newline, DEL, and the C1 range (ESC's 8-bit twin \x9b among them).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    r"""Control characters as visible escapes: ESC -> \x1b, CR -> \r (a CR would overwrite the line)."""
    return CONTROL.sub(lambda m: "\\r" if m.group() == "\r" else f"\\x{ord(m.group()):02x}", text)


def plain(text: object) -> str:
    """For console.print with markup on: the text exactly as written, controls escaped."""
    return escape(printable(str(text)))
