"""The report's view of a region: the page's sample at the top of its example's card, as the
run recorded it (results.json `samples`), so the card shows the code that this run proved."""

from __future__ import annotations

from html import escape
from typing import Any


def samples_html(example: dict[str, Any]) -> str:
    parts = []
    for sample in example.get("samples", []):
        first, last = (sample.get("lines") or [0, 0])[:2]
        parts.append(f'<p class="na-note">the page\'s sample <code>{escape(sample.get("tag", ""))}</code>, '
                     f'{escape(sample.get("file", ""))}:{first}-{last}</p>'
                     f'<pre class="block"><code>{escape(sample.get("code", ""))}</code></pre>')
    return "".join(parts)
