"""``openpit users|keys|token|deposit|withdraw|notify|halt|resume``: operator commands.

Invariants:
- State changes go through a running server's admin API when one answers at
  ``--server`` (default ``http://127.0.0.1:8080``), signed with the admin key that
  ``openpit serve`` wrote to ``--data-dir`` (``admin-key.json``, mode 0600). ``users``
  and ``keys`` work on the data directory directly when no server answers and
  ``--server`` was not given explicitly; the venue's money commands (deposit,
  withdraw, halt, resume, notify) need the server, which owns the journal.
- ``keys rotate-master`` works on the data directory only, and only while no server
  holds it (the data directory's ``LOCK``).
- Operator tokens (``token create``) are minted with the data directory's admin key:
  revoking that key ends them.
- ``--json`` prints exactly one JSON document on stdout; errors go to stderr as one
  line saying what to do (exit status 2).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpit.core.errors import OpenpitError

if TYPE_CHECKING:
    from openpit.api.local import Credentials

DEFAULT_SERVER = "http://127.0.0.1:8080"
DEFAULT_DATA_DIR = "./openpit-data"


class CliError(OpenpitError):
    """A mistake the operator can fix; ``str`` says how."""


# -- plumbing ------------------------------------------------------------------------------


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _print(args: argparse.Namespace, value: Any, human: Callable[[Any], str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(value, indent=2, sort_keys=False))
    else:
        print(human(value))


def _server(args: argparse.Namespace) -> str:
    return str(args.server or os.environ.get("OPENPIT_SERVER") or DEFAULT_SERVER)


def _admin_client(args: argparse.Namespace) -> Any:
    from openpit.api.client import RestClient
    from openpit.api.local import ADMIN_FILE

    data_dir = Path(args.data_dir)
    creds = _read_admin_key(data_dir)
    if creds is None:
        raise CliError(
            f"no admin key at {data_dir / ADMIN_FILE}: start the server once with "
            f"'openpit serve --data-dir {data_dir}', or pass the server's --data-dir"
        )
    return RestClient(_server(args), creds.api_key, creds.api_secret)


def _call(args: argparse.Namespace, method: str, path: str, body: object = None) -> Any:
    from openpit.api.client import ApiClientError, ServerUnreachable

    client = _admin_client(args)
    try:
        return client.request(method, "/api/v1" + path, body)
    except ServerUnreachable as exc:
        raise CliError(f"{exc}: is 'openpit serve' running? (or pass --server URL)") from None
    except ApiClientError as exc:
        hint = ""
        if exc.status == 401:
            hint = ": the admin key in --data-dir does not belong to this server"
        raise CliError(f"server refused: {exc}{hint}") from None


def _read_admin_key(data_dir: str | os.PathLike[str]) -> Credentials | None:
    """The data directory's admin credentials (None if it has none yet)."""
    from openpit.api.local import read_admin_key

    try:
        return read_admin_key(data_dir)
    except OSError as exc:
        raise CliError(
            f"{exc}: check its permissions (run as the operator who runs serve)"
        ) from None


def _use_server(args: argparse.Namespace) -> bool:
    """True: talk to the server; False: work on the data directory (no server runs)."""
    if args.server or os.environ.get("OPENPIT_SERVER"):
        return True
    from openpit.api.client import RestClient

    return RestClient(DEFAULT_SERVER, timeout=2.0).reachable()


@contextmanager
def _offline_store(args: argparse.Namespace) -> Iterator[Any]:
    from openpit.store import SqliteStore

    data_dir = Path(args.data_dir)
    if not data_dir.exists():
        raise CliError(
            f"data directory {data_dir} does not exist: run 'openpit serve --data-dir "
            f"{data_dir}' once, or pass --data-dir"
        )
    store = SqliteStore.in_data_dir(data_dir)
    try:
        yield store
    finally:
        store.close()


def _permissions(text: str) -> list[str]:
    allowed = ("read", "trade", "admin")
    names = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in names if p not in allowed]
    if bad or not names:
        raise CliError(f"--permissions: use a comma-separated subset of {', '.join(allowed)}")
    return names


def _key_row(k: dict[str, Any]) -> str:
    state = "revoked" if k.get("revoked") else "active"
    return f"{k['api_key']}  user={k['user']}  permissions={','.join(k['permissions'])}  {state}"


# -- users -----------------------------------------------------------------------------------


def _users_create(args: argparse.Namespace) -> int:
    if _use_server(args):
        out = _call(args, "POST", "/admin/users", {"user": args.user})
    else:
        from openpit.store import AlreadyExists

        with _offline_store(args) as store:
            try:
                u = store.create_user(args.user, _now_ms())
            except AlreadyExists:
                raise CliError(f"user {args.user!r} already exists") from None
            out = {"id": u.id, "created": u.created}
    _print(args, out, lambda o: f"created user {o['id']}")
    return 0


def _users_list(args: argparse.Namespace) -> int:
    if _use_server(args):
        out = _call(args, "GET", "/admin/users")
    else:
        with _offline_store(args) as store:
            out = [{"id": u.id, "created": u.created} for u in store.list_users()]
    _print(args, out, lambda rows: "\n".join(r["id"] for r in rows) or "(no users)")
    return 0


# -- keys ------------------------------------------------------------------------------------


def _keys_create(args: argparse.Namespace) -> int:
    perms = _permissions(args.permissions)
    if _use_server(args):
        body = {"user": args.user, "permissions": perms, "create_user": not args.no_create_user}
        out = _call(args, "POST", "/admin/keys", body)
    else:
        from openpit.store import Permission
        from openpit.store.keys import new_key

        with _offline_store(args) as store:
            if store.get_user(args.user) is None:
                if args.no_create_user:
                    raise CliError(
                        f"unknown user {args.user!r}: run 'openpit users create --user "
                        f"{args.user}' first (or drop --no-create-user)"
                    )
                store.create_user(args.user, _now_ms())
            key = new_key(args.user, frozenset(Permission(p) for p in perms), _now_ms())
            store.create_api_key(key)
            out = {
                "api_key": key.key_id,
                "api_secret": key.secret,
                "user": key.user,
                "permissions": sorted(p.value for p in key.permissions),
                "created": key.created,
            }
    ordered = {
        "user": out["user"],
        "api_key": out["api_key"],
        "api_secret": out["api_secret"],
        "permissions": out["permissions"],
        "created": out["created"],
    }
    _print(
        args,
        ordered,
        lambda o: (
            f"API key for {o['user']} ({','.join(o['permissions'])})\n"
            f"  api_key     {o['api_key']}\n  api_secret  {o['api_secret']}\n"
            "the secret is shown only once: store it now"
        ),
    )
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    if _use_server(args):
        query = "" if args.user is None else f"?user={args.user}"
        out = _call(args, "GET", "/admin/keys" + query)
    else:
        with _offline_store(args) as store:
            users = [args.user] if args.user else [u.id for u in store.list_users()]
            out = [
                {
                    "api_key": k.key_id,
                    "user": k.user,
                    "permissions": sorted(p.value for p in k.permissions),
                    "created": k.created,
                    "revoked": k.revoked,
                }
                for u in users
                for k in store.list_api_keys(u)
            ]
    _print(args, out, lambda rows: "\n".join(_key_row(r) for r in rows) or "(no keys)")
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    if _use_server(args):
        out = _call(args, "DELETE", f"/admin/keys/{args.api_key}")
    else:
        with _offline_store(args) as store:
            if store.get_api_key(args.api_key) is None:
                raise CliError(f"unknown API key {args.api_key!r} ('openpit keys list' shows them)")
            store.revoke_api_key(args.api_key, _now_ms())
            out = {"api_key": args.api_key, "revoked": True, "connections_closed": 0}
    _print(
        args,
        out,
        lambda o: f"revoked {o['api_key']} ({o['connections_closed']} connections closed)",
    )
    return 0


def _keys_rotate_master(args: argparse.Namespace) -> int:
    from openpit.store import DB_NAME
    from openpit.store.sealing import MASTER_KEY_FILE, rotate_master_key

    data_dir = Path(args.data_dir)
    if not (data_dir / DB_NAME).exists():
        raise CliError(f"no store in {data_dir}: pass the server's --data-dir")
    with _data_dir_unused(data_dir):
        resealed = rotate_master_key(data_dir / DB_NAME)
    out = {"resealed": resealed, "master_key_file": str(data_dir / MASTER_KEY_FILE)}
    _print(
        args,
        out,
        lambda o: f"new master key in {o['master_key_file']}: {o['resealed']} API secrets resealed",
    )
    return 0


@contextmanager
def _data_dir_unused(data_dir: Path) -> Iterator[None]:
    """Hold the data directory's ``LOCK`` (as ``openpit serve`` does) or say who has it."""
    from openpit.durability.private import open_private

    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        yield
        return
    fd = open_private(data_dir / "LOCK", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise CliError(
                f"{data_dir} is in use by a running 'openpit serve': stop it first, then "
                "rotate (the server keeps the current master key open)"
            ) from None
        yield
    finally:
        os.close(fd)


# -- token -------------------------------------------------------------------------------------


def operator_token_key(
    data_dir: str | os.PathLike[str], user: str, *, create: bool = False
) -> tuple[str, bool]:
    """The admin key operator tokens are minted with (created offline if the data
    directory has none yet), and whether ``user`` exists there (created first when
    ``create``)."""
    from openpit.api.local import ensure_admin_key
    from openpit.store import SqliteStore

    creds = _read_admin_key(data_dir)
    store = SqliteStore.in_data_dir(data_dir)
    try:
        if creds is None:
            creds = ensure_admin_key(store, data_dir, _now_ms())
        if create and store.get_user(user) is None:
            store.create_user(user, _now_ms())
        return creds.api_key, store.get_user(user) is not None
    finally:
        store.close()


def _token_create(args: argparse.Namespace) -> int:
    from openpit.api.local import JWT_FILE, token_issuer

    path = Path(args.data_dir) / JWT_FILE
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        raise CliError(
            f"no JWT secret at {path}: start the server once with 'openpit serve "
            f"--data-dir {args.data_dir}'"
        ) from None
    now = _now_ms()
    perms = frozenset(p for p in _permissions(args.permissions) if p in ("read", "trade"))
    admin_key, _ = operator_token_key(args.data_dir, args.user)
    token = token_issuer(secret)(args.user, perms, args.ttl, now, minted_with=admin_key)
    out = {
        "user": args.user,
        "token": token,
        "token_type": "Bearer",
        "expires_at": now // 1000 * 1000 + args.ttl * 1000,
    }
    _print(args, out, lambda o: o["token"])
    return 0


# -- venue operations (server only) ------------------------------------------------------------


def _funds(path: str, verb: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        out = _call(
            args, "POST", path, {"user": args.user, "asset": args.asset, "amount": args.amount}
        )
        _print(
            args,
            out,
            lambda o: (
                f"{verb} {args.amount} {o['asset']} for {o['user']}: available "
                f"{o['balance']['available']}, reserved {o['balance']['reserved']}"
            ),
        )
        return 0

    return run


def _notify(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"title": args.title, "message": args.message, "level": args.level}
    if args.link:
        body["link"] = args.link
    out = _call(args, "POST", "/admin/notifications", body)
    _print(args, out, lambda o: f"notification {o['id']} sent ({o['level']}): {o['title']}")
    return 0


def _halt(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"reason": args.reason}
    if args.until is not None:
        body["until"] = args.until
    out = _call(args, "POST", f"/admin/instruments/{args.symbol}/halt", body)
    _print(args, out, lambda o: f"{o['symbol']} ({o['exchange']}) halted")
    return 0


def _resume(args: argparse.Namespace) -> int:
    out = _call(args, "POST", f"/admin/instruments/{args.symbol}/resume")
    _print(args, out, lambda o: f"{o['symbol']} ({o['exchange']}) trading")
    return 0


# -- parser ------------------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser, *, server: bool = True, json_out: bool = True) -> None:
    p.add_argument(
        "--data-dir",
        default=DEFAULT_DATA_DIR,
        help=f"the server's data directory: admin key, JWT secret, store "
        f"(default {DEFAULT_DATA_DIR})",
    )
    if server:
        p.add_argument(
            "--server",
            help=f"URL of the running server (default $OPENPIT_SERVER or {DEFAULT_SERVER})",
        )
    if json_out:
        p.add_argument("--json", action="store_true", help="print JSON")


def _group(sub: Any, name: str, help_text: str) -> Any:
    group: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    inner = group.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND")

    def show_help(args: argparse.Namespace) -> int:
        group.print_help()
        return 2

    group.set_defaults(func=show_help)
    return inner


def add_commands(sub: Any) -> None:
    """Register the operator commands on the top-level subparsers."""
    users = _group(sub, "users", "manage users")
    p = users.add_parser("create", help="create a user", description="Create a user.")
    p.add_argument("--user", required=True, help="user id (letters, digits, _ . -)")
    _common(p)
    p.set_defaults(func=_users_create)
    p = users.add_parser("list", help="list users", description="List users.")
    _common(p)
    p.set_defaults(func=_users_list)

    keys = _group(sub, "keys", "manage API keys")
    p = keys.add_parser(
        "create",
        help="create an API key (prints the secret once)",
        description="Create an API key for a user; the secret is printed once.",
    )
    p.add_argument("--user", required=True, help="owner of the key")
    p.add_argument("--permissions", default="read,trade", help="comma-separated: read,trade,admin")
    p.add_argument(
        "--no-create-user",
        action="store_true",
        help="fail if the user does not exist (default: create it)",
    )
    _common(p)
    p.set_defaults(func=_keys_create)
    p = keys.add_parser("list", help="list API keys (no secrets)", description="List API keys.")
    p.add_argument("--user", help="only this user's keys")
    _common(p)
    p.set_defaults(func=_keys_list)
    p = keys.add_parser(
        "revoke",
        help="revoke an API key (closes its WebSocket connections)",
        description="Revoke an API key; a running server closes its live connections.",
    )
    p.add_argument("api_key", help="the key id (k_...)")
    _common(p)
    p.set_defaults(func=_keys_revoke)
    p = keys.add_parser(
        "rotate-master",
        help="replace the master key that seals API secrets at rest (server stopped)",
        description="Write a new secrets.key and reseal every API secret in the store with "
        "it (one transaction; an interrupted rotation is finished on the next open). Run it "
        "while the server is stopped.",
    )
    _common(p, server=False)
    p.set_defaults(func=_keys_rotate_master)

    if "token" not in sub.choices:  # the typed-dialect owner may have registered theirs
        token = _group(sub, "token", "JWTs for the typed WebSocket dialect")
        p = token.add_parser(
            "create",
            help="sign a JWT with the data directory's secret",
            description="Sign a JWT (HS256) that the server's typed dialect accepts.",
        )
        p.add_argument("--user", default="demo", help="the token's subject (default demo)")
        p.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
        p.add_argument("--permissions", default="read,trade", help="read,trade")
        _common(p, server=False)
        p.set_defaults(func=_token_create)

    for name, path, verb in (
        ("deposit", "/admin/deposits", "deposited"),
        ("withdraw", "/admin/withdrawals", "withdrew"),
    ):
        p = sub.add_parser(
            name,
            help=f"{name} paper funds (running server)",
            description=f"{name.capitalize()} paper funds for a user (journaled by the server).",
        )
        p.add_argument("--user", required=True)
        p.add_argument("--asset", required=True, help="asset symbol, e.g. USDT")
        p.add_argument("--amount", required=True, help="decimal amount, e.g. 1000.50")
        _common(p)
        p.set_defaults(func=_funds(path, verb))

    p = sub.add_parser(
        "notify",
        help="send a system notification to every client",
        description="Send a system notification (running server).",
    )
    p.add_argument("--title", required=True)
    p.add_argument("--message", required=True)
    p.add_argument("--level", choices=["info", "warning", "critical"], default="info")
    p.add_argument("--link")
    _common(p)
    p.set_defaults(func=_notify)

    p = sub.add_parser(
        "halt", help="halt trading on an instrument", description="Halt an instrument."
    )
    p.add_argument("symbol", help="instrument id, e.g. BTCUSDT")
    p.add_argument("--reason", default="halted by operator")
    p.add_argument("--until", type=int, help="resume automatically at this time (ms)")
    _common(p)
    p.set_defaults(func=_halt)

    p = sub.add_parser(
        "resume", help="resume trading on an instrument", description="Resume an instrument."
    )
    p.add_argument("symbol", help="instrument id, e.g. BTCUSDT")
    _common(p)
    p.set_defaults(func=_resume)
