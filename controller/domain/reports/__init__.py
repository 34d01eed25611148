"""Evidence reports (báo cáo): planned against played, per ward, group or device and period.

The modules, in the order a report passes through them:

* asked: ``periods`` reads the period an evaluator names, ``scope`` the ward (and
  group), device, district or province;
* summed: ``rollups`` (a package) keeps per-day sums of planned plays and their
  evidence so a year reads fast; ``queries`` gathers a scope's figures from them;
  ``sqlfn`` spells what SQLite and PostgreSQL spell differently;
* built: ``figures`` and ``breakdowns`` arrange the figures into the report's parts,
  ``targets`` has ``compliance`` judge the ward's own targets (from the day its
  programme applied), ``service`` puts together the
  :class:`~controller.domain.reports.model.Report` (shapes in ``model``) and the list
  of missed plays;
* written: ``tables`` lays the report out as tables, which ``exports`` writes as CSV
  files (one table each, or all in a ZIP) and ``xlsx`` as a workbook (a sheet each);
  ``exports`` also writes JSON; ``pdf`` writes a PDF to sign (drawn with
  ``pdf_layout``, its tables in ``pdf_tables``, its chart in ``pdf_chart``); ``cells``
  (numbers, dates), ``labels`` (words) and ``texts`` (sentences) make every format
  say a figure the same way, in Vietnamese or English.
"""
