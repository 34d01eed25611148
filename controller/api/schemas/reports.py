"""Report schemas: the report and the missed-plays list as the API answers them.

The report is built by the domain (``controller.domain.reports.model``) because the CSV
and PDF exports are made of the same data; the API's classes here add nothing to it
but their place and name, so the JSON answer and the exports can never drift apart.
Their parts (``ScopeOut``, ``PlaysOut``, …) keep the domain's names.
"""

from __future__ import annotations

from controller.domain.reports.model import MissedList, Report


class ReportPublic(Report):
    """Planned against played for one scope and period, with the ward's targets judged."""


class MissedListPublic(MissedList):
    """Planned plays of a ward not confirmed by their deadline, oldest first."""
