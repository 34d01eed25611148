"""Prometheus metrics for the controller (``GET /metrics``; docs/operations.md).

``registry``: what is counted as it happens (HTTP, MQTT in and out, evidence, rejections,
the scheduler); ``fleet``: what is read from the database at scrape time (devices online,
acknowledgements pending); ``scheduler``: the APScheduler listener; ``exporter``: one
text page from both.
"""
