"""Remembering an expensive answer, or the failure to get one, for every example that asks again."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any


def remembered(store: dict, key: Hashable, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per key in ``store``. A failure is remembered too, so that every example gets the
    same verdict without computing again, and raised with a fresh traceback each time (Hypothesis shrinks
    through it)."""
    if key not in store:
        try:
            store[key] = compute()
        except Exception as exc:  # the same verdict for every example, whatever was raised
            store[key] = exc
    found = store[key]
    if isinstance(found, Exception):
        raise found.with_traceback(None)
    return found
