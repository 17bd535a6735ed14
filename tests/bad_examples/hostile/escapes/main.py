"""Terminal escape sequences (clear screen, set the title, move the cursor) and Rich markup in
its stderr, then a failure: the report must show them as text, escaped, not act on them."""

import sys

sys.stderr.write("\x1b[2J\x1b]0;pwned\x07[bold red]not markup[/] [link=http://127.0.0.1/]x[/link] \\[escaped]\n")
sys.stderr.write("regex: ^[a-z]+$ and [/]\n")
sys.exit(1)
