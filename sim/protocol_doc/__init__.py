"""The examples and tables of docs/protocol.md, built from wardcast_protocol itself.

``scripts/protocol_examples.py`` is the command that prints, writes or checks them; the
code lives here, in a package, so that the command stays thin and the pieces import one
another the ordinary way (scripts/ is not a package). It belongs to the demo package
because the examples are the demo's: fixed demo keys, a demo device, a demo morning.

- ``demo_messages``: the demo keys, device and morning, and the plan items and plays
  the examples are made of.
- ``sealed_examples``: those messages sealed into real envelopes, the events chained.
- ``sections``: the generated sections of the document (tables, then examples).
"""
