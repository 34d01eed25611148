"""Read a bundle file front to back, a row at a time, hashing its canonical form as it goes.

Standard library only: part of the offline verifier. A ward-year bundle is ~75 MB of
JSON; parsed whole it costs some 300 MB of Python objects. Read this way, memory holds
one buffer of text (a megabyte) and the rows in flight, whatever the file's size.

The reader knows the bundle's shape (docs/evidence.md, section 4): an object whose
``devices`` is a list of objects whose ``rows`` is a list. Every other value is small
and parsed whole. Anything else — a syntax error, a truncated file, a key given twice
(JSON parsers disagree on which one wins), a device whose id or key comes after its
rows — raises ``NotStreamable``: the caller then reads the file whole, which words the
refusal exactly or verifies the odd file all the same. Streaming is a way of reading,
never a looser check.

The digest is sha256 over the canonical form (``format.CANONICAL``): keys sorted, so
the parts of an object that sort before its big list must be known before the list
is hashed. ``dump_bundle`` writes them in that order; a file written otherwise (older
archives) is hashed by a second pass (``digest_pass``) that knows the whole header.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from controller.domain.evidence.bundles.format import CANONICAL, UNSIGNED_KEYS

CHUNK = 1 << 20  # bytes read at a time
BATCH = 256  # rows handed on at a time

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class NotStreamable(Exception):
    """The file strays from the shape streaming relies on: read it whole instead."""


class Rows(Protocol):
    """Where the rows go, device by device, as they are read."""

    def begin(self, index: int, entry: dict[str, Any]) -> None:
        """Device ``index`` starts its rows; ``entry`` holds the keys read so far."""

    def rows(self, batch: list[Any]) -> None:
        """The next rows of the current device, in file order."""

    def end(self, index: int, entry: dict[str, Any], rows: int | None) -> None:
        """Device ``index`` is read whole (``rows``: how many, None if it had no list)."""


@dataclass
class Streamed:
    """What a pass over the file found besides the rows."""

    header: dict[str, Any] = field(default_factory=dict)  # every top-level key but devices
    devices: bool = False  # a device list was read
    digest: str | None = None  # None: the file's key order needs ``digest_pass``


class _Text:
    """The file's text, decoded as it is read and dropped once parsed."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf, self.pos, self.eof = "", 0, False

    def _more(self, size: int) -> bool:
        if self.eof:
            return False
        data = self._fh.read(size)
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise NotStreamable from None
        self.eof = not data
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ('' at the end), not consumed."""
        while True:
            match = _WS.match(self.buf, self.pos)
            assert match is not None  # the pattern matches the empty string
            self.pos = match.end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more(CHUNK):
                return ""

    def take(self, char: str) -> None:
        """Consume ``char``, which must come next."""
        if self.peek() != char:
            raise NotStreamable
        self.pos += 1

    def value(self) -> Any:
        """Parse the next whole JSON value."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                end = -1
            except (ValueError, RecursionError):  # a 5,000-digit number, a deep nest
                raise NotStreamable from None
            # A number cut by the buffer's end would parse short: only the end is sure.
            if end >= 0 and (end < len(self.buf) or self.eof):
                self.pos = end
                return value
            if not self._more(max(CHUNK, len(self.buf) - self.pos)):
                raise NotStreamable  # truncated or not JSON: the whole-file read says which

    def members(self) -> Iterator[str]:
        """The keys of the object that comes next; the caller reads each value."""
        self.take("{")
        if self.peek() == "}":
            self.pos += 1
            return
        seen: set[str] = set()
        while True:
            if self.peek() != '"':
                raise NotStreamable
            key = self.value()
            if key in seen:
                raise NotStreamable  # which one counts is a matter of parser: refuse to guess
            seen.add(key)
            self.take(":")
            yield key
            if self._close("}"):
                return

    def elements(self) -> Iterator[None]:
        """Once per element of the list that comes next; the caller reads each one."""
        self.take("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield None
            if self._close("]"):
                return

    def _close(self, closer: str) -> bool:
        char = self.peek()
        if char not in (",", closer):
            raise NotStreamable
        self.pos += 1
        return char == closer


def _encode(value: Any) -> str:
    return CANONICAL.encode(value)


def _members(obj: dict[str, Any], keys: list[str]) -> str:
    return ",".join(f"{_encode(k)}:{_encode(obj[k])}" for k in keys)


class _Canonical:
    """sha256 of the canonical form, fed one object at a time around its big list."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._first: list[bool] = []
        self._before: list[set[str]] = []
        self.late = False  # a key that sorts before a list came after it

    def _put(self, text: str) -> None:
        self._sha.update(text.encode("utf-8"))

    def open(self, obj: dict[str, Any], key: str) -> None:
        """``obj``'s members that sort before ``key``, then the list's opening."""
        if self._first and not self._first[-1]:
            self._put(",")
        if self._first:
            self._first[-1] = False
        before = sorted(k for k in obj if k < key)
        self._put("{" + _members(obj, before) + ("," if before else "") + _encode(key) + ":[")
        self._first.append(True)
        self._before.append(set(before))

    def items(self, batch: list[Any]) -> None:
        """More elements of the open list."""
        if batch:
            self._put(("" if self._first[-1] else ",") + _encode(batch)[1:-1])
            self._first[-1] = False

    def close(self, obj: dict[str, Any], key: str) -> None:
        """The list's end, then ``obj``'s members that sort after ``key``."""
        self._first.pop()
        before = self._before.pop()
        self.late |= any(k < key and k not in before for k in obj)
        after = sorted(k for k in obj if k > key)
        self._put("]" + ("," if after else "") + _members(obj, after) + "}")

    def hexdigest(self) -> str:
        """The digest, once every part is in."""
        return self._sha.hexdigest()


def _signed(header: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in header.items() if k not in UNSIGNED_KEYS}


def read_bundle(fh: BinaryIO, sink: Rows) -> Streamed:
    """One pass: the header, each device's rows into ``sink``, the digest if it can."""
    text, found, canonical = _Text(fh), Streamed(), _Canonical()
    if text.peek() != "{":
        raise NotStreamable
    for key in text.members():
        if key == "devices" and text.peek() == "[":
            found.devices = True
            canonical.open(_signed(found.header), "devices")
            for index, _ in enumerate(text.elements()):
                _device(text, index, sink, canonical)
        else:
            found.header[key] = text.value()
    if text.peek() != "":
        raise NotStreamable  # data after the bundle
    if found.devices:
        canonical.close(_signed(found.header), "devices")
        found.digest = None if canonical.late else canonical.hexdigest()
    return found


def _device(text: _Text, index: int, sink: Rows, canonical: _Canonical) -> None:
    """One device entry: its keys, its rows streamed into ``sink`` a batch at a time."""
    if text.peek() != "{":
        raise NotStreamable
    entry: dict[str, Any] = {}
    count: int | None = None
    for key in text.members():
        if key != "rows" or text.peek() != "[":
            entry[key] = text.value()
            continue
        sink.begin(index, entry)
        canonical.open(entry, "rows")
        count, batch = 0, []
        for _ in text.elements():
            batch.append(text.value())
            if len(batch) == BATCH:
                sink.rows(batch)
                canonical.items(batch)
                count, batch = count + len(batch), []
        sink.rows(batch)
        canonical.items(batch)
        count += len(batch)
    if count is None:
        raise NotStreamable  # no row list: the skeleton is broken, the whole read says how
    canonical.close(entry, "rows")
    sink.end(index, entry, count)


def digest_pass(fh: BinaryIO, header: dict[str, Any]) -> str:
    """The digest of a file whose keys come in another order: a second pass, a device
    at a time, knowing the whole header from the first."""
    text, canonical = _Text(fh), _Canonical()
    for key in text.members():
        if key != "devices":
            text.value()
            continue
        canonical.open(_signed(header), "devices")
        for _ in text.elements():
            canonical.items([text.value()])
        canonical.close(_signed(header), "devices")
    return canonical.hexdigest()
