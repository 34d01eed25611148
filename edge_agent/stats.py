"""The agent's counters, apart so that the agent's collaborators (``recorder``,
``commands``) count into one ``AgentStats`` without importing the agent."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class AgentStats:
    """Counters for tests, benchmarks and the log."""

    plays_started: int = 0
    events_recorded: int = 0
    events_acked: int = 0
    duplicates_ignored: int = 0
    expired_ignored: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # by reason, in the security log
