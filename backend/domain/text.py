"""Free text as it shows: what a reader sees is what is stored.

Controls, format characters (direction overrides such as U+202E, zero-width characters) and
unassigned code points make a text read otherwise than it is: `rapport\u202egnp.pdf` shows as
"rapportfdp.png". Names, titles and short fields are kept on one line without them; longer
text keeps its line breaks.
"""

from __future__ import annotations

import unicodedata


def without_invisible(text: str) -> str:
    """The text without controls, format characters and unassigned ones."""
    if text.isprintable():  # no such character (and no separator but the space): as it is
        return text
    return "".join(c for c in text if unicodedata.category(c)[0] != "C")


def without_invisible_keeping_spaces(text: str) -> str:
    """`without_invisible`, keeping the controls that are spaces and line breaks (tab, LF,
    CR…): where a text's hash must stay that of the same text stored before."""
    if text.isprintable():
        return text
    return "".join(c for c in text if c.isspace() or unicodedata.category(c)[0] != "C")


# Letters that show as nothing: the Hangul fillers (default-ignorable, category Lo) and the
# braille blank. Read as the gap they show as, so that a title or a reason of them is none.
BLANK_LETTERS: dict[int, str] = dict.fromkeys((0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800), " ")
_BLANKS = str.maketrans(BLANK_LETTERS)


def one_line(text: str) -> str:
    """A line as it shows: invisible characters out, letters that show as nothing and runs
    of spaces and line breaks folded into one space, no space at either end."""
    folded = " ".join(text.translate(_BLANKS).split())
    return folded if folded.isprintable() else " ".join(without_invisible(folded).split())


# The controls left in a line once it is split at its breaks that show as a gap (tab, unit
# separator): a space, not nothing, or "10\t20" would be kept as "1020".
_GAPS = str.maketrans({ord("\t"): " ", ord("\x1f"): " ", **BLANK_LETTERS})


def lines(text: str) -> str:
    """Longer text: its line breaks kept (as \\n), each line without invisible characters
    (a tab, or a letter that shows as nothing, becomes a space) and trailing spaces."""
    return "\n".join(
        without_invisible(line.translate(_GAPS)).rstrip() for line in text.strip().splitlines()
    ).strip()
