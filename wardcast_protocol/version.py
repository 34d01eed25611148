"""Protocol version: part of every topic and every envelope.

Bump it only for a change that an agent of the previous version could not read;
adding an optional field is not such a change.
"""

PROTOCOL_VERSION = 1
