"""Runs of sequence numbers: a chain's gaps and declarations, without listing every number.

Standard library only: part of the offline verifier. Apart from ``checks`` because this
is plain arithmetic on inclusive runs ``(first, last)``, with no notion of a row or a
fault; it is why a forged chain head of seq 10**12, or a declared gap of 10**15
numbers, costs the verifier nothing. ``report`` prints runs with it too.
"""

from __future__ import annotations

from collections.abc import Iterable

Run = tuple[int, int]
"""An inclusive run of sequence numbers."""


def runs(seqs: Iterable[int]) -> list[Run]:
    """Numbers as sorted inclusive runs: 3,4,5,9 -> (3, 5), (9, 9)."""
    out: list[Run] = []
    for seq in sorted(seqs):
        if out and seq == out[-1][1] + 1:
            out[-1] = (out[-1][0], seq)
        elif not out or seq != out[-1][1]:
            out.append((seq, seq))
    return out


def merge(given: Iterable[Run]) -> list[Run]:
    """Runs sorted, overlapping or touching ones joined, empty ones (from > to) dropped."""
    out: list[Run] = []
    for first, last in sorted(r for r in given if r[0] <= r[1]):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def gaps(low: int, high: int, present: list[int]) -> list[Run]:
    """The runs of [low, high] not in ``present`` (sorted), without listing every number."""
    out: list[Run] = []
    cursor = low
    for seq in present:
        if seq > high:
            break
        if seq > cursor:
            out.append((cursor, seq - 1))
        cursor = max(cursor, seq + 1)
    if cursor <= high:
        out.append((cursor, high))
    return out


def intersect(a: list[Run], b: list[Run]) -> list[Run]:
    """The numbers in both (each argument merged)."""
    out: list[Run] = []
    i = j = 0
    while i < len(a) and j < len(b):
        first, last = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if first <= last:
            out.append((first, last))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: list[Run], b: list[Run]) -> list[Run]:
    """The numbers of ``a`` not in ``b`` (each argument merged)."""
    out: list[Run] = []
    for first, last in a:
        cursor = first
        for x, y in intersect([(first, last)], b):
            if x > cursor:
                out.append((cursor, x - 1))
            cursor = y + 1
        if cursor <= last:
            out.append((cursor, last))
    return out
