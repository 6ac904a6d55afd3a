"""``--isolate-calls``: the implementation runs in a process of its own, and the judge receives arrays.

The judging process never imports the implementation. A :class:`CallsProcess`
(``python -m conformance.engine.calls_server TARGET``) imports it, and each
call of a forward function (:data:`FORWARD_EXPORTS`) sends the arguments there
and receives the result as data (:mod:`conformance.engine.wire`). Whatever the
implementation's code does to its own process (rebinding the suite's helpers,
patching NumPy, registering pytest hooks, faking its verdicts) cannot reach the
oracles, the assertions or the report.

What it covers: the properties that need only forward functions (those of
documents 01, 02, 03 and 05; ``conformance list --json`` gives each property's
``needs``). Module exports (``SharedDense``, ``VmappedDense``,
``TransformerBlock``..., ``MultiParam``) are classes that the properties drive
through Flax's own transformations (``init``/``apply`` under ``jax.jit``,
``eval_shape``, ``grad``, nnx's split and merge); they would have to be
imported into the judge, so their properties report ``not_provided`` and say
why.

Faults keep their verdicts: an exception is ``error`` with its type and
message; a process that dies (exits, segfaults) is ``crashed`` and the next call
starts a fresh one; past ``--timeout`` the process is killed.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from conformance.engine import wire
from conformance.engine.calls_server import FORWARD_EXPORTS
from conformance.engine.contract import BY_NAME
from conformance.engine.loading import Implementation, LoadError
from conformance.engine.outcomes import ImplementationDied, OutOfMemory

__all__ = ["FORWARD_EXPORTS", "CalledImplementation", "CallsProcess", "describe_elsewhere", "isolate"]

_SERVER = "conformance.engine.calls_server"
WITHHELD = "a module export; --isolate-calls calls only forward functions, in the implementation's own process"


def _start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", _SERVER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def describe_elsewhere(targets: list[str]) -> list[dict[str, Any]]:
    """Each target described by a separate process that imports it (its load error, if it does not import)."""
    proc = _start("--describe", *targets)
    try:
        header, _ = wire.receive(proc.stdout)
    except wire.WireError as exc:
        code = proc.wait()
        raise LoadError(f"{', '.join(targets)}: the process that imports it ended ({_exit(code)}): {exc}") from None
    finally:
        proc.stdin.close()
        proc.wait()
    described = header.get("described")
    if not isinstance(described, list) or len(described) != len(targets):
        raise LoadError(f"{', '.join(targets)}: the process that imports it answered nonsense")
    return described


def _exit(code: int | None) -> str:
    if code is None:
        return "still running"
    return f"signal {-code}" if code < 0 else f"exit code {code}"


class CallsProcess:
    """The implementation's process, started on first use and again after it dies."""

    def __init__(self, target: str, max_memory_mib: float | None = None):
        self.target = target
        self.max_memory_mib = max_memory_mib
        self.proc: subprocess.Popen[bytes] | None = None
        self.hello: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        args = [self.target] + (["--max-memory", f"{self.max_memory_mib:g}"] if self.max_memory_mib else [])
        self.proc = _start(*args)
        try:
            self.hello, _ = wire.receive(self.proc.stdout)
        except wire.WireError:
            code = self.stop()
            raise LoadError(f"{self.target}: its process ended while importing it ({_exit(code)})") from None
        if "load_error" in self.hello:
            self.stop()
            raise LoadError(self.hello["load_error"])
        return self.hello

    def stop(self) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        return proc.wait()

    def call(self, export: str, args: tuple[Any, ...]) -> Any:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        arrays, specs = [], []
        for arg in args:
            if isinstance(arg, np.ndarray):
                specs.append({"array": len(arrays)})
                arrays.append(arg)
            else:
                specs.append({"value": arg.item() if isinstance(arg, np.generic) else arg})
        try:
            wire.send(self.proc.stdin, {"op": "call", "export": export, "args": specs}, arrays)
            answer, values = wire.receive(self.proc.stdout)
        except (wire.WireError, BrokenPipeError):
            raise ImplementationDied(f"{export}: the implementation's process died ({_exit(self.stop())})") from None
        except BaseException:  # a timeout or an interrupt mid-call: the process is in an unknown state
            self.stop()
            raise
        if not answer.get("ok"):
            if answer.get("memory"):
                self.stop()
                raise OutOfMemory(f"{export} ran out of memory in the implementation's process ({answer.get('type')})")
            raise type(str(answer.get("type", "Exception")), (Exception,), {})(answer.get("message", ""))
        return _rebuilt(answer, values)


def _rebuilt(answer: dict[str, Any], values: list[np.ndarray]) -> Any:
    """The returned value as the properties would have seen it in process: an array, a list, or a stand-in."""
    kind = answer.get("kind")
    if kind == "array" and len(values) == 1:
        return values[0]
    if kind in ("list", "tuple") and len(values) == 1:
        return list(values[0].tolist()) if kind == "list" else tuple(values[0].tolist())
    stand_in = type(str(answer.get("type", "object")), (), {"__repr__": lambda self: str(answer.get("repr", ""))})
    return stand_in()


@dataclass
class CalledImplementation(Implementation):
    """An implementation whose forward functions are called in its own process; its module is never imported."""

    process: CallsProcess | None = None
    withheld: tuple[str, ...] = field(default_factory=tuple)  # exports it has that are not called out of process

    def why_missing(self, export: str) -> str:
        return f"{export} ({WITHHELD})" if export in self.withheld else export


def _forward(process: CallsProcess, export: str) -> Any:
    def call(*args: Any) -> Any:
        return process.call(export, args)

    call.__name__ = call.__qualname__ = export
    return call


def isolate(target: str, max_memory_mib: float | None = None) -> CalledImplementation:
    """``target`` behind a :class:`CallsProcess`: its forward functions as callables that return arrays."""
    process = CallsProcess(target, max_memory_mib)
    hello = process.start()
    provides = [n for n in hello["provides"] if n in BY_NAME]
    forward = {n: _forward(process, n) for n in provides if n in FORWARD_EXPORTS}
    return CalledImplementation(
        target=hello["target"],
        name=hello["name"],
        module=SimpleNamespace(**forward),
        path=hello["path"],
        config_changes={k: tuple(v) for k, v in hello["config_changes"].items()},
        process=process,
        withheld=tuple(n for n in provides if n not in FORWARD_EXPORTS),
    )
