"""The console's cookies, CSRF tokens, sign-in rate limits and kept form values.

- **Session**: the cookie ``wardcast_session`` carries a sign-in token issued by
  ``AccountService.login`` (the same short-lived, revocable tokens as the API's
  ``POST /api/v1/auth/token``). HttpOnly, SameSite=Lax, Secure unless
  ``WARDCAST_CONSOLE_COOKIE_SECURE=false``. Signing out revokes the token in the
  database, so a copied cookie dies with it.
- **CSRF**: every form carries ``csrf_token``; htmx requests send it as the
  ``X-CSRF-Token`` header (``base.html`` sets ``hx-headers``). Signed in, the token is an
  HMAC of the session token's id under the console key (``<data_dir>/console.key``):
  another site can neither read nor forge it. Before sign-in (the login form) it is the
  HMAC of a random nonce kept in the ``wardcast_csrf`` cookie (signed double submit).
- **Rate limit**: failed sign-ins are counted per account name and per client address
  in a sliding window; past the limit every attempt is refused with one message that
  does not say whether the account exists (it applies to unknown names too).
- **Kept values**: a form posted after its session expired is kept (minus passwords)
  for a few minutes under a random id bound to a cookie, and offered back to the same
  page after the next sign-in (``Page.kept``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

SESSION_COOKIE = "wardcast_session"
CSRF_COOKIE = "wardcast_csrf"
KEPT_COOKIE = "wardcast_kept"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Fields never kept or echoed back into a form.
SECRET_FIELDS = frozenset({"password", "current_password", "new_password", "new_password2"})


def load_or_create_key(path: Path) -> bytes:
    """The console's HMAC key, made at first start (mode 0600) and kept across restarts."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key.hex())
    return key


@dataclass(frozen=True)
class CsrfGuard:
    """Makes and checks CSRF tokens under one key."""

    key: bytes

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self.key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def for_session(self, token_id: str) -> str:
        """The token of a signed-in session (its sign-in token's id)."""
        return self._mac("session", token_id)

    def for_nonce(self, nonce: str) -> str:
        """The token of an anonymous form, bound to the ``wardcast_csrf`` cookie's nonce."""
        return self._mac("anonymous", nonce)

    @staticmethod
    def matches(expected: str, given: str | None) -> bool:
        """Constant-time comparison; a missing token never matches."""
        return bool(given) and hmac.compare_digest(expected, given or "")


def new_nonce() -> str:
    """A fresh random value for the anonymous CSRF cookie."""
    return secrets.token_urlsafe(24)


@dataclass
class SlidingWindow:
    """Counts events per key within ``window_s``; ``full`` once ``limit`` are in it."""

    limit: int
    window_s: float
    _events: dict[str, deque[float]] = field(default_factory=dict)

    def _live(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window_s:
            events.popleft()
        return events

    def full(self, key: str, now: float) -> bool:
        """Whether ``key`` has used up its attempts."""
        return len(self._live(key, now)) >= self.limit

    def add(self, key: str, now: float) -> None:
        """Count one event for ``key``."""
        self._live(key, now).append(now)
        if len(self._events) > 10_000:  # a spray of names must not grow memory forever
            self._events = {k: v for k, v in self._events.items() if self._live(k, now)}

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` has an attempt again (0 if it has one now)."""
        events = self._live(key, now)
        if len(events) < self.limit:
            return 0.0
        return max(0.0, events[0] + self.window_s - now)

    def clear(self, key: str) -> None:
        """Forget ``key`` (a successful sign-in clears its account's count)."""
        self._events.pop(key, None)


class LoginLimiter:
    """Failed sign-ins per account name and per client address.

    Before the domain's own lock (10 wrong passwords lock an account for 15 minutes),
    this refuses early and says nothing about the account: attackers spraying names
    from one address meet the address limit, many addresses on one name the account
    limit.
    """

    def __init__(
        self,
        per_account: int = 5,
        per_address: int = 20,
        window_s: float = 15 * 60,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.accounts = SlidingWindow(per_account, window_s)
        self.addresses = SlidingWindow(per_address, window_s)
        self._now = monotonic
        self._lock = threading.Lock()

    @staticmethod
    def _account(username: str) -> str:
        return username.strip().lower()[:100]

    def blocked_for(self, username: str, address: str) -> float:
        """Seconds to wait before this account or address may try again (0: may try)."""
        now = self._now()
        with self._lock:
            return max(
                self.accounts.retry_after(self._account(username), now),
                self.addresses.retry_after(address, now),
            )

    def failed(self, username: str, address: str) -> None:
        """Count a failed sign-in."""
        now = self._now()
        with self._lock:
            self.accounts.add(self._account(username), now)
            self.addresses.add(address, now)

    def succeeded(self, username: str) -> None:
        """A right password clears the account's count (not the address's)."""
        with self._lock:
            self.accounts.clear(self._account(username))


class KeptForms:
    """Form values posted after a session expired, kept a few minutes for one browser."""

    def __init__(
        self, ttl_s: float = 15 * 60, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._now = monotonic
        self._kept: dict[str, tuple[float, str, dict[str, list[str]]]] = {}
        self._lock = threading.Lock()

    def keep(self, path: str, values: Mapping[str, list[str]]) -> str:
        """Keep the values (never secrets nor the CSRF token); the id to find them by."""
        kept = {k: v for k, v in values.items() if k not in SECRET_FIELDS and k != CSRF_FIELD}
        key = secrets.token_urlsafe(18)
        now = self._now()
        with self._lock:
            self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
            if len(self._kept) < 1000:
                self._kept[key] = (now + self._ttl_s, path, kept)
        return key

    def take(self, key: str | None, path: str) -> dict[str, list[str]] | None:
        """The values kept under ``key`` for this page, once; None if none or expired."""
        if not key:
            return None
        with self._lock:
            found = self._kept.get(key)
            if found is None or found[0] <= self._now() or found[1] != path:
                return None
            del self._kept[key]
        return found[2]
