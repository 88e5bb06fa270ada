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

from openpit.cli_commands import CliError, add_commands
from openpit.config import ConfigError, VenueConfig, load_config, load_demo_config


def _load(path: str | None) -> VenueConfig:
    return load_demo_config() if path is None else load_config(path)


def _cmd_config_check(args: argparse.Namespace) -> int:
    cfg = _load(args.config)
    print(f"{cfg.source}: ok")
    for venue in cfg.venues.values():
        names = [i.id for i in cfg.instruments.values() if i.venue == venue.id]
        print(f"  venue {venue.id}: {', '.join(names) or '(no instruments)'}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from openpit.server.main import serve

    return serve(args)


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
    serve.set_defaults(func=_cmd_serve)

    config = sub.add_parser("config", help="configuration commands")
    config_sub = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    check = config_sub.add_parser("check", help="validate a config file and list instruments")
    check.add_argument("--config", help="openpit.toml (default: the built-in demo config)")
    check.set_defaults(func=_cmd_config_check)
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
