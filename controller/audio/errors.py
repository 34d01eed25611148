"""Errors of the audio pipeline that callers may show to a communications officer."""

from __future__ import annotations


class AudioRejected(ValueError):
    """The audio cannot be used; ``str(exc)`` says why in words an officer understands."""


class AudioProcessingFailed(AudioRejected):
    """The input may be fine but the controller could not process it (ffmpeg missing or failing).

    A subclass of ``AudioRejected`` so one ``except`` covers both, while logs and metrics can
    still tell a bad upload from a broken installation.
    """
