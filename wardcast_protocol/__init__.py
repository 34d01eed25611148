"""Wardcast protocol: the one contract between the controller and the edge agents.

Topic names, message schemas, the protocol version and signing live here and only
here. The controller and the edge agent both import this package; neither writes a
topic string of its own.
"""

from wardcast_protocol.version import PROTOCOL_VERSION

__all__ = ["PROTOCOL_VERSION"]
