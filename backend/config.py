"""Configuration, read once from the environment (DESIGN §7)."""

from __future__ import annotations

import math
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import idna


class ConfigError(Exception):
    """A configuration value is missing or invalid; the message names the variable."""


# DMP_SMS_BACKEND (backend/notify/senders.py): "dev" saves each text as a file under
# DMP_DATA_DIR/mail, as the development mailbox does for e-mail; any other value names a
# plug-in, either as `package.module:attribute` or as the name of an installed package's
# entry point in the group below. Its shape is checked here, the plug-in itself at start.
SMS_PLUGIN_GROUP = "dmp.sms_senders"
_SMS_PLUGIN_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_SMS_PLUGIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# What a PostgreSQL DMP_DATABASE_URL gets unless it sets its own (backend/db.py). A database
# that stops answering (frozen, or cut off by the network) must fail requests, not hang them:
# asyncpg's connect timeout and per-statement timeout, both in seconds. And a pool of 20
# connections, of which the hot statements keep up to half (sql.fetch): with Tortoise's 5,
# the pool was the limit under 16 concurrent consultations. The URL may set its own (e.g.
# `?command_timeout=120` for a long migration, `?maxsize=4`).
POSTGRES_DEFAULTS = {"timeout": "5", "command_timeout": "15", "maxsize": "20"}
# SQLite waits up to 10 s for another process's write lock (backend/sqlite_client.py), unless
# the URL sets its own wait in milliseconds (`?busy_timeout=30000`).
SQLITE_DEFAULTS = {"busy_timeout": "10000"}
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_DIGITS = re.compile(r"[0-9]+")


def _whole(low: int, high: int | None = None) -> Callable[[str], bool]:
    def check(raw: str) -> bool:
        return bool(_DIGITS.fullmatch(raw)) and low <= int(raw) and (high is None or int(raw) <= high)

    return check


def _seconds(low_inclusive: bool) -> Callable[[str], bool]:
    def check(raw: str) -> bool:
        try:
            value = float(raw)
        except ValueError:
            return False
        return math.isfinite(value) and (value >= 0 if low_inclusive else value > 0)

    return check


def _one_of(*values: str) -> Callable[[str], bool]:
    return lambda raw: raw in values


def _any(raw: str) -> bool:
    return True


# The parameters a PostgreSQL URL may carry, with what each value must be. Tortoise hands
# them to asyncpg when the first connection opens: a name asyncpg does not know, or a value
# it cannot read, failed there with a traceback (in every `dmp serve` worker, over and over).
_POSTGRES_PARAMETERS: dict[str, tuple[str, Callable[[str], bool]]] = {
    # Tortoise's pool and session.
    "maxsize": ("a whole number of connections, 1 or more", _whole(1)),
    "minsize": ("a whole number of connections, 0 or more", _whole(0)),
    "schema": ("a schema name", _any),
    "application_name": ("a name", _any),
    # asyncpg's connection.
    "host": ("a host name or a Unix socket directory", _any),
    "port": ("a port number", _whole(1, 65535)),
    "user": ("a role name", _any),
    "password": ("a password", _any),
    "passfile": ("a file name", _any),
    "timeout": ("a whole number of seconds, 1 or more", _whole(1)),
    "command_timeout": ("a number of seconds greater than 0", _seconds(low_inclusive=False)),
    "ssl": (f"one of {', '.join(SSL_MODES)}, true, false", _one_of(*SSL_MODES, "true", "false")),
    "direct_tls": ("true or false", _one_of("true", "false")),
    "target_session_attrs": (
        "one of any, primary, standby, read-write, read-only, prefer-standby",
        _one_of("any", "primary", "standby", "read-write", "read-only", "prefer-standby"),
    ),
    "krbsrvname": ("a Kerberos service name", _any),
    "gsslib": ("gssapi or sspi", _one_of("gssapi", "sspi")),
    "statement_cache_size": ("a whole number, 0 or more", _whole(0)),
    "max_cached_statement_lifetime": ("a whole number of seconds, 0 or more", _whole(0)),
    "max_cacheable_statement_size": ("a whole number of bytes, 0 or more", _whole(0)),
    # asyncpg's pool.
    "max_queries": ("a whole number, 1 or more", _whole(1)),
    "max_inactive_connection_lifetime": ("a number of seconds, 0 or more", _seconds(low_inclusive=True)),
}


def postgres_parameters(url: str) -> dict[str, list[str]]:
    """The parameters of a database URL (PostgreSQL's or SQLite's), each with its values, as
    Tortoise reads them."""
    try:
        query = urlsplit(url).query
    except ValueError:  # brackets in the password, which Tortoise quotes before parsing
        query = url.partition("?")[2].partition("#")[0]
    return parse_qs(query)


def _sqlite_url(url: str) -> None:
    """A SQLite URL's parameters as Tortoise reads them at the first connection (where a bad
    one was a traceback); the refusal names none of them, as for PostgreSQL. The busy timeout,
    which Tortoise passes to SQLite as written (SQLite read `busy_timeout=abc` or `-1` as no
    wait at all, and `10s` failed at the first connection), must be a whole number of
    milliseconds, given once."""
    _read_as_tortoise(url, (
        "DMP_DATABASE_URL: a parameter of this SQLite URL cannot be read "
        "(e.g. sqlite:///var/lib/dmp/dmp.sqlite3?journal_size_limit=16384)"
    ))
    waits = postgres_parameters(url).get("busy_timeout", [])
    if len(waits) > 1 or not all(_whole(0)(wait) for wait in waits):
        raise ConfigError(
            "DMP_DATABASE_URL: the parameter 'busy_timeout' must be a whole number of "
            "milliseconds, 0 or more, given once"
        )


def _read_as_tortoise(url: str, refusal: str) -> None:
    """The URL read as Tortoise reads it at the first connection (where a bad one printed a
    traceback); `refusal` if it cannot be."""
    from tortoise.backends.base.config_generator import expand_db_url

    try:
        expand_db_url(url)
    except Exception:  # noqa: BLE001 - Tortoise's ValueError or ConfigurationError alike
        raise ConfigError(refusal) from None


def _postgres_url(url: str) -> None:
    """Every parameter of a PostgreSQL URL known, with a value that can be used. The refusal
    names the parameter, never its value (the URL may hold a password)."""
    query = postgres_parameters(url)
    for name, values in query.items():
        if name not in _POSTGRES_PARAMETERS:
            known = ", ".join(sorted(_POSTGRES_PARAMETERS))
            raise ConfigError(f"DMP_DATABASE_URL: unknown parameter {name!r} (known: {known})")
        expected, valid = _POSTGRES_PARAMETERS[name]
        if not all(valid(value) for value in values):
            raise ConfigError(f"DMP_DATABASE_URL: the parameter {name!r} must be {expected}")
    minsize = int(query.get("minsize", ["1"])[-1])
    maxsize = int(query.get("maxsize", [POSTGRES_DEFAULTS["maxsize"]])[-1])
    if minsize > maxsize:
        raise ConfigError(f"DMP_DATABASE_URL: minsize ({minsize}) is greater than maxsize ({maxsize})")
    _read_as_tortoise(url, (  # the rest: its host and port
        "DMP_DATABASE_URL: its host or port cannot be read (a PostgreSQL URL looks like "
        "postgres://user:password@host:5432/database)"
    ))


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    public_origin: str
    env: str
    smtp_host: str | None
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None
    # DMP_SMTP_STARTTLS: True requires STARTTLS with a verified certificate, False never
    # asks for it, None (unset) uses it where the server offers it (senders.SmtpSender).
    smtp_starttls: bool | None
    mail_from: str
    sms_backend: str
    data_key: bytes
    # Earlier data keys, which only open files sealed before a rotation (`dmp rewrap-files`).
    previous_data_keys: tuple[bytes, ...]
    audit_key: bytes
    # The audit key before a rotation: read only by `dmp audit rekey` and `dmp audit verify`.
    previous_audit_key: bytes | None
    break_glass_minutes: int
    regulator_minutes: int
    session_idle_minutes: int
    session_absolute_hours: int
    # The documents of one record, all together: an export holds them in memory, several times over.
    record_storage_mb: int
    trusted_proxy_header: str | None
    # How long `dmp serve`, once told to stop (SIGTERM), waits for the requests in flight
    # before it cuts them: a client stalled in the middle of its body held the stop for ever.
    shutdown_seconds: int

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def sends_texts(self) -> bool:
        """False in production with the development SMS sender, which only saves texts."""
        return not (self.production and self.sms_backend == "dev")

    @property
    def rp_id(self) -> str:
        return urlsplit(self.public_origin).hostname or "localhost"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.public_origin).scheme == "https"

    @property
    def session_cookie(self) -> str:
        return "__Host-dmp_session" if self.secure_cookies else "dmp_session"


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: dict[str, str], name: str) -> bool | None:
    """True or false as written; None when unset or empty (the setting's own default)."""
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return None
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _sms_backend(raw: str) -> str:
    """`dev`, read without case or spaces; otherwise a plug-in's reference, as written."""
    value = raw.strip()
    if not value or value.lower() == "dev":
        return "dev"
    if not (_SMS_PLUGIN_PATH.fullmatch(value) or _SMS_PLUGIN_NAME.fullmatch(value)):
        raise ConfigError(
            "DMP_SMS_BACKEND must be dev, a plug-in as package.module:attribute, or the name of "
            f"an installed plug-in (entry point group {SMS_PLUGIN_GROUP}), got {value!r}"
        )
    return value


_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")


def _public_origin(raw: str) -> str:
    """DMP_PUBLIC_ORIGIN as a browser serializes its `Origin` header, which cookie-bearing
    POSTs must equal and WebAuthn expects: scheme and host in lower case, a host in Unicode in
    its ASCII (IDNA) form, no default port (80 for http, 443 for https), no trailing "/". As
    typed, `http://LOCALHOST:8000` or `https://dmp.example:443` never matched, and every
    signed-in change was refused. A path, query, fragment or user name is refused: the
    service answers at the origin's root, and links in messages are built on it."""
    typed = raw.strip() or "http://localhost:8000"
    refusal = ConfigError(
        f"DMP_PUBLIC_ORIGIN must be an origin like https://dmp.example (a scheme, a host and "
        f"perhaps a port; no path, query or fragment), got {typed!r}"
    )
    try:
        parts = urlsplit(typed)
        port = parts.port
    except ValueError:  # a port not a number or past 65535, a bracket left open
        raise refusal from None
    if "@" in parts.netloc:  # a user name, perhaps a password: not repeated in the message
        raise ConfigError("DMP_PUBLIC_ORIGIN must be an origin like https://dmp.example, without a user name")
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if (
        scheme not in _DEFAULT_PORTS or not host or port == 0 or parts.path not in ("", "/")
        or parts.query or parts.fragment
    ):
        raise refusal
    if ":" in host:  # an IPv6 address, as the browser writes it
        host = f"[{host}]"
    else:
        if not host.isascii():
            try:
                host = idna.encode(host, uts46=True).decode("ascii")
            except UnicodeError:
                raise refusal from None
        if not _HOST.fullmatch(host):
            raise refusal
    shown_port = "" if port is None or port == _DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{shown_port}"


def _mail_from(raw: str) -> str:
    """The From of every e-mail: one address, with or without a display name. Checked here:
    a value the mail server refuses would fail every message, retried for ever."""
    value = raw.strip()
    local, at, domain = parseaddr(value)[1].partition("@")
    if "\n" in value or "\r" in value or not (local and at and domain) or "@" in domain:
        raise ConfigError(
            f"DMP_MAIL_FROM must be an address like 'DMP <no-reply@dmp.example>', got {value!r}"
        )
    return value


def _hex_key(raw: str, label: str) -> bytes:
    """A 32-byte key written as 64 hexadecimal characters; the error names `label`."""
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        raise ConfigError(f"{label} must be 64 hexadecimal characters") from None
    if len(key) != 32:
        raise ConfigError(f"{label} must be 64 hexadecimal characters (32 bytes)")
    return key


def _key(env: dict[str, str], name: str, env_name: str, data_dir: Path) -> bytes:
    """A 32-byte key from hex; generated once into the data folder in development."""
    raw = env.get(name, "").strip()
    if raw:
        return _hex_key(raw, name)
    if env_name == "production":
        raise ConfigError(f"{name} is required when DMP_ENV=production")
    path = data_dir / "keys" / name.lower()
    if path.exists():  # checked as the variable is: a short key would seal the history weakly
        return _hex_key(path.read_text().strip(), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


def _previous_keys(env: dict[str, str], name: str) -> tuple[bytes, ...]:
    """Keys from a comma-separated list of 64 hexadecimal characters each; none if unset."""
    parts = (part.strip() for part in env.get(name, "").split(","))
    return tuple(_hex_key(raw, f"{name}: key {n + 1}") for n, raw in enumerate(parts) if raw)


def _previous_key(env: dict[str, str], name: str) -> bytes | None:
    raw = env.get(name, "").strip()
    return _hex_key(raw, name) if raw else None


def load(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    env_name = env.get("DMP_ENV", "development").strip() or "development"
    if env_name not in {"development", "production"}:
        raise ConfigError(f"DMP_ENV must be development or production, got {env_name!r}")
    data_dir = Path(env.get("DMP_DATA_DIR", "./var") or "./var").resolve()
    database_url = env.get("DMP_DATABASE_URL", "") or f"sqlite://{data_dir / 'dmp.sqlite3'}"
    # asyncpg:// is Tortoise's name for postgres://; psycopg:// would need a driver the
    # service does not install (a traceback at the first connection).
    if not database_url.startswith(("sqlite://", "postgres://", "asyncpg://")):
        raise ConfigError("DMP_DATABASE_URL must start with sqlite:// or postgres://")
    if database_url.startswith(("postgres://", "asyncpg://")):
        _postgres_url(database_url)
    else:
        _sqlite_url(database_url)
    origin = _public_origin(env.get("DMP_PUBLIC_ORIGIN", ""))
    parts = urlsplit(origin)
    if env_name == "development" and parts.hostname != "localhost":
        raise ConfigError("DMP_PUBLIC_ORIGIN must be on localhost when DMP_ENV=development")
    if env_name == "production" and parts.scheme != "https":
        raise ConfigError("DMP_PUBLIC_ORIGIN must use https when DMP_ENV=production")
    smtp_host = env.get("DMP_SMTP_HOST", "").strip() or None
    if env_name == "production" and smtp_host is None:
        raise ConfigError("DMP_SMTP_HOST is required when DMP_ENV=production")
    if env_name == "production" and not (env.get("DMP_MAIL_FROM") or "").strip():
        # The development default, a sender at localhost, is refused or filed as spam by mail
        # servers: codes would not arrive.
        raise ConfigError(
            "DMP_MAIL_FROM is required when DMP_ENV=production (e.g. 'DMP <no-reply@dmp.example>')"
        )
    mail_from = _mail_from(env.get("DMP_MAIL_FROM") or "DMP <no-reply@localhost>")
    smtp_username = env.get("DMP_SMTP_USERNAME") or None
    smtp_password = env.get("DMP_SMTP_PASSWORD") or None
    if (smtp_username is None) != (smtp_password is None):
        raise ConfigError("DMP_SMTP_USERNAME and DMP_SMTP_PASSWORD go together: set both or neither")
    sms_backend = _sms_backend(env.get("DMP_SMS_BACKEND", ""))
    data_dir.mkdir(parents=True, exist_ok=True)
    data_key = _key(env, "DMP_DATA_KEY", env_name, data_dir)
    audit_key = _key(env, "DMP_AUDIT_KEY", env_name, data_dir)
    if data_key == audit_key:
        # Two keys for two trusts: whoever checks the history need not be able to read files.
        raise ConfigError("DMP_DATA_KEY and DMP_AUDIT_KEY must be different keys")
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        public_origin=origin,
        env=env_name,
        smtp_host=smtp_host,
        smtp_port=_int(env, "DMP_SMTP_PORT", 25, 1, 65535),
        smtp_username=smtp_username,
        smtp_password=smtp_password,
        smtp_starttls=_bool(env, "DMP_SMTP_STARTTLS"),
        mail_from=mail_from,
        sms_backend=sms_backend,
        data_key=data_key,
        previous_data_keys=_previous_keys(env, "DMP_PREVIOUS_DATA_KEYS"),
        audit_key=audit_key,
        previous_audit_key=_previous_key(env, "DMP_PREVIOUS_AUDIT_KEY"),
        break_glass_minutes=_int(env, "DMP_BREAK_GLASS_MINUTES", 60, 1, 24 * 60),
        regulator_minutes=_int(env, "DMP_REGULATOR_MINUTES", 30, 1, 24 * 60),
        session_idle_minutes=_int(env, "DMP_SESSION_IDLE_MINUTES", 30, 1, 24 * 60),
        session_absolute_hours=_int(env, "DMP_SESSION_ABSOLUTE_HOURS", 12, 1, 24 * 30),
        record_storage_mb=_int(env, "DMP_RECORD_STORAGE_MB", 500, 1, 10_000),
        trusted_proxy_header=env.get("DMP_TRUSTED_PROXY_HEADER") or None,
        shutdown_seconds=_int(env, "DMP_SHUTDOWN_SECONDS", 30, 1, 3600),
    )


_settings: Settings | None = None


def settings() -> Settings:
    """The process's settings, read on first use."""
    global _settings
    if _settings is None:
        _settings = load()
    return _settings


def reset(new: Settings | None = None) -> None:
    """Replace the cached settings (tests and the command line)."""
    global _settings
    _settings = new
