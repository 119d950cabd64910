"""Every configuration refusal names its variable in one line (`ConfigError`, which `dmp`
prints as its one-line failure: tests/test_cli.py), and the values it accepts."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from backend import config

KEY = secrets.token_hex(32)
PRODUCTION = {
    "DMP_ENV": "production", "DMP_PUBLIC_ORIGIN": "https://dmp.example", "DMP_DATA_KEY": KEY,
    "DMP_AUDIT_KEY": secrets.token_hex(32), "DMP_SMTP_HOST": "mail.example",
    "DMP_MAIL_FROM": "DMP <no-reply@dmp.example>",
}


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"DMP_ENV": "staging"}, "DMP_ENV must be development or production, got 'staging'"),
        ({"DMP_DATABASE_URL": "mysql://db/dmp"}, "DMP_DATABASE_URL must start with sqlite:// or postgres://"),
        ({"DMP_PUBLIC_ORIGIN": "ftp://localhost"}, "DMP_PUBLIC_ORIGIN must be an origin"),
        ({"DMP_PUBLIC_ORIGIN": "http://localhost:8000/app"}, "DMP_PUBLIC_ORIGIN must be an origin"),
        ({"DMP_PUBLIC_ORIGIN": "https://dmp.example"}, "DMP_PUBLIC_ORIGIN must be on localhost"),
        ({"DMP_SMTP_PORT": "smtp"}, "DMP_SMTP_PORT must be a whole number, got 'smtp'"),
        ({"DMP_SMTP_PORT": "70000"}, "DMP_SMTP_PORT must be between 1 and 65535, got 70000"),
        ({"DMP_SMTP_STARTTLS": "maybe"}, "DMP_SMTP_STARTTLS must be true or false, got 'maybe'"),
        ({"DMP_MAIL_FROM": "DMP"}, "DMP_MAIL_FROM must be an address like"),  # a name, no address
        ({"DMP_MAIL_FROM": "DMP <>"}, "DMP_MAIL_FROM must be an address like"),
        ({"DMP_MAIL_FROM": "no-reply@"}, "DMP_MAIL_FROM must be an address like"),
        ({"DMP_MAIL_FROM": "DMP <a@dmp.example>\nBcc: x@y.example"}, "DMP_MAIL_FROM must be an address"),
        ({"DMP_SMTP_USERNAME": "dmp"}, "DMP_SMTP_USERNAME and DMP_SMTP_PASSWORD go together"),
        ({"DMP_SMTP_PASSWORD": "secret"}, "DMP_SMTP_USERNAME and DMP_SMTP_PASSWORD go together"),
        ({"DMP_DATA_KEY": "not hex"}, "DMP_DATA_KEY must be 64 hexadecimal characters"),
        ({"DMP_AUDIT_KEY": KEY[:32]}, r"DMP_AUDIT_KEY must be 64 hexadecimal characters \(32 bytes\)"),
        ({"DMP_PREVIOUS_DATA_KEYS": f"{KEY}, nope"}, "DMP_PREVIOUS_DATA_KEYS: key 2 must be 64 hexadecimal"),
        ({"DMP_PREVIOUS_AUDIT_KEY": "00"}, "DMP_PREVIOUS_AUDIT_KEY must be 64 hexadecimal characters"),
        ({"DMP_BREAK_GLASS_MINUTES": "0"}, "DMP_BREAK_GLASS_MINUTES must be between 1 and 1440, got 0"),
        ({"DMP_SESSION_ABSOLUTE_HOURS": "721"}, "DMP_SESSION_ABSOLUTE_HOURS must be between 1 and 720"),
        ({"DMP_RECORD_STORAGE_MB": "0"}, "DMP_RECORD_STORAGE_MB must be between 1 and 10000, got 0"),
        ({**PRODUCTION, "DMP_PUBLIC_ORIGIN": "http://dmp.example"}, "DMP_PUBLIC_ORIGIN must use https"),
        ({**PRODUCTION, "DMP_SMTP_HOST": ""}, "DMP_SMTP_HOST is required when DMP_ENV=production"),
        ({**PRODUCTION, "DMP_SMTP_HOST": "  "}, "DMP_SMTP_HOST is required when DMP_ENV=production"),
        ({**PRODUCTION, "DMP_DATA_KEY": ""}, "DMP_DATA_KEY is required when DMP_ENV=production"),
        ({**PRODUCTION, "DMP_AUDIT_KEY": ""}, "DMP_AUDIT_KEY is required when DMP_ENV=production"),
        # Two trusts, two keys: whoever checks the history need not read the files.
        ({**PRODUCTION, "DMP_AUDIT_KEY": KEY}, "DMP_DATA_KEY and DMP_AUDIT_KEY must be different keys"),
        ({"DMP_DATA_KEY": KEY, "DMP_AUDIT_KEY": KEY}, "DMP_DATA_KEY and DMP_AUDIT_KEY must be different"),
        # A sender at localhost, the development default, is refused or filed as spam.
        ({**PRODUCTION, "DMP_MAIL_FROM": ""}, "DMP_MAIL_FROM is required when DMP_ENV=production"),
        # PostgreSQL's URL parameters: Tortoise handed them to asyncpg, which failed with a
        # traceback at the first connection (and `dmp serve` ran on, every query failing).
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?foo=bar"}, "DMP_DATABASE_URL: unknown parameter 'foo'"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?sslmode=require"},
         r"unknown parameter 'sslmode' \(known: .*\bssl\b"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?command_timeout=abc"},
         "DMP_DATABASE_URL: the parameter 'command_timeout' must be a number of seconds greater than 0"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?command_timeout=0"}, "'command_timeout' must be"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?command_timeout=nan"}, "'command_timeout' must be"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?timeout=2.5"},
         "the parameter 'timeout' must be a whole number of seconds, 1 or more"),
        ({"DMP_DATABASE_URL": "asyncpg://dmp@db/dmp?maxsize=lots"}, "the parameter 'maxsize' must be"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?maxsize=0"}, "the parameter 'maxsize' must be a whole"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?max_queries=x"}, "the parameter 'max_queries' must"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?ssl=maybe"},
         "the parameter 'ssl' must be one of disable, allow, prefer, require, verify-ca, verify-full"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?port=５４３２"}, "the parameter 'port' must be a port"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?minsize=30"}, r"minsize \(30\) is greater than maxsize"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?minsize=5&maxsize=2"}, "minsize .5. is greater than"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db/dmp?%0Afoo=1"}, r"unknown parameter '\\nfoo'"),
        # The URL itself: Tortoise raised at the first connection, a traceback.
        ({"DMP_DATABASE_URL": "postgres://dmp:s3cret@[::1/dmp"}, "DMP_DATABASE_URL: its host or port cannot"),
        ({"DMP_DATABASE_URL": "postgres://dmp:s3cret@db:99999/dmp"}, "DMP_DATABASE_URL: its host or port"),
        ({"DMP_DATABASE_URL": "postgres://dmp@db:abc/dmp"}, "DMP_DATABASE_URL: its host or port cannot"),
        ({"DMP_DATABASE_URL": "sqlite:///tmp/dmp.sqlite3?journal_size_limit=abc"},
         "DMP_DATABASE_URL: a parameter of this SQLite URL cannot be read"),
        # SQLite took `abc` or `-1` as no wait at all ("database is locked" at once under another
        # writer), and `10s` failed at the first connection.
        ({"DMP_DATABASE_URL": "sqlite:///tmp/dmp.sqlite3?busy_timeout=10s"},
         "the parameter 'busy_timeout' must be a whole number of milliseconds, 0 or more, given once"),
        ({"DMP_DATABASE_URL": "sqlite:///tmp/dmp.sqlite3?busy_timeout=-1"}, "'busy_timeout' must be"),
        ({"DMP_DATABASE_URL": "sqlite:///tmp/dmp.sqlite3?busy_timeout=abc"}, "'busy_timeout' must be"),
        ({"DMP_DATABASE_URL": "sqlite:///tmp/dmp.sqlite3?busy_timeout=5000&busy_timeout=20000"},
         "'busy_timeout' must be a whole number of milliseconds, 0 or more, given once"),
        # A driver the service does not install: a traceback at the first connection.
        ({"DMP_DATABASE_URL": "psycopg://dmp@db/dmp"}, "DMP_DATABASE_URL must start with sqlite:// or postgres://"),
    ],
)
def test_a_bad_value_is_refused_with_a_line_naming_its_variable(
    tmp_path: Path, env: dict[str, str], refusal: str
) -> None:
    with pytest.raises(config.ConfigError, match=refusal) as refused:
        config.load({"DMP_DATA_DIR": str(tmp_path / "data"), **env})
    assert "\n" not in str(refused.value)
    assert KEY not in str(refused.value)  # a key, even a wrong one, is never echoed


@pytest.mark.parametrize("query", ["password=s3cret-pw&command_timeout=abc", "foo=s3cret-pw",
                                   "timeout=s3cret-pw"])
def test_a_database_url_refusal_names_the_parameter_never_a_value(tmp_path: Path, query: str) -> None:
    with pytest.raises(config.ConfigError, match="DMP_DATABASE_URL") as refused:
        config.load({"DMP_DATA_DIR": str(tmp_path / "data"),
                     "DMP_DATABASE_URL": f"postgres://dmp:s3cret-pw@db/dmp?{query}"})
    assert "s3cret-pw" not in str(refused.value) and "\n" not in str(refused.value)


def test_the_database_url_parameters_operators_use_are_accepted(tmp_path: Path) -> None:
    for query in ("", "?command_timeout=600", "?command_timeout=0.5&timeout=20&maxsize=4&minsize=2",
                  "?host=/var/run/postgresql", "?ssl=verify-full", "?ssl=true&application_name=dmp",
                  "?max_inactive_connection_lifetime=0&max_queries=1000&statement_cache_size=0",
                  "?schema=dmp&target_session_attrs=primary"):
        url = f"postgres://dmp:p[w]@db:5432/dmp{query}"  # brackets in a password are no host
        assert config.load({"DMP_DATA_DIR": str(tmp_path / "data"), "DMP_DATABASE_URL": url}
                           ).database_url == url


def test_accepted_values(tmp_path: Path) -> None:
    cfg = config.load({
        "DMP_DATA_DIR": str(tmp_path / "data"), "DMP_SMTP_PORT": "587", "DMP_SMTP_STARTTLS": " Yes ",
        "DMP_PREVIOUS_DATA_KEYS": f" {KEY} , {KEY.upper()} ", "DMP_PUBLIC_ORIGIN": "http://localhost:5173/",
    })
    assert cfg.smtp_port == 587 and cfg.smtp_starttls is True
    assert cfg.mail_from == "DMP <no-reply@localhost>"  # the default
    for mail_from in ("no-reply@dmp.example", "Dossier Médical Partagé <no-reply@dmp.example>"):
        assert config.load({"DMP_DATA_DIR": str(tmp_path / "data"), "DMP_MAIL_FROM": f" {mail_from} "}
                           ).mail_from == mail_from
    both = config.load({"DMP_DATA_DIR": str(tmp_path / "data"), "DMP_SMTP_USERNAME": "dmp",
                        "DMP_SMTP_PASSWORD": "secret"})
    assert (both.smtp_username, both.smtp_password) == ("dmp", "secret")
    assert cfg.previous_data_keys == (bytes.fromhex(KEY), bytes.fromhex(KEY))
    assert cfg.public_origin == "http://localhost:5173"  # the trailing slash dropped
    production = config.load({"DMP_DATA_DIR": str(tmp_path / "prod"), **PRODUCTION})
    assert production.production and production.data_key == bytes.fromhex(KEY)
    assert production.secure_cookies and production.session_cookie == "__Host-dmp_session"


def test_development_keys_are_made_once_and_kept(tmp_path: Path) -> None:
    """Without DMP_DATA_KEY and DMP_AUDIT_KEY, development makes each key once, readable by
    the service's user only, and reads the same keys at the next start."""
    first = config.load({"DMP_DATA_DIR": str(tmp_path / "data")})
    again = config.load({"DMP_DATA_DIR": str(tmp_path / "data")})
    assert (again.data_key, again.audit_key) == (first.data_key, first.audit_key)
    assert first.data_key != first.audit_key and len(first.data_key) == 32
    for name in ("dmp_data_key", "dmp_audit_key"):
        assert (tmp_path / "data" / "keys" / name).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("content", ["ab", "not a key", KEY[:62]])
def test_a_development_key_file_is_checked_as_the_variable_is(tmp_path: Path, content: str) -> None:
    """A key file under data/keys/ (kept from a restore, written by hand) that is not 32
    bytes of hex stops the start; a 1-byte audit key sealed the history weakly."""
    keys = tmp_path / "data" / "keys"
    keys.mkdir(parents=True)
    (keys / "dmp_audit_key").write_text(content)
    with pytest.raises(config.ConfigError, match="dmp_audit_key must be 64 hexadecimal characters"):
        config.load({"DMP_DATA_DIR": str(tmp_path / "data")})
