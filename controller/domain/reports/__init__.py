"""Evidence reports (báo cáo): planned against played, per ward, group or device and period.

``periods`` reads the period an evaluator asks for and ``scope`` the ward, group,
device, district or province; ``rollups`` (a package) keeps per-day sums of planned
plays and their evidence so a year reads fast; ``queries`` gathers a scope's figures
from them (``sqlfn`` spells what SQLite and PostgreSQL spell differently);
``figures`` and ``breakdowns`` arrange them into the report's parts; ``targets`` has
``compliance`` judge the ward's own targets; ``service`` builds the
:class:`~controller.domain.reports.model.Report` and the list of missed plays;
``exports`` writes it as CSV (its sections in ``csv_sections``), PDF (``pdf``) or
JSON, with cells written alike by ``cells`` and words from ``labels``.
"""
