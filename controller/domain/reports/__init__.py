"""Evidence reports (báo cáo): planned against played, per ward, group or device and period.

The modules, in the order a report passes through them:

* asked: ``periods`` reads the period an evaluator names, ``scope`` the ward (and
  group), device, district or province;
* summed: ``rollups`` (a package) keeps per-day sums of planned plays and their
  evidence so a year reads fast; ``queries`` gathers a scope's figures from them;
  ``sqlfn`` spells what SQLite and PostgreSQL spell differently;
* built: ``figures`` and ``breakdowns`` arrange the figures into the report's parts,
  ``targets`` has ``compliance`` judge the ward's own targets, ``service`` puts
  together the :class:`~controller.domain.reports.model.Report` (shapes in ``model``)
  and the list of missed plays;
* written: ``exports`` as CSV (its sections in ``csv_sections``) or JSON, ``pdf`` as
  PDF (drawn with ``pdf_layout``, its tables in ``pdf_tables``); ``cells`` and
  ``labels`` make both say a figure and a word the same way.
"""
