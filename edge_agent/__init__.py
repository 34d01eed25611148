"""Wardcast edge agent: keeps a plan, fetches and verifies audio, plays on time, confirms."""

from importlib.metadata import PackageNotFoundError, version

try:
    AGENT_VERSION = version("wardcast")
except PackageNotFoundError:  # running from a source tree that was never installed
    AGENT_VERSION = "0.0.0+source"
