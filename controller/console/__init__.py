"""The console (bảng điều khiển): Wardcast's web pages at ``/``, Jinja2 + htmx.

The contract for adding a page is at the top of ``docs/console.md``. The parts:

- :mod:`.install` — mounts everything on the app (called once by ``controller/api/app.py``);
- :mod:`.deps` — the page dependencies (who is signed in, which role) and checked forms;
- :mod:`.page` — ``Page``: render, redirect, translations, times, CSRF token;
- :mod:`.security` — cookies, CSRF tokens, sign-in rate limits, kept form values;
- :mod:`.errors` — refusals shown as pages (sign-in, 403, CSRF), never JSON or tracebacks;
- :mod:`.i18n`, :mod:`.timefmt` — words from ``locales/`` and times in the ward's zone;
- :mod:`.nav` — the menu; :mod:`.pages` — one module per page;
- :mod:`.api_docs` — Swagger UI and ReDoc served from ``static/vendor/`` (no CDN).
"""
