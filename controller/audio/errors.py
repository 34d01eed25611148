"""Errors of the audio pipeline that callers may show to a communications officer."""

from __future__ import annotations

Param = str | int | float


class AudioRejected(ValueError):
    """The audio cannot be used; ``str(exc)`` says why in words an officer understands.

    ``code`` and ``params`` (see ``controller.domain.errors``) let the console say it in
    the officer's language; the domain passes them on with its ``InvalidInput``.
    """

    def __init__(
        self, message: str, *, code: str | None = None, params: dict[str, Param] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.params: dict[str, Param] = dict(params or {})


class AudioProcessingFailed(AudioRejected):
    """The input may be fine but the controller could not process it (ffmpeg missing or failing).

    A subclass of ``AudioRejected`` so one ``except`` covers both, while logs and metrics can
    still tell a bad upload from a broken installation.
    """
