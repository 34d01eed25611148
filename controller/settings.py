"""The controller's settings: one object per process, every field overridable by env.

Defaults run on a laptop: a SQLite file under ``data/``, an embedded mosquitto on a
free loopback port, the API on 127.0.0.1:8000. Set ``WARDCAST_<FIELD>`` to override.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Controller configuration (env prefix ``WARDCAST_``)."""

    model_config = SettingsConfigDict(env_prefix="WARDCAST_", extra="forbid")

    environment: Literal["development", "production", "test"] = Field(
        default="development", description="Production refuses unsafe defaults."
    )
    data_dir: Path = Field(
        default=Path("data"), description="Keys, media store and the default SQLite file."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/wardcast.db. "
        "PostgreSQL: postgresql+psycopg://user@host:port/db.",
    )
    broker_url: str | None = Field(
        default=None,
        description="mqtt[s]://[user:password@]host:port of an external broker (the "
        "controller's own login in the URL); unset = run the embedded, closed mosquitto.",
    )
    broker_ca_file: Path | None = Field(
        default=None,
        description="External broker only: the CA its TLS certificate is checked against "
        "(also handed to devices at enrolment). The embedded broker uses its own CA.",
    )
    broker_host: str = Field(
        default="127.0.0.1",
        description="Address the embedded broker listens on (TLS); 0.0.0.0 for devices on "
        "the network.",
    )
    broker_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port of the embedded broker; unset = 8883 if free at first start (else "
        "a free port), remembered in <data_dir>/broker/port so agents keep one address.",
    )
    broker_public_url: str | None = Field(
        default=None,
        description="The broker URL devices are given at enrolment (unless their province has "
        "its own, with the province downlink on: `wardcast broker province-url`); default "
        "mqtts://<host of the public base URL>:<broker port> (that host is also in the "
        "broker's certificate).",
    )
    broker_watchdog_interval_s: float = Field(
        default=1.0, gt=0, le=60, description="How often the embedded broker is checked."
    )
    enrolment_code_ttl_h: int = Field(
        default=7 * 24, ge=1, le=90 * 24, description="How long a device's enrolment code works."
    )
    device_offline_after_s: float = Field(
        default=180.0,
        gt=0,
        description="A device not heard from for this long is offline, whatever its last "
        "availability said (agents send their state every 60 s by default).",
    )
    http_host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    http_port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    public_base_url: str | None = Field(
        default=None,
        description="Base URL agents use to fetch media; default http://<http_host>:<http_port>.",
    )
    # Accounts (users and their tokens live in the database: `wardcast users create-admin`).
    bootstrap_admin_password: SecretStr | None = Field(
        default=None,
        description="Development only: with no account yet, create 'admin' with this password "
        "at start. Refused in production, which has no default password.",
    )
    login_token_ttl_s: int = Field(
        default=8 * 3600, ge=60, le=7 * 86400, description="How long a sign-in token works."
    )
    # The console (docs/console.md): its session cookie carries a sign-in token.
    console_cookie_secure: bool = Field(
        default=True,
        description="Mark the console's cookies Secure (sent over HTTPS only). Browsers treat "
        "http://localhost as secure, so the demo works with it on; turn it off only to reach "
        "the console over plain HTTP from another machine on a trusted network.",
    )
    media_url_ttl_s: int = Field(
        default=7 * 86400,
        ge=3600,
        description="How long a signed media URL works; keep it well past the plan horizon "
        "plus history, since agents fetch media from the URLs in their plans.",
    )
    clock_offset_warn_s: float = Field(
        default=2.0, gt=0, description="A device whose clock is further off is flagged."
    )
    controller_key_path: Path | None = Field(
        default=None,
        description="Controller's Ed25519 key file; default <data_dir>/controller.key.",
    )
    # Operations: logs and metrics (docs/operations.md).
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="auto: JSON lines unless standard error is a terminal; json; text.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="A bearer token for Prometheus to scrape GET /metrics with; unset = only "
        "an administrator's API token is accepted there.",
    )
    # Text to speech.
    tts_language: str = Field(default="vi", description="Language of spoken bulletins.")
    gtts_enabled: bool = Field(default=True, description="Try gTTS before the offline voice.")
    gtts_timeout_s: float = Field(default=8.0, gt=0, description="gTTS network timeout.")
    espeak_voice: str = Field(default="vi", description="espeak-ng voice: vi, vi-vn-x-central…")
    # Audio preparation.
    loudness_target_lufs: float = Field(default=-16.0, ge=-40, le=-5, description="EBU R128.")
    chime_default: bool = Field(default=True, description="Chime before and after bulletins.")
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, gt=0, description="Upload cap.")
    max_audio_s: float = Field(default=1800.0, gt=0, description="Longest accepted audio.")
    max_text_chars: int = Field(default=5000, gt=0, description="Longest accepted bulletin text.")
    # Broadcasting.
    command_expiry_s: int = Field(
        default=300, gt=0, description="A 'now' command older than this is not played."
    )
    plan_horizon_h: int = Field(default=48, gt=0, description="How far ahead plans reach.")
    recompile_interval_s: int = Field(
        default=600, ge=10, description="How often plans are recompiled (the horizon rolls)."
    )
    gap_request_interval_s: int = Field(
        default=60, ge=5, description="How often devices are asked again for missing events."
    )
    rollup_interval_s: int = Field(
        default=60, ge=5, description="How often report sums of days marked dirty are redone."
    )
    rollup_backfill_interval_s: int = Field(
        default=86_400,
        ge=60,
        description="How often days never summed (upgrade, import) are summed; also at start.",
    )
    max_session_minutes: int = Field(
        default=240, gt=0, description="A hard cap on any session, whatever its programme says."
    )
    # Several controllers on one PostgreSQL and one broker (docs/scale.md).
    mqtt_share_group: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Set on every replica (same name): device traffic is taken through MQTT "
        "v5 shared subscriptions ($share/<group>/...), each message by one replica only. "
        "Unset: this controller alone receives everything.",
    )
    replica_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]{1,40}$",
        description="Names this replica in its MQTT client id (default: the host name); "
        "two replicas on one host need different ones, or the broker drops one for the other.",
    )
    ingest_workers: int | None = Field(
        default=None,
        ge=0,
        le=32,
        description="Processes that verify and store device events, each device's in one "
        "(docs/scale.md, ingest): PostgreSQL only, which takes several writers at once; "
        "default 2 on PostgreSQL, 0 on SQLite (events verified and stored in this process).",
    )
    leader_poll_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="How often a replica that does not run the scheduled jobs tries to "
        "become their one runner (a PostgreSQL advisory lock), and the runner checks it "
        "still holds the lock. On SQLite the one process is the runner.",
    )
    province_downlink: bool = Field(
        default=False,
        description="A nation with a mosquitto per province bridged to this (the centre's) "
        "broker: publish everything sent to devices (plans, commands, acks, ward broadcasts) "
        "under prov/<province code>/, the province of the device's ward, so each province's "
        "bridge takes down its own devices' traffic only (docs/scale.md), and give a device "
        "of a province with its own broker that address at enrolment. A device not placed "
        "in a ward is sent to on the plain topics. Off: one broker, plain topics.",
    )
    plan_history_h: int = Field(
        default=6, ge=0, description="How long past items stay in a plan (late joiners skip them)."
    )

    @model_validator(mode="after")
    def _refuse_default_passwords_in_production(self) -> Settings:
        if self.environment == "production" and self.bootstrap_admin_password is not None:
            raise ValueError(
                "WARDCAST_BOOTSTRAP_ADMIN_PASSWORD is for development only; in production "
                "create the first administrator with `wardcast users create-admin`"
            )
        return self

    @model_validator(mode="after")
    def _media_urls_outlive_plans(self) -> Settings:
        # An agent fetches media from the URLs in the plan it holds; a plan reaches the
        # horizon ahead and keeps history behind, so its URLs must work at least that long.
        covered_s = (self.plan_horizon_h + self.plan_history_h) * 3600
        if self.media_url_ttl_s <= covered_s:
            raise ValueError(
                f"media_url_ttl_s ({self.media_url_ttl_s}) must exceed the plan horizon plus "
                f"history ({covered_s} s), or agents meet expired media links"
            )
        return self

    @model_validator(mode="after")
    def _ingest_workers_need_postgresql(self) -> Settings:
        if self.ingest_workers and not self.resolved_database_url.startswith("postgresql"):
            raise ValueError(
                "WARDCAST_INGEST_WORKERS needs PostgreSQL: SQLite has one writer, so the "
                "controller stores events in its own process there (leave it unset or 0)"
            )
        return self

    @property
    def resolved_ingest_workers(self) -> int:
        """Event ingest processes: as set, else 2 on PostgreSQL and none on SQLite."""
        if self.ingest_workers is not None:
            return self.ingest_workers
        return 2 if self.resolved_database_url.startswith("postgresql") else 0

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'wardcast.db').resolve()}"

    @property
    def resolved_public_base_url(self) -> str:
        """Base URL of the media endpoint, as agents reach it."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = "127.0.0.1" if self.http_host in ("0.0.0.0", "::") else self.http_host
        return f"http://{host}:{self.http_port}"

    @property
    def resolved_controller_key_path(self) -> Path:
        """Where the controller's signing key lives."""
        return self.controller_key_path or self.data_dir / "controller.key"

    @property
    def media_url_key_path(self) -> Path:
        """The secret that signs media URLs (created at first start, mode 0600)."""
        return self.data_dir / "media-url.key"

    @property
    def media_dir(self) -> Path:
        """The content-addressed media store."""
        return self.data_dir / "media"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
