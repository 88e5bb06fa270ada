"""The ``openpit`` command line.

Every command has ``--help``; errors are one line saying what to do, exit status 2.
Commands that change state talk to a running server through the admin REST API
(signed with the admin key in ``--data-dir``); ``users`` and ``keys`` fall back to the
data directory itself when no server runs there. ``--json`` prints machine-readable
output on every command that creates or lists something. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from openpit.cli_commands import CliError, add_commands, operator_token_key
from openpit.config import ConfigError, VenueConfig, load_config, load_demo_config


def _load(path: str | None) -> VenueConfig:
    return load_demo_config() if path is None else load_config(path)


def _cmd_config_check(args: argparse.Namespace) -> int:
    from openpit.server.main import check_server_table

    cfg = _load(args.config)
    check_server_table(cfg)
    print(f"{cfg.source}: ok")
    for venue in cfg.venues.values():
        names = [i.id for i in cfg.instruments.values() if i.venue == venue.id]
        print(f"  venue {venue.id}: {', '.join(names) or '(no instruments)'}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from openpit.server.main import serve

    return serve(args)


def _cmd_token_create(args: argparse.Namespace) -> int:
    import json
    import time

    from openpit.server.tokens import jwt_settings

    if args.ttl <= 0:
        raise ConfigError(f"--ttl must be a positive number of seconds, got {args.ttl}")
    settings = jwt_settings(_load(args.config), args.data_dir)
    now = int(time.time())
    admin_key, user_known = operator_token_key(args.data_dir, args.user, create=args.create)
    if not user_known:
        raise ConfigError(
            f"no user {args.user!r} in {args.data_dir}: the server would refuse this token; "
            f"pass --create to create the user, or 'openpit users create --user {args.user}'"
        )
    token = settings.issue(args.user, args.ttl, now, minted_with=admin_key)
    if args.json:
        print(
            json.dumps(
                {
                    "token": token,
                    "user": args.user,
                    "algorithm": settings.algorithm,
                    "expires_at": (now + args.ttl) * 1000,
                }
            )
        )
    else:
        print(token)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openpit", description="openpit: a trading venue in a box."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="start the venue, simulator and gateway")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    serve.add_argument("--port", type=int, default=8080, help="HTTP and WebSocket port")
    serve.add_argument("--config", help="openpit.toml (default: the built-in demo config)")
    serve.add_argument("--data-dir", default="./openpit-data", help="journal, snapshots, store")
    serve.add_argument(
        "--fsync",
        choices=["always", "batch", "off"],
        default="batch",
        help="journal durability (off is unsafe: a crash loses acknowledged orders)",
    )
    serve.add_argument("--no-simulator", action="store_true", help="do not run the simulator")
    serve.add_argument("--seed", type=int, default=1, help="simulator seed")
    serve.add_argument(
        "--tls",
        choices=["self-signed"],
        help="serve https:// and wss:// with a certificate for localhost/127.0.0.1/::1 "
        "made in the data directory on first use (tls/cert.pem, key 0600)",
    )
    serve.add_argument("--tls-cert", metavar="FILE", help="PEM certificate (chain): https/wss")
    serve.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
    serve.set_defaults(func=_cmd_serve)

    config = sub.add_parser("config", help="configuration commands")
    config_sub = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    check = config_sub.add_parser("check", help="validate a config file and list instruments")
    check.add_argument("--config", help="openpit.toml (default: the built-in demo config)")
    check.set_defaults(func=_cmd_config_check)

    token = sub.add_parser("token", help="JWTs for the typed WebSocket dialect (spec 004)")
    token_sub = token.add_subparsers(dest="token_command", metavar="SUBCOMMAND")
    create = token_sub.add_parser(
        "create",
        help="print a signed token for a user",
        description="Sign a JWT (sub = user, exp = now + ttl) with the server's secret: "
        "[server] jwt_secret in the config, else the data directory's jwt-secret file "
        '(created on first use). Send it as {"type":"authenticate","token":...}. '
        "The user must exist (or pass --create). There is no --server: the token is signed "
        "locally with the secret the server of that data directory reads, so no request "
        "is needed; over HTTP, a user mints their own with POST /api/v1/tokens.",
    )
    create.add_argument(
        "--create", action="store_true", help="create the user first if it does not exist"
    )
    create.add_argument("--user", required=True, help="user id (the token's sub)")
    create.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    create.add_argument("--json", action="store_true", help="print JSON with the expiry")
    create.add_argument("--config", help="openpit.toml (default: the built-in demo config)")
    create.add_argument("--data-dir", default="./openpit-data", help="where jwt-secret lives")
    create.set_defaults(func=_cmd_token_create)
    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        result: int = func(args)
    except (ConfigError, CliError) as exc:
        print(f"openpit: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    raise SystemExit(main())
