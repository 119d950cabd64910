"""The `dmp` command line for operators (DESIGN §7)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import errno
import os
import re
import socket
import sqlite3
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn

from tortoise.exceptions import BaseORMException

from backend import accounts, config, db
from backend.auth.passwords import MAX_LENGTH
from backend.domain.enums import Profession, Role


class CommandError(Exception):
    """A one-line message for the operator; exit status 1."""


async def _with_db(work: Callable[[], Awaitable[Any]]) -> Any:
    """`work` with the database connected, once every committed migration is applied to it:
    on a database that lacks one, a command ran as far as a statement that touched what is
    missing (or all the way, where none did), and wrote what it could before it."""
    try:
        missing = await _unapplied_migrations()
    except OSError as exc:
        raise _unreachable(exc) from None
    if missing:
        raise CommandError(_not_up_to_date(missing, "run dmp migrate first"))
    await db.connect()
    try:
        return await work()
    except OSError as exc:
        raise _unreachable(exc) from None
    finally:
        await db.disconnect()


def _unreachable(exc: OSError) -> Exception:
    """Tortoise connects on the first statement: a database host that does not resolve or does
    not answer said only « Name or service not known » or « Connect call failed (…) ». A
    PostgreSQL database that does not exist on its server (a DBConnectionError, an OSError too)
    is said as such: creating it is what mends it, not waiting."""
    if (absent := db.missing(exc)) is not None:
        return absent
    if exc.filename is None and (isinstance(exc, socket.gaierror) or db.unavailable(exc)):
        return CommandError(f"the database in DMP_DATABASE_URL cannot be reached: {exc.strerror or exc}")
    return exc


async def _migrate() -> None:
    from tortoise.migrations.api import migrate

    def progress(event: str, app_label: str, name: str) -> None:
        if event.startswith("apply") and event.endswith("start"):
            print(f"applying {app_label}.{name}")

    from tortoise import Tortoise

    try:
        await migrate(config=db.tortoise_config(create=True), progress=progress)
    except OSError as exc:
        raise _unreachable(exc) from None
    finally:
        await Tortoise.close_connections()
    print("database is up to date")


def cmd_migrate(args: argparse.Namespace) -> None:
    asyncio.run(_migrate())


def _check_listen(host: str, port: int, *, workers: int) -> None:
    """Binds, and lets go, every address uvicorn will listen on, so that a host that does not
    resolve, an address not on this machine or a port in use is one line before anything starts
    (uvicorn started the application, then logged « [Errno 98] … » and exited 3). Binds as
    uvicorn does: with one worker, asyncio's create_server on every address the name resolves
    to; with several, one socket of the family the host's spelling says (uvicorn's bind_socket)."""
    where = f"cannot listen on --host {host!r} --port {port}"
    if workers > 1:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
    else:
        family = socket.AF_UNSPEC
    try:
        infos = socket.getaddrinfo(host or None, port, family, socket.SOCK_STREAM, 0,
                                   socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else "not a host name"
        raise CommandError(f"{where}: the host does not resolve to an address ({reason})") from None
    addresses = dict.fromkeys((af, sa) for af, _, _, _, sa in infos)
    probes: list[socket.socket] = []
    try:
        for af, address in addresses:
            try:
                probe = socket.socket(af, socket.SOCK_STREAM)
            except OSError:
                continue  # a family this machine does not have, passed over as asyncio does
            probes.append(probe)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if af == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                ip = address[0] if isinstance(address[0], str) else host
                shown = f"{ip} port {port}"
                if exc.errno == errno.EADDRINUSE:
                    why = f"{shown} is already in use (another dmp serve?): choose another --port"
                elif exc.errno == errno.EADDRNOTAVAIL:
                    why = f"{ip} is not an address of this machine"
                elif exc.errno == errno.EACCES:
                    why = f"{shown} needs privileges this user does not have (a port under 1024?)"
                else:
                    why = f"{shown}: {exc.strerror or exc}"
                raise CommandError(f"{where}: {why}") from None
    finally:
        for probe in probes:
            probe.close()


async def _unapplied_migrations() -> list[str] | None:
    """The committed migrations the database has not had, by name; None when it cannot be
    reached now (`dmp serve` then starts as before, and serves once the database is back).
    A database that is not there (MissingDatabase) stops it, as a role refused does: it served
    503 until someone created it."""
    from tortoise import Tortoise
    from tortoise.connection import get_connection
    from tortoise.migrations.loader import MigrationLoader
    from tortoise.migrations.recorder import MigrationRecorder

    config_ = db.tortoise_config()
    await Tortoise.init(config=config_, init_connections=False)
    try:
        connection = get_connection("default")
        # Read here, not by the recorder (nor `MigrationExecutor.plan`), which takes any failure
        # for a database never migrated: a statement timed out said every migration was missing.
        try:
            _, rows = await connection.execute_query('SELECT "app", "name" FROM "tortoise_migrations"')
        except Exception as exc:
            if (absent := db.missing(exc)) is not None:
                raise absent from None
            if isinstance(exc, OSError) or db.unavailable(exc):
                return None
            if not _NOT_MIGRATED.search(str(exc)):
                raise
            rows = []  # no migrations table: never migrated
        applied = {(row["app"], row["name"]) for row in rows}
        # The plan `dmp migrate` would carry out; migrations the database has and the code does
        # not (the code rolled back) are not in it.
        loader = MigrationLoader(config_["apps"], MigrationRecorder(connection), load=False)
        await loader.build_graph()
        graph = loader.graph
        committed = dict.fromkeys(key for leaf in graph.leaf_nodes() for key in graph.forwards_plan(leaf))
        return [f"{key.app_label}.{key.name}" for key in committed
                if (key.app_label, key.name) not in applied]
    finally:
        await Tortoise.close_connections()


def _not_up_to_date(missing: list[str], then: str) -> str:
    return (f"the database in DMP_DATABASE_URL is not up to date: {len(missing)} migration(s) not "
            f"applied ({missing[0]}{', ...' if len(missing) > 1 else ''}): {then}")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from backend.logs import configure as configure_logging
    from backend.notify.senders import check_senders

    check_senders(config.settings())  # before the workers start: one line, not a traceback each
    _check_listen(args.host, args.port, workers=args.workers)  # before migrating

    if not args.migrate:
        # Code newer than its database (an upgrade without `dmp migrate`, a new database) served
        # with /healthz answering 200 and the requests touching what is missing failing.
        missing = asyncio.run(_unapplied_migrations())
        if missing:
            raise CommandError(_not_up_to_date(missing, "run dmp migrate first, or dmp serve --migrate"))
    # The supervisor of several workers logs too (binding, worker restarts): in JSON as well.
    configure_logging()
    if args.migrate:
        asyncio.run(_migrate())
    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        log_config=None,  # the app logs JSON lines itself (backend/logs.py)
        access_log=False,
        proxy_headers=False,
        server_header=False,  # the software and its version are nobody's business
        timeout_graceful_shutdown=config.settings().shutdown_seconds,
    )


def _date(raw: str | None) -> dt.date | None:
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"invalid date {raw!r}, expected YYYY-MM-DD") from None


# A password is at most MAX_LENGTH characters: 4 bytes each in UTF-8, and its line end.
_SECRET_BYTES = 4 * MAX_LENGTH + 2
_FROM_STDIN = "-"  # as --password's value


def _one_line(raw: bytes, source: str) -> str:
    """The secret on the one line of `raw` (a trailing line end is not part of it). Nothing of
    the text is repeated in a refusal: it may be the secret, or another file given by mistake."""
    if len(raw) > _SECRET_BYTES:
        raise CommandError(f"{source} is too long to hold one password (at most {MAX_LENGTH} characters)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"{source} is not UTF-8 text") from None
    line, _, rest = text.partition("\n")
    if rest.strip("\r\n"):
        raise CommandError(f"{source} holds more than one line: give the password alone, on one line")
    return line.removesuffix("\r")


def _password(args: argparse.Namespace) -> str:
    """--password P (shown by `ps` to every user of the machine while the command runs),
    --password - (one line read from standard input) or --password-file PATH (its one line).
    An empty one is refused by the password policy, as a short one is."""
    if args.password_file is not None:
        with open(args.password_file, "rb") as handle:
            return _one_line(handle.read(_SECRET_BYTES + 1), f"--password-file {args.password_file}")
    if args.password == _FROM_STDIN:
        if sys.stdin is None:  # closed
            return ""
        return _one_line(sys.stdin.buffer.readline(_SECRET_BYTES + 1), "standard input")
    return str(args.password)


def cmd_create_account(args: argparse.Namespace) -> None:
    new = accounts.NewAccount(
        role=Role(args.role.upper()),
        email=args.email,
        password=_password(args),
        first_name=args.first_name,
        last_name=args.last_name,
        phone=args.phone,
        ins=args.ins,
        birth_date=_date(args.birth_date),
        rpps=args.rpps,
        profession=Profession(args.profession) if args.profession else None,
        city=args.city or "",
        regulator=args.regulator,
    )
    accounts.validate(new)  # before touching the database
    account = asyncio.run(_with_db(lambda: accounts.create_account(new, command="dmp create-account")))
    print(f"created {args.role} account {account.id} <{account.email}>")


def cmd_create_token(args: argparse.Namespace) -> None:
    async def work() -> tuple[Any, str]:
        return await accounts.create_token(
            args.name,
            [s for part in args.scope for s in part.split(",") if s],
            practitioner_rpps=args.practitioner,
            organization=args.organization,
            expires_days=args.expires_days,
        )

    row, token = asyncio.run(_with_db(work))
    print(f"token {row.id} ({row.name}), expires {row.expires_at:%Y-%m-%d}; shown once:")
    print(token)


def cmd_list_tokens(args: argparse.Namespace) -> None:
    from backend.models import ApiToken

    async def work() -> list[ApiToken]:
        return await ApiToken.all().order_by("created_at").prefetch_related("practitioner")

    rows = asyncio.run(_with_db(work))
    # The expiry, to rotate a token before it; its last use (UTC, to the minute: a call writes
    # it at most once a minute), to tell a token still in use from one forgotten, and whether
    # a compromised one was used; the name and what it is bound to last and whole (up to 100
    # characters each), where the columns before them are of fixed width.
    print(f"{'id':36}  {'prefix':12}  {'state':7}  {'expires':10}  {'last used (UTC)':16}  "
          f"{'scopes':26}  bound to | name")
    now = dt.datetime.now(dt.UTC)
    for r in rows:
        bound = f"rpps {r.practitioner.rpps}" if r.practitioner else f"org {r.organization}"
        state = "revoked" if r.revoked_at else ("expired" if r.expires_at <= now else "active")
        expires = r.expires_at.astimezone(dt.UTC).date().isoformat()
        used = f"{r.last_used_at.astimezone(dt.UTC):%Y-%m-%d %H:%M}" if r.last_used_at else "never"
        print(f"{r.id!s:36}  {r.prefix:12}  {state:7}  {expires:10}  {used:16}  {','.join(r.scopes):26}  "
              f"{bound} | {r.name}")


def cmd_revoke_token(args: argparse.Namespace) -> None:
    from backend.models import ApiToken

    if args.organization is not None:
        _revoke_organization(args.organization)
        return
    try:
        token_id = uuid.UUID(args.id.strip())  # as copied from list-tokens, spaces and all
    except ValueError:
        if args.id.strip().startswith("dmp_"):
            # The token itself, pasted by mistake: not repeated on stderr (often kept in a log),
            # only the prefix list-tokens shows beside its id.
            raise CommandError(
                f"this is a token, not its id: run list-tokens and give the id shown beside the prefix "
                f"{args.id.strip()[:12]}"
            ) from None
        # Never quoted back: a token copied without its `dmp_` prefix is the secret itself.
        raise CommandError(
            "invalid token id: give the id list-tokens shows (a UUID such as "
            "8d4f1f0e-4a51-4f57-9a57-3c1f0d1e2a3b), not the token"
        ) from None

    async def work() -> int:
        return await ApiToken.filter(id=token_id, revoked_at=None).update(
            revoked_at=dt.datetime.now(dt.UTC)
        )

    if not asyncio.run(_with_db(work)):
        raise CommandError(f"no active token with id {token_id}")
    print(f"revoked token {token_id}")


def _revoke_organization(raw: str) -> None:
    """`revoke-token --organization NAME`: every token of the organization, whatever the case
    or the spaces around its name (an organization is a text on each token, stored as typed
    at create-token). Each revoked token is named by its id and prefix, never its secret."""
    if raw.strip().startswith("dmp_"):
        raise CommandError("this is a token, not an organization: give the organization's name as "
                           "list-tokens shows it (org NAME)")
    revoked = asyncio.run(_with_db(lambda: accounts.revoke_organization_tokens(raw)))
    if not revoked:
        # The name given is not repeated: a token pasted there by mistake stays off stderr.
        raise CommandError("no token of this organization is left to revoke (compared without case "
                           "or spaces around it): see list-tokens")
    for row in revoked:
        print(f"revoked token {row.id} ({row.prefix}, org {row.organization} | {row.name})")
    print(f"revoked {len(revoked)} token(s) of organization {revoked[0].organization}")


def _account_named(raw: str, command: str) -> Any:
    """The account `dmp disable-account` / `enable-account` names: an e-mail address (as sign-in
    reads it) or a practitioner's RPPS number. An INS names a patient's record, and is refused
    without a look-up. The identifier given is never repeated."""
    from backend.resolvers.login import find_account, read_identifier

    named = read_identifier(raw)
    if named.kind == "ins":
        raise CommandError(f"an INS names a patient: {PATIENTS_ARE_THEIRS}")
    if named.kind not in ("email", "rpps"):
        raise CommandError(f"not an e-mail address or an RPPS number: give the e-mail address the "
                           f"account signs in with, or a practitioner's 11-digit RPPS number ({command})")

    async def find() -> Any:
        account = await find_account(named)
        if account is None:
            what = "e-mail address" if named.kind == "email" else "RPPS number"
            raise CommandError(f"no account has this {what}")
        return account

    return find


# Why an operator does not switch a patient's account off.
PATIENTS_ARE_THEIRS = ("a patient's record belongs to the patient, and an operator does not disable "
                       "their account (a patient closes their record or asks for its deletion; "
                       "support helps them)")


def _log_operator(event: str, what: str, account: Any, done: str = "") -> None:
    import logging

    from backend.logs import configure as configure_logging

    configure_logging(logging.INFO)
    # Ids and counts only: the address and the name stay out of the log, as in support's lines.
    logging.getLogger("dmp.cli").info(
        "%s: %s account %s%s", what, account.role, account.id, done,
        extra={"event": event, "account": str(account.id)},
    )


def _when(at: dt.datetime) -> str:
    return f"{at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def cmd_disable_account(args: argparse.Namespace) -> None:
    """Switches an account off: a practitioner struck off or leaving, a support agent leaving,
    an account whose password, codes or passkey are in other hands."""
    find = _account_named(args.identifier, "dmp disable-account")

    async def work() -> tuple[Any, accounts.Disabled]:
        from backend.domain.enums import Role

        account = await find()
        if account.role == Role.PATIENT:
            raise CommandError(f"{account.role} account {account.id}: {PATIENTS_ARE_THEIRS}")
        return account, await accounts.disable(account)

    account, done = asyncio.run(_with_db(work))
    _log_operator("operator_disable", "operator disable", account,
                  f" ({done.sessions} session(s) ended, {done.tokens} token(s) revoked)")
    if done.already:
        print(f"{account.role} account {account.id} was already disabled (since {_when(done.since)}); "
              f"{done.sessions} more session(s) ended, {done.tokens} more token(s) revoked")
    else:
        print(f"disabled {account.role} account {account.id}: it can no longer sign in; "
              f"{done.sessions} session(s) ended, {done.tokens} token(s) revoked")


def cmd_enable_account(args: argparse.Namespace) -> None:
    find = _account_named(args.identifier, "dmp enable-account")

    async def work() -> tuple[Any, dt.datetime | None]:
        account = await find()
        return account, await accounts.enable(account)

    account, since = asyncio.run(_with_db(work))
    if since is None:
        print(f"{account.role} account {account.id} is not disabled: nothing to do")
        return
    _log_operator("operator_enable", "operator enable", account)
    print(f"enabled {account.role} account {account.id} (disabled since {_when(since)}): it can sign "
          "in again; its sessions stay ended and its tokens stay revoked (dmp create-token for new "
          "ones)")


def cmd_unlock_account(args: argparse.Namespace) -> None:
    """Lifts a code-login lock, of any role's account: support lifts patients' and
    practitioners' only, a support account's is left to an operator."""
    import logging

    from backend.logs import configure as configure_logging
    from backend.models import Account
    from backend.resolvers.login import find_account, read_identifier

    named = read_identifier(args.email)  # as sign-in reads it: composed (NFC), lower case
    if named.kind != "email":
        raise CommandError("not an e-mail address: give the e-mail address the account signs in with")

    async def work() -> Account:
        account = await find_account(named)
        if account is None:
            raise CommandError("no account has this e-mail address")
        not_locked = CommandError(f"{account.role} account {account.id} is not locked: nothing to do")
        if account.locked_at is None:
            raise not_locked
        # A patient's unlock is written in their record's access history, as support's is.
        if not await accounts.unlock_by_operator(account):
            raise not_locked  # unlocked meanwhile, by support or another operator
        return account

    account = asyncio.run(_with_db(work))
    configure_logging(logging.INFO)
    # Ids only: the address and the name stay out of the log, as in support's lines.
    logging.getLogger("dmp.cli").info(
        "operator unlock: %s account %s", account.role, account.id,
        extra={"event": "operator_unlock", "account": str(account.id)},
    )
    print(f"unlocked {account.role} account {account.id}")


def cmd_seed_demo(args: argparse.Namespace) -> None:
    from backend.demo import seed

    if config.settings().production:
        # Accounts with a published password, support and a SAMU regulator among them.
        raise CommandError("seed-demo is refused in production: its accounts share one known password")

    asyncio.run(_with_db(seed))


def cmd_import_file(args: argparse.Namespace) -> None:
    from pathlib import Path

    from backend import importfile

    async def work() -> importfile.Summary:
        return await importfile.import_file(
            Path(args.file), args.organization, batch_size=args.batch_size,
            rejected_out=Path(args.rejected_out) if args.rejected_out else None,
            file_format=args.format, restart=args.restart, max_lines=args.max_lines,
            progress_stream=sys.stderr,
        )

    try:
        summary = asyncio.run(_with_db(work))
    except importfile.ImportFileError as exc:
        raise CommandError(str(exc)) from None
    except KeyboardInterrupt:
        raise CommandError(
            f"interrupted; run the same command again to resume ({args.file}.progress)"
        ) from None
    print(importfile.describe(summary))


def _log_problems() -> None:
    """The service's JSON log lines on stderr, warnings and errors only, for a command whose
    summary says "see the log": without it, Python printed the bare message (no message id,
    no error type)."""
    import logging

    from backend.logs import configure as configure_logging

    configure_logging(logging.WARNING)


def cmd_deliver_outbox(args: argparse.Namespace) -> None:
    from backend.notify.delivery import deliver_all
    from backend.notify.senders import check_senders

    _log_problems()
    check_senders(config.settings())
    run = asyncio.run(_with_db(lambda: deliver_all(config.settings())))
    print(run.summary())
    if run.failed:
        # Not a success: the mail server or the SMS provider is down, refused or did not answer.
        raise CommandError(f"{run.failed} message(s) could not be sent (see the log)")


def _record_ids_for(ins: str | None) -> Callable[[], Awaitable[list[uuid.UUID] | None]]:
    async def work() -> list[uuid.UUID] | None:
        from backend.domain.identifiers import InvalidIdentifier, normalize_ins
        from backend.models import Record

        if ins is None:
            return None
        try:
            normalized = normalize_ins(ins)
        except InvalidIdentifier as exc:
            raise CommandError(str(exc)) from None
        ids = await Record.filter(ins=normalized).values_list("id", flat=True)
        if not ids:
            raise CommandError("no record with this INS")
        return [uuid.UUID(str(i)) for i in ids]

    return work


def cmd_audit_verify(args: argparse.Namespace) -> None:
    from backend.audit import verify

    anchor_heads = None
    if args.anchor:
        with open(args.anchor, encoding="utf-8") as handle:
            try:
                anchor_heads = verify.load_anchor(handle.read())
            except verify.BadAnchor as exc:
                raise CommandError(f"{args.anchor}: {exc}") from None
            except UnicodeDecodeError:
                raise CommandError(f"{args.anchor}: not an anchor file (not UTF-8 text)") from None

    async def work() -> tuple[verify.Report, verify.Report | None]:
        record_ids = await _record_ids_for(args.ins)()
        cfg = config.settings()
        key, previous = cfg.audit_key, cfg.previous_audit_key
        chains = await verify.verify(key, record_ids, previous)
        against = (
            await verify.check_anchor(key, anchor_heads, record_ids, previous) if anchor_heads else None
        )
        return chains, against

    chains, against = asyncio.run(_with_db(work))
    problems = chains.problems + (against.problems if against else [])
    if problems:
        for problem in problems:
            print(f"FAILED {problem}")
        broken = len({str(problem.record_id) for problem in problems})
        # A wrong DMP_AUDIT_KEY (a restore given another key, a rotation's keys swapped) shows
        # as every chain altered at its first event, as tampering with all of them would.
        first_altered = {str(p.record_id) for p in chains.problems if p.seq == 1 and p.what == verify.ALTERED}
        wrong_key = chains.records > 0 and len(first_altered) == chains.records
        raise CommandError(
            f"access history verification failed: {broken} chain(s) broken ({len(problems)} problem(s))"
            + ("; every chain fails at its first event: is DMP_AUDIT_KEY the key this history was "
               "written with?" if wrong_key else "")
        )
    # The anchor's digest, to compare with the line `audit anchor` printed and kept elsewhere:
    # whoever could rewrite the file could recompute the digest it holds.
    print(f"access history intact: {chains.records} record(s), {chains.events} event(s)"
          + (f", {chains.seals} purge seal(s)" if chains.seals else "")
          + (f"; {against.records - against.purged} anchored head(s) reached, {against.purged} purged "
             f"since with a valid seal; anchor sha256={verify.digest_of(anchor_heads or [])}"
             if against else "")
          + (f"; {chains.under_previous} event(s) still under DMP_PREVIOUS_AUDIT_KEY: run "
             "`dmp audit rekey`" if chains.under_previous else ""))


def cmd_audit_rekey(args: argparse.Namespace) -> None:
    from backend.audit.rekey import rekey

    cfg = config.settings()
    previous = cfg.previous_audit_key
    if previous is None:
        raise CommandError("set DMP_PREVIOUS_AUDIT_KEY to the audit key being replaced")
    if previous == cfg.audit_key:
        raise CommandError("DMP_PREVIOUS_AUDIT_KEY is DMP_AUDIT_KEY: set DMP_AUDIT_KEY to the new key")
    report = asyncio.run(_with_db(lambda: rekey(cfg.audit_key, previous)))
    for problem in report.problems:
        print(f"FAILED {problem}")
    print(f"sealed {report.records} chain(s) anew under DMP_AUDIT_KEY ({report.events} event(s)); "
          f"{report.already} already under it; {report.seals} purge seal(s) sealed anew; "
          f"{len(report.problems)} left as they were")
    if report.problems:
        raise CommandError(f"{len(report.problems)} chain(s) or seal(s) do not verify: not rekeyed")


# How every anchor file `audit anchor --out` writes begins (json.dump of verify.anchor, indent 1).
_ANCHOR_START = re.compile(rb'\{\s*"at": "[^"]*",\s*"records": \d+,\s*"digest": "[0-9a-f]*"')


def _check_anchor_out(path: str) -> None:
    """Refuses, before the database is read, an --out that is no place for an anchor: it is
    renamed over the file there, so one that is not an earlier anchor (a dump, an extract, named
    by mistake) was lost; a folder that does not exist was named by the temporary file's name."""
    where = f"--out {path}"
    if os.path.isdir(path):
        raise CommandError(f"{where} is a directory: name the anchor file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CommandError(f"{where}: {folder} is not a directory")
    if not os.path.lexists(path):
        return
    if not os.path.isfile(path):
        raise CommandError(f"{where} exists and is not a regular file: name a new file")
    with open(path, "rb") as handle:
        start = handle.read(4096)
    if not _ANCHOR_START.match(start):
        raise CommandError(f"{where} exists and is not an anchor file written by dmp audit anchor "
                           "--out: name a new file, or remove it first")


def cmd_audit_anchor(args: argparse.Namespace) -> None:
    from backend.audit import verify

    if args.out:
        _check_anchor_out(args.out)
    data = asyncio.run(_with_db(verify.anchor))
    if args.out:
        try:
            verify.write_anchor(args.out, data)  # whole or not at all: the last good one stays
        except OSError as exc:  # named by its temporary file's name
            raise CommandError(f"--out {args.out} cannot be written: {exc.strerror or exc}") from None
    print(f"anchor {data['at']} records={data['records']} sha256={data['digest']}")


def cmd_purge(args: argparse.Namespace) -> None:
    from backend.purge import purge

    _log_problems()
    report = asyncio.run(_with_db(lambda: purge(sweep_all=args.sweep_all_orphans)))
    failed = len(report.failed_ids)
    print(f"purged {report.closed + report.deleted + report.abandoned} record(s): {report.closed} closed "
          f"more than 10 years ago, {report.deleted} after a deletion request, {report.abandoned} pending "
          f"and never activated; {failed} failed; {report.files} file(s) removed"
          + (f", {report.files_kept} not removed" if report.files_kept else "")
          + f"; {report.expired_rows} expired sign-in row(s) removed; {report.orphan_files} orphan "
          "file(s) swept")
    problems = [
        *([f"{failed} record(s) could not be purged and stay whole, for the next run"] if failed else []),
        *([f"{report.files_kept} file(s) of purged records not removed, left to the orphan sweep"]
          if report.files_kept else []),
        *([f"{report.orphans_left} orphan file(s) not swept: more than half of the stored files are "
           "held by no row of this database (is DMP_DATABASE_URL the right one?); if they truly are "
           "orphans, run dmp purge --sweep-all-orphans"] if report.orphans_left else []),
    ]
    if problems:
        raise CommandError("; ".join(problems) + " (see the lines above)")


def cmd_release_pending_record(args: argparse.Namespace) -> None:
    """Purge now the record waiting for activation of an INS (backend/purge.py `release_pending`)."""
    from backend.domain.identifiers import InvalidIdentifier, normalize_ins
    from backend.purge import NotReleased, release_pending

    try:
        ins = normalize_ins(args.ins)
    except InvalidIdentifier as exc:
        raise CommandError(str(exc)) from None

    async def work() -> int:
        try:
            return await release_pending(ins)
        except NotReleased as why:
            raise CommandError(str(why)) from None

    files = asyncio.run(_with_db(work))
    print(f"released the pending record of this INS: purged with its entries, its {files} file(s) and its "
          "activation codes; the INS is free for the patient's practitioner (openRecordForPatient)")


def cmd_rewrap_files(args: argparse.Namespace) -> None:
    from backend.files.rotation import rewrap_files

    report = asyncio.run(_with_db(rewrap_files))
    print(f"rewrapped {report.rewrapped} file key(s) under the current data key; "
          f"{report.key_unavailable} under a key no longer configured, {report.damaged} damaged, "
          f"{report.skipped} changed meanwhile")
    if report.remaining:
        # What to do depends on what left them: a key not given (DMP_PREVIOUS_DATA_KEYS left
        # out, or a wrong DMP_DATA_KEY after a restore) is not mended by restarting anything.
        causes = []
        if report.key_unavailable:
            causes.append(f"{report.key_unavailable} under a key no longer configured (give it in "
                          "DMP_PREVIOUS_DATA_KEYS, or is DMP_DATA_KEY the wrong one?)")
        if report.damaged:
            causes.append(f"{report.damaged} damaged (their wrapped key does not open)")
        late = report.remaining - report.key_unavailable - report.damaged
        if late > 0:
            # Sealed or changed during the run by a process still running with the old key.
            causes.append(f"{late} sealed during the run under an older key (keep DMP_PREVIOUS_DATA_KEYS "
                          "and restart every process with the new DMP_DATA_KEY)")
        raise CommandError(f"{report.remaining} file key(s) still under an older key: {'; '.join(causes)}; "
                           "then run rewrap-files again")
    print("no file key left under an older key: DMP_PREVIOUS_DATA_KEYS may be removed")


def cmd_docs_matrix(args: argparse.Namespace) -> None:
    from backend.authz.matrix import render_markdown

    sys.stdout.write(render_markdown())


def cmd_print_schema(args: argparse.Namespace) -> None:
    from backend.schema.root import schema

    sys.stdout.write(schema.as_str() + "\n")


def _within(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`."""

    def number(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return number


class _Parser(argparse.ArgumentParser):
    """argparse's refusals in one line, as the commands' own (DESIGN §7), still with status 2:
    a missing option or a word where a number goes printed the whole usage block first."""

    def error(self, message: str) -> NoReturn:
        stray = "unrecognized arguments: "
        if message.startswith(stray):
            # `--password two words` unquoted left « words » over: the options named, no value
            # repeated (a password's end, a token) on stderr, which schedulers keep in their logs.
            words = message[len(stray):].split()
            options = [w.split("=", 1)[0] for w in words if w.startswith("-")]
            values = len(words) - len(options)
            left = [f"{values} value(s) no option takes, not shown: quote a value with spaces"][:values]
            message = "unrecognized arguments: " + ", ".join(options + left)
        self.exit(2, f"dmp: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dmp", description="Shared medical record service")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the web service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_within(1, 65535), default=8000)
    p.add_argument("--workers", type=_within(1, 256), default=1)
    p.add_argument("--migrate", action="store_true", help="apply migrations first")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("seed-demo", help="write demo data (idempotent)")
    p.set_defaults(func=cmd_seed_demo)

    p = sub.add_parser("create-account", help="provision an account")
    p.add_argument("--role", required=True, choices=["patient", "practitioner", "support"])
    p.add_argument("--email", required=True)
    secret = p.add_mutually_exclusive_group(required=True)
    secret.add_argument("--password", metavar="P",
                        help="visible to other users in `ps`: prefer --password - or --password-file; "
                             "`-` reads one line from standard input")
    secret.add_argument("--password-file", metavar="PATH", help="a file holding the password on one line")
    p.add_argument("--first-name", required=True)
    p.add_argument("--last-name", required=True)
    p.add_argument("--phone")
    p.add_argument("--ins")
    p.add_argument("--birth-date")
    p.add_argument("--rpps")
    p.add_argument("--profession", choices=[x.value for x in Profession])
    p.add_argument("--city")
    p.add_argument("--regulator", action="store_true")
    p.set_defaults(func=cmd_create_account)

    p = sub.add_parser("unlock-account", help="lift an account's code-login lock (any role)")
    p.add_argument("email", metavar="EMAIL", help="the e-mail address the account signs in with")
    p.set_defaults(func=cmd_unlock_account)

    p = sub.add_parser("create-token", help="provision a partner API token")
    p.add_argument("--name", required=True)
    p.add_argument("--scope", required=True, action="append")
    p.add_argument("--practitioner", metavar="RPPS")
    p.add_argument("--organization", metavar="NAME")
    p.add_argument("--expires-days", type=int, default=365)
    p.set_defaults(func=cmd_create_token)

    p = sub.add_parser("list-tokens", help="list partner tokens")
    p.set_defaults(func=cmd_list_tokens)

    p = sub.add_parser("revoke-token", help="revoke a partner token, or every token of an organization")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", help="the token's id, as list-tokens shows it")
    which.add_argument("--organization", metavar="NAME",
                       help="every token of this organization (without case or spaces around it)")
    p.set_defaults(func=cmd_revoke_token)

    p = sub.add_parser("disable-account",
                       help="switch an account off: no sign-in; its sessions ended, its tokens revoked")
    p.add_argument("identifier", metavar="IDENTIFIER",
                   help="the e-mail address the account signs in with, or a practitioner's RPPS number")
    p.set_defaults(func=cmd_disable_account)

    p = sub.add_parser("enable-account",
                       help="lift disable-account (sessions stay ended, tokens stay revoked)")
    p.add_argument("identifier", metavar="IDENTIFIER",
                   help="the e-mail address the account signs in with, or a practitioner's RPPS number")
    p.set_defaults(func=cmd_enable_account)

    p = sub.add_parser("import-file", help="import an insurer's NDJSON or CSV file, resumably")
    p.add_argument("file", metavar="FILE", help="one CareItemInput per line (NDJSON) or row (CSV)")
    p.add_argument("--organization", required=True, metavar="NAME",
                   help="the insurer; it needs an active insurer:import token")
    p.add_argument("--batch-size", type=int, default=1000, help="items per transaction (max 5000)")
    p.add_argument("--rejected-out", metavar="PATH", help="default: FILE.rejected.ndjson")
    p.add_argument("--format", choices=["ndjson", "csv"], help="default: from the file name")
    p.add_argument("--restart", action="store_true", help="ignore FILE.progress, start over")
    p.add_argument("--max-lines", type=int, metavar="N", help="stop after N lines; re-run to go on")
    p.set_defaults(func=cmd_import_file)

    p = sub.add_parser("deliver-outbox", help="send the queued e-mails and SMS now")
    p.set_defaults(func=cmd_deliver_outbox)

    p = sub.add_parser("audit", help="check the access history")
    audit = p.add_subparsers(dest="audit_command", required=True)
    a = audit.add_parser("verify", help="recompute every chain; exit 1 on the first broken one")
    a.add_argument("--ins", help="only this patient's record")
    a.add_argument("--anchor", metavar="FILE", help="also check the heads written by `audit anchor --out`")
    a.set_defaults(func=cmd_audit_verify)
    a = audit.add_parser("anchor", help="print a digest of every chain head, for safekeeping")
    a.add_argument("--out", metavar="FILE", help="also write the heads as JSON")
    a.set_defaults(func=cmd_audit_anchor)
    a = audit.add_parser(
        "rekey",
        help="seal every chain anew under DMP_AUDIT_KEY after a rotation (the service may keep running)",
    )
    a.set_defaults(func=cmd_audit_rekey)

    p = sub.add_parser("purge", help="purge records past retention or deletion grace")
    p.add_argument(
        "--sweep-all-orphans", action="store_true",
        help="remove orphan files even when they are most of the stored files",
    )
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser(
        "release-pending-record",
        help="purge now the record waiting for activation of an INS (opened with a wrong identity)",
    )
    p.add_argument("ins", metavar="INS")
    p.set_defaults(func=cmd_release_pending_record)

    p = sub.add_parser(
        "rewrap-files",
        help="after a data-key rotation: wrap every file's key with the current DMP_DATA_KEY",
    )
    p.set_defaults(func=cmd_rewrap_files)

    p = sub.add_parser("docs-matrix", help="print the profession matrix as Markdown")
    p.set_defaults(func=cmd_docs_matrix)

    p = sub.add_parser("print-schema", help="print the GraphQL schema (schema.graphql)")
    p.set_defaults(func=cmd_print_schema)
    return parser


# A table or column the committed migrations create, missing: SQLite's and PostgreSQL's words.
_NOT_MIGRATED = re.compile(
    r'no such (?:table|column): ([\w.]+)|table (\w+) has no column named \w+'
    r'|relation "(\w+)" does not exist|column "?([\w.]+)"? (?:of relation "\w+" )?does not exist'
)


def _database_error(exc: Exception) -> str:
    """One line for a database error. A database the migrations have not (all) been applied to
    (a new one, a typo in DMP_DATABASE_URL's path, an upgrade without `dmp migrate`) said only
    « database error: no such table: account »."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    missing = _NOT_MIGRATED.search(text)
    if missing:
        what = next(name for name in missing.groups() if name)
        return (f"the database in DMP_DATABASE_URL is not up to date (it lacks {what}): run dmp migrate, "
                "or check that DMP_DATABASE_URL names the right database")
    return f"database error: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    from asyncpg import InterfaceError, PostgresError  # type: ignore[import-untyped]

    args = build_parser().parse_args(argv)
    # What the service writes (the SQLite database, rejected lines, progress files) holds
    # medical data: readable by the service's own user only, as its stored files are.
    os.umask(0o077)
    try:
        config.settings()
        args.func(args)
    except (CommandError, accounts.ProvisioningError, config.ConfigError, db.MissingDatabase) as exc:
        print(f"dmp: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        if (absent := db.missing(exc)) is not None:
            print(f"dmp: {absent}", file=sys.stderr)
            return 1
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"dmp: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    # sqlite3's own: a file that is not a database; asyncpg's: a role or database refused.
    except (BaseORMException, sqlite3.Error, PostgresError, InterfaceError) as exc:
        absent = db.missing(exc)
        print(f"dmp: {absent if absent is not None else _database_error(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
