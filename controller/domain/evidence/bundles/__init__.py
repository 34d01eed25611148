"""Evidence bundles: one ward's signed evidence for one period, checkable offline.

``format`` (the shape, canonical bytes, digest) and ``verify`` (the offline checker)
import only the standard library, ``cryptography`` and ``wardcast_protocol.signing``
(and PyNaCl, for speed, when it is installed),
so an evaluator runs them without the controller, its database or its web stack.
``build`` reads the controller's database and is the only part that needs it.

This module imports nothing on purpose: ``python -m controller.domain.evidence.bundles.verify`` must
not pull the database layer in through the package.
"""
