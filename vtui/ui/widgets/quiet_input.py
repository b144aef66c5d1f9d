"""An Input whose typing redraws only itself.

Textual's Input sets its virtual size (the text's width, for scrolling it sideways) on every
change of its value, and its base class declares that size as something that changes the
layout. So each key laid the whole screen out again: on the Chat screen, with a long reply
on it, 10-20 ms per key on a 2-core machine, and the same again for every frame a key arrived
in the middle of. The Input scrolls its text by itself, from its own virtual size; nothing
around it depends on that size, so a repaint is enough.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class QuietInput(Input):
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), repaint=True)
