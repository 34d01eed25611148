"""Protocol version: part of every topic and every envelope.

Bump it for a change that a peer of the previous version could not read. Message
models refuse unknown fields (a forged or garbled field must not pass silently), so
even a new optional field must reach the receivers before any sender uses it.
"""

PROTOCOL_VERSION = 1
