"""Messages between a judging process and the process that runs an implementation (``--isolate-calls``).

A message is a JSON header and NumPy arrays in ``.npy`` form, each behind its
length. Nothing is unpickled: what the implementation's process sends is data
the judge parses, never code it runs (``np.load(allow_pickle=False)`` refuses
object arrays). Sizes are bounded, and a truncated or malformed message is a
:class:`WireError`, never a hang or an exception from deep inside ``json``.
"""

from __future__ import annotations

import io
import json
import struct
from typing import IO, Any

import numpy as np

MAX_HEADER = 1 << 20  # bytes of JSON in one header
MAX_ARRAY = 1 << 32  # bytes of one array
MAX_ARRAYS = 16  # arrays in one message
_LENGTH = struct.Struct(">Q")


class WireError(Exception):
    """The other process closed the pipe or sent something that is not a message."""


def _encode(array: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def send(stream: IO[bytes], header: dict[str, Any], arrays: list[Any] = ()) -> None:
    body = json.dumps({**header, "arrays": len(arrays)}).encode()
    parts = [_LENGTH.pack(len(body)), body]
    for array in arrays:
        data = _encode(array)
        parts += [_LENGTH.pack(len(data)), data]
    stream.write(b"".join(parts))
    stream.flush()


def _read(stream: IO[bytes], n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise WireError("the other process closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _block(stream: IO[bytes], limit: int) -> bytes:
    (n,) = _LENGTH.unpack(_read(stream, _LENGTH.size))
    if n > limit:
        raise WireError(f"a message part of {n} bytes, more than {limit}")
    return _read(stream, n)


def receive(stream: IO[bytes]) -> tuple[dict[str, Any], list[np.ndarray]]:
    try:
        header = json.loads(_block(stream, MAX_HEADER))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"a header that is not JSON ({exc})") from None
    count = header.pop("arrays", 0) if isinstance(header, dict) else None
    if not isinstance(count, int) or not 0 <= count <= MAX_ARRAYS:
        raise WireError("a header that is not a message")
    arrays = []
    for _ in range(count):
        try:
            arrays.append(np.load(io.BytesIO(_block(stream, MAX_ARRAY)), allow_pickle=False))
        except (ValueError, OSError, EOFError) as exc:
            raise WireError(f"an array that is not .npy data ({exc})") from None
    return header, arrays
