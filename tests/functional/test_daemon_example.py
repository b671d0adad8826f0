"""A real daemon process on the shared scaffolding, driven with ovn-appctl / ovs-appctl.

The example daemon (``python -m pyovn.daemon.example``) goes through the same
``run_daemon`` / ``DaemonLoop`` code as pyovn-northd and pyovn-controller.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pyovn.daemon import version_text
from pyovn.sandbox import procs

pytestmark = pytest.mark.functional

PROGRAM = "pyovn-example"
EXAMPLE = [sys.executable, "-m", "pyovn.daemon.example"]
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|\d{5}\|(?P<module>[^|]+)\|(?P<level>[A-Z]+)"
    r"\|(?P<msg>.*)$")


def appctl(rundir: Path, target: Path | str, *args: str,
           tool: str = "ovn-appctl") -> subprocess.CompletedProcess[str]:
    """Run ``ovn-appctl -t TARGET ARGS`` with the sandbox environment."""
    return subprocess.run([procs.find_program(tool), "-t", str(target), *args],
                          env=procs.ovs_env(rundir), capture_output=True, text=True,
                          timeout=20, check=False)


def wait_for(condition: str, check: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll ``check()`` until it is true or fail the test naming ``condition``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {condition}")


def log_messages(logfile: Path) -> list[tuple[str, str, str]]:
    """(module, level, message) of every OVS-format line of ``logfile``."""
    out = []
    for line in logfile.read_text().splitlines():
        m = LOG_LINE.match(line)
        if m:
            out.append((m["module"], m["level"], m["msg"]))
    return out


@pytest.fixture
def example(rundir: Path) -> Iterator[procs.Daemon]:
    """The example daemon, detached, with pidfile, log file and socket in ``rundir``."""
    daemon = procs.start_detached(rundir, PROGRAM, EXAMPLE)
    try:
        yield daemon
    finally:
        procs.stop_daemon(daemon)


@contextmanager
def foreground(rundir: Path, *extra: str) -> Iterator[subprocess.Popen[str]]:
    """The example daemon in the foreground (our child), ready when the block starts."""
    ctl = rundir / f"{PROGRAM}.ctl"
    proc = subprocess.Popen(
        [*EXAMPLE, f"--pidfile={rundir / PROGRAM}.pid", f"--unixctl={ctl}",
         f"--log-file={rundir / PROGRAM}.log", *extra],
        env=procs.ovs_env(rundir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for("the control socket", lambda: ctl.exists() or proc.poll() is not None)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_version_names_program_and_pyovn_version(rundir: Path,
                                                  example: procs.Daemon) -> None:
    result = appctl(rundir, example.ctl, "version")
    assert (result.returncode, result.stdout) == (0, version_text(PROGRAM) + "\n")
    assert result.stdout.startswith("pyovn-example (pyovn) 0.1.0")


def test_ovs_appctl_works_as_well(rundir: Path, example: procs.Daemon) -> None:
    result = appctl(rundir, example.ctl, "version", tool="ovs-appctl")
    assert (result.returncode, result.stdout) == (0, version_text(PROGRAM) + "\n")


def test_exit_stops_the_daemon_and_removes_pidfile_and_socket(
        rundir: Path, example: procs.Daemon) -> None:
    pid = example.pid()
    assert pid is not None and procs.pid_alive(pid)
    result = appctl(rundir, example.ctl, "exit")
    assert result.returncode == 0, result.stderr
    wait_for("the daemon to exit", lambda: not procs.pid_alive(pid))
    assert not example.pidfile.exists()
    assert not example.ctl.exists()
    assert log_messages(example.logfile)[-1] == ("daemon.loop", "INFO", f"{PROGRAM} exiting")


def test_default_socket_is_found_by_program_name_through_ovn_rundir(rundir: Path) -> None:
    # No --unixctl: the socket is $OVN_RUNDIR/PROGRAM.PID.ctl, and ovn-appctl -t PROGRAM
    # finds it from the (locked) pidfile, as it finds ovn-northd's.
    started = subprocess.run([*EXAMPLE, "--pidfile", "--detach", "--no-chdir"],
                             env=procs.ovs_env(rundir), capture_output=True, text=True,
                             timeout=30, check=False)
    assert started.returncode == 0, started.stderr
    pid = int((rundir / f"{PROGRAM}.pid").read_text())
    assert (rundir / f"{PROGRAM}.{pid}.ctl").exists()
    result = appctl(rundir, PROGRAM, "version")
    assert (result.returncode, result.stdout) == (0, version_text(PROGRAM) + "\n")
    assert appctl(rundir, PROGRAM, "exit").returncode == 0
    wait_for("the daemon to exit", lambda: not procs.pid_alive(pid))
    assert sorted(p.name for p in rundir.iterdir()) == []


def test_engine_commands_reach_the_engine(rundir: Path, example: procs.Daemon) -> None:
    def recomputes() -> list[int]:
        out = appctl(rundir, example.ctl, "inc-engine/show-stats").stdout
        return [int(n) for n in re.findall(r"- recompute:\s+(\d+)", out)]

    assert recomputes() == [1, 1]
    assert appctl(rundir, example.ctl, "inc-engine/recompute").returncode == 0
    assert recomputes() == [2, 2]
    assert appctl(rundir, example.ctl, "inc-engine/clear-stats").returncode == 0
    assert recomputes() == [0, 0]
    one = appctl(rundir, example.ctl, "inc-engine/show-stats", "example_output")
    assert one.stdout.splitlines()[0] == "Node: example_output"
    assert "example_input" not in one.stdout
    bad = appctl(rundir, example.ctl, "inc-engine/show-stats", "bogus")
    assert bad.returncode == 2 and bad.stderr.startswith('no engine node "bogus"')


def test_connection_status_is_served(rundir: Path, example: procs.Daemon) -> None:
    assert appctl(rundir, example.ctl, "connection-status").stdout == "connected\n"


@pytest.mark.parametrize(("args", "error"), [
    (["nosuch"], '"nosuch" is not a valid command (use "list-commands" to see a list of '
                 "valid commands)"),
    (["version", "extra"], '"version" command takes at most 0 arguments'),
    (["example/log-repeat", "k"], '"example/log-repeat" command requires at least 2 arguments'),
    (["example/fail"], "example/fail always fails"),
])
def test_bad_requests_get_ovs_error_text_and_exit_status_2(
        rundir: Path, example: procs.Daemon, args: list[str], error: str) -> None:
    result = appctl(rundir, example.ctl, *args)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == error
    assert "server returned an error" in result.stderr
    assert appctl(rundir, example.ctl, "version").returncode == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_0_and_removes_pidfile_and_socket(rundir: Path, signum: int) -> None:
    with foreground(rundir) as proc:
        assert (rundir / f"{PROGRAM}.pid").read_text() == f"{proc.pid}\n"
        proc.send_signal(signum)
        assert proc.wait(10) == 0
    assert sorted(p.name for p in rundir.iterdir()) == [f"{PROGRAM}.log"]
    messages = [m for _, _, m in log_messages(rundir / f"{PROGRAM}.log")]
    assert f"terminating with signal {signum} ({signal.strsignal(signum)})" in messages
    assert "example daemon shutting down" in messages


def test_detach_returns_when_ready_and_second_start_is_refused(
        rundir: Path, example: procs.Daemon) -> None:
    # start_detached returned: the socket must already be there, no waiting.
    pid = example.pid()
    assert pid is not None and procs.pid_alive(pid) and example.ctl.exists()
    again = subprocess.run(
        [*EXAMPLE, f"--pidfile={example.pidfile}", f"--unixctl={rundir}/second.ctl",
         "--detach", "--no-chdir"],
        env=procs.ovs_env(rundir), capture_output=True, text=True, timeout=30, check=False)
    assert again.returncode == 1
    assert f"{example.pidfile}: already running as pid {pid}, aborting" in again.stderr
    assert not (rundir / "second.ctl").exists()
    assert example.pid() == pid and procs.pid_alive(pid)
    assert appctl(rundir, example.ctl, "version").returncode == 0


def test_restart_after_kill_9_takes_over_the_stale_pidfile(
        rundir: Path, example: procs.Daemon) -> None:
    pid = example.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_for("the daemon to die", lambda: not procs.pid_alive(pid))
    assert example.pidfile.exists()
    restarted = procs.start_detached(rundir, PROGRAM, EXAMPLE)
    new_pid = restarted.pid()
    assert new_pid is not None and new_pid != pid and procs.pid_alive(new_pid)
    assert appctl(rundir, restarted.ctl, "version").returncode == 0


def test_log_file_is_written_in_ovs_format(rundir: Path, example: procs.Daemon) -> None:
    logged = appctl(rundir, example.ctl, "example/log", "warn", "port", "lsp1", "down")
    assert logged.returncode == 0
    lines = example.logfile.read_text().splitlines()
    assert all(LOG_LINE.match(line) for line in lines), lines
    messages = log_messages(example.logfile)
    assert messages[0] == ("daemon.vlog", "INFO", f"opened log file {example.logfile}")
    assert messages[-1] == ("daemon.example", "WARN", "port lsp1 down")
    seqs = [int(line.split("|")[1]) for line in lines]
    assert seqs == list(range(1, len(lines) + 1))


def test_verbose_levels_filter_what_reaches_the_log_file(rundir: Path) -> None:
    with foreground(rundir, "-vfile:warn", "-vdaemon.example:file:dbg") as proc:
        ctl = rundir / f"{PROGRAM}.ctl"
        for level in ("dbg", "info", "warn"):
            assert appctl(rundir, ctl, "example/log", level, f"at-{level}").returncode == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    messages = log_messages(rundir / f"{PROGRAM}.log")
    assert [m for mod, _, m in messages if mod == "daemon.example"] == [
        "at-dbg", "at-info", "at-warn", "example daemon shutting down"]
    # Other modules stay at warn: no INFO from the loop, no DBG from unixctl.
    assert {lvl for mod, lvl, _ in messages if mod != "daemon.example"} <= {"WARN", "ERR"}


def test_vlog_set_changes_levels_at_run_time(rundir: Path, example: procs.Daemon) -> None:
    assert appctl(rundir, example.ctl, "example/log", "dbg", "hidden").returncode == 0
    assert appctl(rundir, example.ctl, "vlog/set", "daemon.example:file:dbg").returncode == 0
    listing = appctl(rundir, example.ctl, "vlog/list").stdout
    assert re.search(r"^daemon\.example\s+OFF\s+INFO\s+DBG$", listing, re.MULTILINE)
    assert appctl(rundir, example.ctl, "example/log", "dbg", "shown").returncode == 0
    messages = [m for _, _, m in log_messages(example.logfile)]
    assert "shown" in messages and "hidden" not in messages
    bad = appctl(rundir, example.ctl, "vlog/set", "nonsense:dbg")
    assert bad.returncode == 2
    assert bad.stderr.startswith('no destination, level, or module "nonsense"')


def test_repeated_messages_are_rate_limited_in_the_log(rundir: Path,
                                                       example: procs.Daemon) -> None:
    result = appctl(rundir, example.ctl, "example/log-repeat", "lsp7", "10")
    assert result.stdout == "logged 3, suppressed 7\n"
    repeats = [m for _, _, m in log_messages(example.logfile) if "lsp7" in m]
    assert repeats == ["repeated event for lsp7"] * 3


def test_crash_in_the_main_loop_exits_1_logs_traceback_and_cleans_up(rundir: Path) -> None:
    with foreground(rundir) as proc:
        assert appctl(rundir, rundir / f"{PROGRAM}.ctl", "example/crash").returncode == 0
        assert proc.wait(10) == 1
    text = (rundir / f"{PROGRAM}.log").read_text()
    assert "|daemon.loop|EMER|pyovn-example: fatal error\nTraceback" in text
    assert "RuntimeError: crash requested over unixctl" in text
    assert sorted(p.name for p in rundir.iterdir()) == [f"{PROGRAM}.log"]


@pytest.mark.parametrize("detach", [False, True])
def test_bad_verbose_spec_refuses_to_start(rundir: Path, detach: bool) -> None:
    result = subprocess.run(
        [*EXAMPLE, "--pidfile", "-vbogus:dbg", *(["--detach"] if detach else [])],
        env=procs.ovs_env(rundir), capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert ('pyovn-example: processing "bogus:dbg": no destination, level, or module '
            '"bogus"') in result.stderr
    assert list(rundir.iterdir()) == []


def test_unusable_control_socket_path_fails_cleanly(rundir: Path) -> None:
    result = subprocess.run(
        [*EXAMPLE, "--pidfile", f"--unixctl={rundir}/missing-dir/x.ctl", "--detach"],
        env=procs.ovs_env(rundir), capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert "could not initialize control socket" in result.stderr
    assert list(rundir.iterdir()) == []
