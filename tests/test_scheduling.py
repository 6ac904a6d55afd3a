"""Workers share no compilation cache, so the properties of a document run on one worker.

`conformance run` passes ``--dist loadgroup`` (plugin.scheduling.xdist_args) and the
plugin marks every property with its group (plugin.scheduling.group). Nothing fails when grouping silently stops
working (pytest 9.2 with pytest-xdist 3.8 ignores the groups, pytest-xdist#1386);
the run just compiles every shared program twice. This test notices.
"""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO

from conformance.engine.plugin import xdist_args


def test_each_document_runs_on_one_worker():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "properties",
            "-p",
            "no:cacheprovider",
            "-v",
            *xdist_args(2),
            "--conformance-profile",
            "dev",
            "--only",
            "03-*",
            "--only",
            "05-*",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    ran = re.findall(r"^\[(gw\d+)\] .*? (properties/\S+)", proc.stdout, re.M)
    assert len(ran) >= 10, f"too few properties ran:\n{proc.stdout[-3000:]}"
    workers: dict[str, set[str]] = {}
    for worker, nodeid in ran:
        group = nodeid.rpartition("@")[2] if "@" in nodeid else None
        assert group is not None, f"{nodeid} carries no @group: xdist ignored the groups (pytest-xdist#1386?)"
        workers.setdefault(group, set()).add(worker)
    assert set(workers) == {"03-reference", "05-reference"}, sorted(workers)
    split = {g: sorted(w) for g, w in workers.items() if len(w) > 1}
    assert not split, f"groups spread over several workers: {split}"


# --------------------------------------------------------------------------- a worker dies (issue 18)


class _Node:
    """Stands in for xdist's WorkerController: records what it is sent."""

    def __init__(self, name: str):
        self.gateway = type("Gateway", (), {"id": name})()
        self.shutting_down = False
        self.sent: list[int] = []

    def send_runtest_some(self, indices):
        self.sent += indices

    def shutdown(self):
        self.shutting_down = True


def _scheduler(cls, collection, nodes):
    from types import SimpleNamespace

    values = {"tx": [f"{len(nodes)}*popen"], "dist": "loadgroup"}
    config = SimpleNamespace(option=SimpleNamespace(loadscopereorder=True), getvalue=values.get)
    sched = cls(config)
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    return sched


def _complete(sched, node, nodeid):
    sched.mark_test_complete(node, sched.collection.index(nodeid))


COLLECTION = [f"p.py::t{g}{i}@{g}" for g, n in (("A", 4), ("B", 3)) for i in range(n)]


def _dies_after_its_first_group(cls):
    """One worker runs group A, is handed group B, and dies on B's first test."""
    gw0 = _Node("gw0")
    sched = _scheduler(cls, COLLECTION, [gw0])
    for nodeid in COLLECTION[:4]:
        _complete(sched, gw0, nodeid)
    crashitem = sched.remove_node(gw0)
    gw1 = _Node("gw1")
    sched.add_node(gw1)
    sched.add_node_collection(gw1, COLLECTION)
    sched.schedule()
    return crashitem, [COLLECTION[i] for i in gw1.sent]


def test_xdist_hands_the_replacement_a_finished_group():
    """Documents the xdist behaviour GroupScheduling replaces: the replacement is sent nothing."""
    from xdist.scheduler import LoadGroupScheduling

    crashitem, sent = _dies_after_its_first_group(LoadGroupScheduling)
    assert crashitem == "p.py::tB0@B"
    assert sent == []  # group A, all done: the replacement never reports back


def test_replacement_runs_what_the_dead_worker_left_but_not_the_crash():
    from conformance.engine.plugin.scheduling import GroupScheduling

    crashitem, sent = _dies_after_its_first_group(GroupScheduling)
    assert crashitem == "p.py::tB0@B"
    assert sent == ["p.py::tB1@B", "p.py::tB2@B"]


def test_the_rest_goes_to_whichever_worker_asks_first():
    """The surviving worker, once short of work, takes the dead one's group, less the crash."""
    from conformance.engine.plugin.scheduling import GroupScheduling

    collection = [f"p.py::t{g}{i}@{g}" for g, n in (("A", 6), ("B", 3), ("C", 2)) for i in range(n)]
    gw0, gw1 = _Node("gw0"), _Node("gw1")
    sched = _scheduler(GroupScheduling, collection, [gw0, gw1])  # gw0: A, gw1: B, C queued
    assert sched.remove_node(gw1) == "p.py::tB0@B"
    for nodeid in collection[:4]:
        _complete(sched, gw0, nodeid)  # gw0 down to 2 pending: asks for more
    gw2 = _Node("gw2")
    sched.add_node(gw2)
    sched.add_node_collection(gw2, collection)
    sched.schedule()
    assert [collection[i] for i in gw0.sent] == collection[:6] + ["p.py::tB1@B", "p.py::tB2@B"]
    assert [collection[i] for i in gw2.sent] == ["p.py::tC0@C", "p.py::tC1@C"]


# --------------------------------------------------------------------------- the longest groups start first


class _Item:
    """Stands in for a collected pytest item: hashable, with the property's function."""

    def __init__(self, prop):
        self.name = prop.id
        self.function = lambda: None
        self.function.conformance_property = prop


def test_longest_groups_are_queued_first_each_keeping_its_order():
    from conformance.engine import durations, registry
    from conformance.engine.plugin.selection import _longest_groups_first

    catalogue = registry.discover()
    seconds = durations.recorded(registry.properties_dir())
    by_document: dict[str, list] = {}
    for prop in catalogue.values():
        by_document.setdefault(prop.document, []).append(prop)
    items, groups = [], {}
    for document, props in by_document.items():
        for prop in props:
            item = _Item(prop)
            items.append(item)
            groups[item] = document
    before = [i.name for i in items]
    _longest_groups_first(items, groups)
    cost = {d: sum(durations.estimate(p.id, seconds) for p in ps) for d, ps in by_document.items()}
    order = list(dict.fromkeys(groups[i] for i in items))
    assert order == sorted(cost, key=lambda d: -cost[d]), f"groups queued {order}, their seconds {cost}"
    for document in by_document:
        mine = [i.name for i in items if groups[i] == document]
        assert mine == [n for n in before if n in mine], f"group {document} lost its order"


def test_recorded_durations_name_catalogue_properties():
    from conformance.engine import durations, registry

    seconds = durations.recorded(registry.properties_dir())
    unknown = sorted(set(seconds) - set(registry.discover()))
    assert seconds and not unknown, f"properties/durations.toml names no property or unknown ones: {unknown[:5]}"
