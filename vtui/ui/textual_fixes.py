"""Work-arounds for Textual bugs that vtui runs into; the app applies them as it starts.

Textual 8.2's `StylesCache.get_inner_outer` is an instance method under `functools.lru_cache`,
so the cache's keys hold the last 1,024 `StylesCache` objects, each with every line its
widget drew, long after the widget is gone (Textual issue #6665). The Chat screen takes
widgets off the screen by the hundred as a reply streams (far parts fold, blocks move into
new parts), so those lines piled up: on a 2-core machine, after three 4,000-token replies,
about 100,000 objects of 206,000 that Python's full garbage collections walk, each walk a
pause of 50-150 ms during streaming. The result depends only on the two colours, so it is
cached on those alone here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache


def apply() -> None:
    """Apply each fix that this Textual still needs; a second call changes nothing."""
    _cache_inner_outer_on_colours()


def _cache_inner_outer_on_colours() -> None:
    cached = StylesCache.__dict__.get("get_inner_outer")
    compute: Callable[..., Any] | None = getattr(cached, "__wrapped__", None)
    if compute is None:
        # Already applied, or Textual has changed the method: nothing to fix.
        return

    @lru_cache(1024)
    def inner_outer(base_background: Any, background: Any) -> Any:
        # The method never reads its instance; None stands in for it.
        return compute(None, base_background, background)

    def get_inner_outer(_self: StylesCache, base_background: Any, background: Any) -> Any:
        return inner_outer(base_background, background)

    StylesCache.get_inner_outer = get_inner_outer  # type: ignore[method-assign,assignment]
