"""The shared daemon command line: OVN's option spellings and defaults."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from pyovn.daemon import DaemonOptions, add_daemon_args, parse_daemon_args, version_text

ENV = {"OVN_RUNDIR": "/run/test-ovn", "OVS_LOGDIR": "/log/test-ovs"}


def _controller_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyovn-controller")
    parser.add_argument("ovs_remote", nargs="?", default="unix:/default/db.sock")
    add_daemon_args(parser)
    return parser


def _options(*argv: str, env: dict[str, str] = ENV) -> tuple[DaemonOptions, argparse.Namespace]:
    args = parse_daemon_args(_controller_parser(), list(argv))
    return DaemonOptions.from_args(args, "pyovn-controller", env), args


def test_no_options_means_no_pidfile_no_log_file_foreground() -> None:
    opts, _ = _options()
    assert opts.pidfile is None and opts.log_file is None and opts.unixctl is None
    assert not opts.detach and not opts.no_chdir and opts.verbose == ()


def test_bare_pidfile_defaults_to_ovn_rundir_program_pid() -> None:
    opts, _ = _options("--pidfile")
    assert opts.pidfile == Path("/run/test-ovn/pyovn-controller.pid")


def test_rundir_defaults_to_var_run_ovn_without_env() -> None:
    opts, _ = _options("--pidfile", env={})
    assert opts.pidfile == Path("/var/run/ovn/pyovn-controller.pid")
    assert opts.unixctl_path(42) == Path("/var/run/ovn/pyovn-controller.42.ctl")


def test_default_unixctl_socket_contains_the_pid_like_ovn() -> None:
    opts, _ = _options()
    assert opts.unixctl_path(1234) == Path("/run/test-ovn/pyovn-controller.1234.ctl")


def test_relative_pidfile_and_unixctl_are_relative_to_rundir() -> None:
    opts, _ = _options("--pidfile=ctl.pid", "--unixctl=ctl.sock")
    assert opts.pidfile == Path("/run/test-ovn/ctl.pid")
    assert opts.unixctl_path(1) == Path("/run/test-ovn/ctl.sock")


def test_absolute_paths_are_kept() -> None:
    opts, _ = _options("--pidfile=/a/p.pid", "--unixctl=/a/s.ctl", "--log-file=/a/l.log")
    assert (opts.pidfile, opts.unixctl, opts.log_file) == (
        Path("/a/p.pid"), Path("/a/s.ctl"), Path("/a/l.log"))


def test_bare_log_file_defaults_to_ovs_logdir_like_ovn_northd() -> None:
    opts, _ = _options("--log-file")
    assert opts.log_file == Path("/log/test-ovs/pyovn-controller.log")


def test_relative_log_file_is_relative_to_cwd(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    opts, _ = _options("--log-file=x.log")
    assert opts.log_file == tmp_path / "x.log"


def test_bare_optional_flags_do_not_swallow_the_positional_remote() -> None:
    opts, args = _options("--pidfile", "unix:/x/db.sock")
    assert args.ovs_remote == "unix:/x/db.sock"
    assert opts.pidfile == Path("/run/test-ovn/pyovn-controller.pid")
    opts, args = _options("-v", "--log-file", "unix:/y/db.sock")
    assert args.ovs_remote == "unix:/y/db.sock"
    assert opts.verbose == ("dbg",)


def test_verbose_specs_accumulate_in_order_and_bare_v_means_dbg() -> None:
    opts, _ = _options("-vconsole:off", "--verbose=file:dbg", "-v", "-vnorthd:warn")
    assert opts.verbose == ("console:off", "file:dbg", "dbg", "northd:warn")


def test_daemon_flags_are_parsed() -> None:
    opts, _ = _options("--detach", "--no-chdir", "--monitor", "--overwrite-pidfile")
    assert opts.detach and opts.no_chdir and opts.monitor and opts.overwrite_pidfile


def test_dash_dash_stops_the_rewrite() -> None:
    _, args = _options("--", "--pidfile")
    assert args.ovs_remote == "--pidfile"


def test_version_option_prints_program_pyovn_and_version(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _options("-V")
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.strip() == version_text("pyovn-controller")
    assert out.startswith("pyovn-controller (pyovn) ")


def test_help_lists_daemon_and_logging_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _options("-h")
    out = capsys.readouterr().out
    for word in ("--pidfile", "--log-file", "--unixctl", "--detach", "--no-chdir",
                 "--monitor", "--verbose", "--version"):
        assert word in out
