"""Accounts (tài khoản): users, their roles and scope, passwords and API tokens.

- :mod:`.passwords` — argon2id hashes and the password rules;
- :mod:`.tokens` — random bearer secrets, stored as their sha256; issue, list, revoke;
- :mod:`.users` — creating and changing accounts, and the :class:`Actor` a user acts as
  (their roles, and the wards their assigned wards, districts and provinces cover);
- :mod:`.service` — :class:`AccountService`: signing in and finding who holds a token,
  the part every request goes through (the API's bearer tokens today, the console's
  cookie sessions tomorrow: both are tokens issued by ``login``).
"""
