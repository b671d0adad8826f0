"""The ``pyovn`` command: ``pyovn sandbox start|stop|status|env`` and ``pyovn demo``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pyovn import __version__
from pyovn.errors import PyovnError
from pyovn.sandbox.sandbox import STACKS, Sandbox, SandboxConfig


def _default_dir() -> Path:
    return Path(os.environ.get("PYOVN_SANDBOX", "sandbox"))


def _add_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", type=Path, default=_default_dir(),
                   help="sandbox directory (default: $PYOVN_SANDBOX or ./sandbox)")


def _add_stack(p: argparse.ArgumentParser, northd: str, controller: str) -> None:
    p.add_argument("--northd", choices=STACKS, default=northd,
                   help=f"which northd runs (default: {northd})")
    p.add_argument("--controller", choices=STACKS, default=controller,
                   help=f"which controller runs (default: {controller})")
    p.add_argument("--datapath-type", choices=("dummy", "netdev"), default="dummy",
                   help="br-int datapath type (default: dummy; see README)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pyovn`` command."""
    parser = argparse.ArgumentParser(prog="pyovn", description=__doc__)
    parser.add_argument("--version", action="version", version=f"pyovn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sandbox = sub.add_parser("sandbox", help="a throw-away OVN deployment in a directory")
    ssub = sandbox.add_subparsers(dest="action", required=True)
    start = ssub.add_parser("start", help="create databases and start every process")
    _add_dir(start)
    _add_stack(start, "pyovn", "pyovn")
    for name, help_text in (("stop", "stop every process and remove the VMs"),
                            ("status", "show the processes and VMs"),
                            ("env", "print export lines for ovn-nbctl, ovs-vsctl, ...")):
        _add_dir(ssub.add_parser(name, help=help_text))

    demo = sub.add_parser("demo", help="two namespace VMs ping through the sandbox")
    _add_dir(demo)
    _add_stack(demo, "pyovn", "pyovn")
    demo.add_argument("--keep", action="store_true",
                      help="leave the sandbox and VMs running at the end")
    return parser


def _sandbox_command(args: argparse.Namespace) -> int:
    sandbox = Sandbox(args.dir)
    if args.action == "start":
        sandbox.start(SandboxConfig(northd=args.northd, controller=args.controller,
                                    datapath_type=args.datapath_type))
        print(f"# sandbox started in {sandbox.dir} "
              f"(northd={args.northd}, controller={args.controller})", file=sys.stderr)
        print(f"# use it with: eval \"$(pyovn sandbox env --dir {sandbox.dir})\"",
              file=sys.stderr)
        print(sandbox.export_lines(), end="")
    elif args.action == "stop":
        stopped = sandbox.stop()
        print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
    elif args.action == "status":
        print(sandbox.status())
        return 0 if sandbox.running() else 3
    else:
        print(sandbox.export_lines(), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pyovn`` command."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "sandbox":
            return _sandbox_command(args)
        from pyovn.cli.demo import run_demo

        return run_demo(args)
    except PyovnError as exc:
        print(f"pyovn: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
