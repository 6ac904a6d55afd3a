"""What changed between two sets of verdicts: two runs, two matrix columns, or two matrices.

A property **regressed** when it had a verdict that is not bad in the old set
(``passed``, ``expected_divergence`` or ``not_provided``) and a bad one in the
new set (``failed``, ``error``, ``crashed``, ``timeout`` or ``tampered``). Every other status
change is listed but is not a regression: bad to bad (``failed`` to ``error``),
bad to good (a fix), good to good (``passed`` to ``expected_divergence``: a
divergence ``properties/expectations.toml`` records). A known divergence is
compared with what it looked like (``diverged_as``, ``failed`` or ``error``),
so a divergence that starts raising where it used to fail is a change too. A
property present in only one set is listed as added or removed; it never counts
as a regression (nothing can have regressed that was not there).

A matrix column is identified by its build label and its jax version; two
matrices are compared column by column (and two one-column matrices with each
other, whatever their columns are).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from conformance.engine.outcomes import BAD

ABSENT = "absent"


def status_of(result: dict[str, Any] | None) -> str:
    """A verdict as compared: ``expected_divergence (error)`` when the report says how it diverged."""
    if result is None:
        return ABSENT
    how = result.get("diverged_as") or (result.get("extra") or {}).get("diverged_as")
    return f"{result['status']} ({how})" if how else result["status"]


def regressed(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    return old is not None and new is not None and old["status"] not in BAD and new["status"] in BAD


@dataclass(frozen=True)
class Change:
    id: str
    title: str
    old: dict[str, Any] | None  # None: the property is not in the old set
    new: dict[str, Any] | None  # None: the property is not in the new set

    @property
    def regressed(self) -> bool:
        return regressed(self.old, self.new)

    @property
    def old_status(self) -> str:
        return status_of(self.old)

    @property
    def new_status(self) -> str:
        return status_of(self.new)


def compare(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[Change]:
    """Every property whose compared status differs, in the new set's order, then the removed ones."""
    before = {r["id"]: r for r in old}
    after = {r["id"]: r for r in new}
    changes = []
    for prop_id in [*after, *(i for i in before if i not in after)]:
        a, b = before.get(prop_id), after.get(prop_id)
        if status_of(a) != status_of(b):
            changes.append(Change(prop_id, (b or a or {}).get("title", ""), a, b))
    return changes


# --------------------------------------------------------------------------- matrix columns


def column_key(column: dict[str, Any]) -> tuple[str, str]:
    """(build label, jax version): what a column is, the same in every matrix it appears in."""
    return column.get("label") or column["flax"], column.get("jax", "")


def column_names(matrix: dict[str, Any]) -> list[str]:
    """A short unique name per column: its label, with the jax version where one label has several."""
    labels = Counter(column_key(v)[0] for v in matrix["versions"])
    names = []
    for v in matrix["versions"]:
        label, jax = column_key(v)
        names.append(label if labels[label] == 1 else f"{label} · jax {jax}")
    return names


@dataclass(frozen=True)
class ColumnPair:
    old_name: str
    new_name: str
    changes: list[Change]

    @property
    def title(self) -> str:
        return self.old_name if self.old_name == self.new_name else f"{self.old_name} → {self.new_name}"


def adjacent(matrix: dict[str, Any]) -> list[ColumnPair]:
    """The changes from each column of a matrix to the next."""
    names, versions = column_names(matrix), matrix["versions"]
    return [
        ColumnPair(names[i - 1], names[i], compare(versions[i - 1]["results"], versions[i]["results"]))
        for i in range(1, len(versions))
    ]


def between(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[ColumnPair], list[str], list[str]]:
    """Two matrices, column by column: (matched pairs, names only in old, names only in new)."""
    old_names, new_names = column_names(old), column_names(new)
    old_by_key = {column_key(v): (n, v) for n, v in zip(old_names, old["versions"], strict=True)}
    new_by_key = {column_key(v): (n, v) for n, v in zip(new_names, new["versions"], strict=True)}
    common = [k for k in new_by_key if k in old_by_key]
    if not common and len(old_by_key) == 1 and len(new_by_key) == 1:
        common_pairs = [(next(iter(old_by_key.values())), next(iter(new_by_key.values())))]
    else:
        common_pairs = [(old_by_key[k], new_by_key[k]) for k in common]
    pairs = []
    for (old_name, a), (new_name, b) in common_pairs:
        if column_key(a) == column_key(b):  # one column in both: one name, with its jax if either says it
            old_name = new_name = max(old_name, new_name, key=len)
        pairs.append(ColumnPair(old_name, new_name, compare(a["results"], b["results"])))
    matched_old = {a[0] for a, _ in common_pairs}
    matched_new = {b[0] for _, b in common_pairs}
    return pairs, [n for n in old_names if n not in matched_old], [n for n in new_names if n not in matched_new]
