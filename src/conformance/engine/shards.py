"""``--shard I/N``: one of N parts of the selected catalogue, for a CI matrix whose jobs each run one part.

The selected properties, in catalogue order (document, then id), are cut into N
contiguous runs of nearly equal length: a document's properties mostly stay on one
job, where they share compiled programs. The split depends only on the catalogue and
the selection, never on the implementation, so every job of the matrix, and every
implementation within a job, agrees on it; ``conformance merge`` puts the parts'
reports back together.
"""

from __future__ import annotations

from collections.abc import Sequence


class ShardError(ValueError):
    """A malformed ``--shard``; the message is one line."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``: part 2 of 3, counted from 1."""
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        raise ShardError(f"--shard takes I/N, such as 1/4, got {text!r}") from None
    if not sep or n < 1 or not 1 <= i <= n:
        raise ShardError(f"--shard {text}: I must be between 1 and N")
    return i, n


def shard_ids(ids: Sequence[str], index: int, count: int) -> list[str]:
    """Part ``index`` of ``count`` of ``ids`` (given in catalogue order)."""
    n = len(ids)
    return list(ids[(index - 1) * n // count : index * n // count])
