"""Who may connect to the web UI: the listening address and the login it requires.

The server listens on 127.0.0.1 unless told otherwise; any other address needs
`--host` and then a login (`--auth user:password` or RAG_AUTH), or `--no-auth`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from rag.config import ENV_AUTH, auth_from_env
from rag.errors import SettingError

DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Access:
    """Where the server listens and the login it requires (None: no login)."""

    host: str
    auth: tuple[str, str] | None = None

    @property
    def local_only(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def parse_auth(value: str, source: str) -> tuple[str, str]:
    """'user:password' -> ('user', 'password'); the password may contain ':'."""
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise SettingError(f"{source} skal have formen bruger:adgangskode (fx --auth anna:hemmelig).")
    return user.strip(), password


def resolve_access(host: str | None = None, auth: str | None = None, no_auth: bool = False,
                   env: Mapping[str, str] | None = None) -> Access:
    """Decide the listening address and login from the command line and environment.

    127.0.0.1 unless `host` says otherwise (GRADIO_SERVER_NAME is ignored on purpose:
    opening the server to the network takes an explicit `--host`). Any address other
    machines can reach requires a login from `auth` or RAG_AUTH, unless `no_auth`.
    """
    host = (host or DEFAULT_HOST).strip()
    if not host:
        raise SettingError("--host må ikke være tom.")
    if auth is not None and no_auth:
        raise SettingError("--auth og --no-auth kan ikke bruges samtidig.")
    credentials = None
    if auth is not None:
        credentials = parse_auth(auth, "--auth")
    elif not no_auth and (from_env := auth_from_env(env)):
        credentials = parse_auth(from_env, ENV_AUTH)
    if credentials is None and not no_auth and not is_loopback(host):
        raise SettingError(
            f"Adressen {host} kan nås fra andre maskiner, så der kræves login: brug "
            f"--auth bruger:adgangskode eller {ENV_AUTH}=bruger:adgangskode "
            f"(eller --no-auth, hvis alle på netværket med vilje må bruge den uden login).")
    return Access(host=host, auth=credentials)
