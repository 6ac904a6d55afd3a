"""The process an implementation runs in when the judge must not import it.

``python -m conformance.engine.calls_server TARGET [--max-memory MIB]`` imports
TARGET, says what it provides, then answers calls of its forward functions
(``--isolate-calls``, :mod:`conformance.engine.isolated_calls`) until its input
closes. ``python -m conformance.engine.calls_server --describe TARGET...``
imports each target and describes it (name, path, exports, JAX configuration
changes), or gives its one-line load error: how a controlling process learns
about implementations it never imports.

Whatever the implementation prints goes to stderr; the protocol has the
original stdout to itself (:mod:`conformance.engine.wire`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import IO, Any

from conformance.engine import wire
from conformance.engine.loading import LoadError, load_implementation
from conformance.engine.memory import is_out_of_memory, limit_memory

# The contract's forward functions: arrays and numbers in, one array out. Only these are called out of
# process; a module export (a Linen or nnx class) is used through Flax's transformations, in the judge.
FORWARD_EXPORTS = ("shared_dense_forward", "nn_vmap_forward", "shared_params_two_modules", "multi_param_forward")


def describe(target: str) -> dict[str, Any]:
    try:
        impl = load_implementation(target)
    except LoadError as exc:
        return {"target": target, "load_error": str(exc)}
    return {
        "target": impl.target,
        "name": impl.name,
        "path": impl.path,
        "provides": impl.provided(),
        "config_changes": {k: list(v) for k, v in impl.config_changes.items()},
    }


def _end_with_parent() -> None:
    """Exit when the judging process is gone, even while the implementation hangs."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _result(value: Any) -> tuple[dict[str, Any], list[Any]]:
    """How a returned value travels: an array as data; anything else as its type (and data, where it has some)."""
    import jax
    import numpy as np

    if isinstance(value, (np.ndarray, jax.Array)):
        return {"kind": "array"}, [np.asarray(value)]
    if isinstance(value, (list, tuple)):
        try:
            return {"kind": type(value).__name__}, [np.asarray(value, dtype=float)]
        except (TypeError, ValueError):
            pass
    return {"kind": "other", "type": type(value).__name__, "repr": repr(value)[:200]}, []


def _serve(impl: Any, inbox: IO[bytes], outbox: IO[bytes]) -> None:
    while True:
        try:
            header, arrays = wire.receive(inbox)
        except wire.WireError:
            return  # the judge closed the pipe
        if header.get("op") != "call" or header.get("export") not in FORWARD_EXPORTS:
            return
        args = [arrays[a["array"]] if "array" in a else a["value"] for a in header.get("args", [])]
        try:
            value = getattr(impl.module, header["export"])(*args)
            answer, payload = _result(value)
            wire.send(outbox, {"ok": True, **answer}, payload)
        except Exception as exc:
            message = " ".join(str(exc).split())[:2000]
            wire.send(
                outbox, {"ok": False, "type": type(exc).__name__, "message": message, "memory": is_out_of_memory(exc)}
            )


def main(argv: list[str]) -> int:
    outbox = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the implementation's prints go to stderr
    sys.stdout = sys.stderr
    inbox = sys.stdin.buffer
    _end_with_parent()
    if argv[:1] == ["--describe"]:
        wire.send(outbox, {"described": [describe(t) for t in argv[1:]]})
        return 0
    target, max_memory = argv[0], float(argv[argv.index("--max-memory") + 1]) if "--max-memory" in argv else 0.0
    described = describe(target)
    wire.send(outbox, described)
    if "load_error" in described:
        return 2
    limit_memory(max_memory)
    _serve(load_implementation(target), inbox, outbox)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
