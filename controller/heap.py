"""The controller's start-up heap, kept out of the garbage collector's full passes.

A full collection walks every tracked object, and a started controller holds a few
hundred thousand that live as long as the process (modules, mappers, routes, settings,
caches): measured in ``bench.fanout``, a full pass stopped the controller for 120-310
ms, often between a "now" request and its command, at 1,000 devices. Frozen
(``gc.freeze``), they are never walked again; a full pass then costs what was made
since (3-15 ms there). What is frozen is never freed, so this runs once, after the
start, in the process that serves (never per runtime: a test process starts hundreds).
"""

from __future__ import annotations

import gc


def freeze_start_up_heap() -> None:
    """Collect what start-up left over, then exempt all that is alive from full passes."""
    gc.collect()
    gc.freeze()
