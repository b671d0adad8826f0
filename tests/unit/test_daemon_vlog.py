"""Stdlib logging dressed as OVS's vlog: line format, destinations, levels, ovs bridge."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import ovs.reconnect
import pytest

from pyovn.daemon import Vlog
from pyovn.daemon.vlog import bridge_ovs_vlog, ovs_library_modules

ROOT = "pyovn.tests_vlog"
FILE_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|(?P<seq>\d{5})\|(?P<module>[^|]+)"
    r"\|(?P<level>[A-Z]+)\|(?P<msg>.*)$")
CONSOLE_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|(?P<seq>\d{5})\|(?P<module>[^|]+)"
    r"\|(?P<level>[A-Z]+)\|(?P<msg>.*)$")


class Setup:
    """A Vlog installed on a private logger, writing to a StringIO and a tmp file."""

    def __init__(self, tmp_path: Path) -> None:
        self.console = io.StringIO()
        self.vlog = Vlog(console=self.console)
        self.log_file = tmp_path / "test.log"
        self.a = logging.getLogger(f"{ROOT}.a")
        self.b = logging.getLogger(f"{ROOT}.b")
        # Installed on "pyovn" as a daemon's would be on the root logger, so that
        # pyovn's own messages ("opened log file") are seen too.
        self.root = logging.getLogger("pyovn")

    def start(self, *specs: str) -> None:
        for spec in specs:
            self.vlog.set_spec(spec)
        self.vlog.install(self.root)
        self.vlog.open_log_file(self.log_file)

    def file_lines(self) -> list[str]:
        return self.log_file.read_text().splitlines()

    def console_lines(self) -> list[str]:
        return self.console.getvalue().splitlines()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    s = Setup(tmp_path)
    s.root.propagate = False
    try:
        yield s
    finally:
        s.vlog.uninstall()
        s.root.propagate = True


def test_file_lines_have_ovs_format_with_milliseconds(setup: Setup) -> None:
    setup.start()
    setup.a.warning("port %s is down", "lsp1")
    last = FILE_LINE.match(setup.file_lines()[-1])
    assert last is not None
    assert (last["module"], last["level"], last["msg"]) == (
        "tests_vlog.a", "WARN", "port lsp1 is down")


def test_first_file_line_says_which_log_file_was_opened(setup: Setup) -> None:
    setup.start()
    first = FILE_LINE.match(setup.file_lines()[0])
    assert first is not None
    assert first["msg"] == f"opened log file {setup.log_file}"
    assert first["seq"] == "00001"


def test_console_lines_have_ovs_format_without_milliseconds(setup: Setup) -> None:
    setup.start()
    setup.a.info("hello")
    last = CONSOLE_LINE.match(setup.console_lines()[-1])
    assert last is not None and last["msg"] == "hello" and last["level"] == "INFO"


def test_one_message_has_one_sequence_number_on_every_destination(setup: Setup) -> None:
    setup.start()
    setup.a.error("one")
    setup.b.error("two")
    file_seqs = [FILE_LINE.match(line)["seq"] for line in setup.file_lines()[-2:]]  # type: ignore[index]
    console_seqs = [CONSOLE_LINE.match(line)["seq"]  # type: ignore[index]
                    for line in setup.console_lines()[-2:]]
    assert file_seqs == console_seqs
    assert int(file_seqs[1]) == int(file_seqs[0]) + 1


def test_level_names_are_ovs_names(setup: Setup) -> None:
    setup.start("dbg")
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR,
                  logging.CRITICAL):
        setup.a.log(level, "x")
    levels = [FILE_LINE.match(line)["level"] for line in setup.file_lines()[-5:]]  # type: ignore[index]
    assert levels == ["DBG", "INFO", "WARN", "ERR", "EMER"]


def test_file_warn_spec_filters_the_file_but_not_the_console(setup: Setup) -> None:
    setup.start("file:warn")
    setup.a.info("routine")
    setup.a.warning("important")
    assert [line.split("|")[-1] for line in setup.file_lines()] == ["important"]
    assert "routine" in setup.console.getvalue()


def test_console_off_writes_nothing_to_the_console(setup: Setup) -> None:
    setup.start("console:off")
    setup.a.error("bad")
    assert setup.console.getvalue() == ""
    assert setup.file_lines()[-1].endswith("|bad")


def test_default_level_info_drops_debug_before_it_is_formatted(setup: Setup) -> None:
    setup.start()
    assert not setup.a.isEnabledFor(logging.DEBUG)
    setup.a.debug("invisible")
    assert "invisible" not in setup.log_file.read_text()


def test_module_spec_enables_debug_for_that_module_only(setup: Setup) -> None:
    setup.start("tests_vlog.a:file:dbg")
    setup.a.debug("a-debug")
    setup.b.debug("b-debug")
    text = setup.log_file.read_text()
    assert "a-debug" in text and "b-debug" not in text
    assert "a-debug" not in setup.console.getvalue()


def test_runtime_spec_change_takes_effect_at_once(setup: Setup) -> None:
    setup.start()
    setup.vlog.set_spec("file:dbg")
    setup.b.debug("now visible")
    assert setup.file_lines()[-1].endswith("|DBG|now visible")


def test_exception_traceback_follows_the_line(setup: Setup) -> None:
    setup.start()
    try:
        raise KeyError("lflow-7")
    except KeyError:
        setup.a.exception("lflow %s failed", "lflow-7")
    text = setup.log_file.read_text()
    assert "|ERR|lflow lflow-7 failed\nTraceback" in text
    assert "KeyError: 'lflow-7'" in text


def test_disable_console_turns_console_off_for_all_modules(setup: Setup) -> None:
    setup.start("dbg")
    setup.vlog.disable_console()
    setup.a.critical("quiet")
    assert "quiet" not in setup.console.getvalue()


def test_reopen_log_file_after_rotation_writes_a_new_file(setup: Setup) -> None:
    setup.start()
    setup.a.warning("before")
    rotated = setup.log_file.with_suffix(".1")
    setup.log_file.rename(rotated)
    setup.vlog.reopen_log_file()
    setup.a.warning("post-rotation")
    assert "post-rotation" not in rotated.read_text()
    assert setup.file_lines()[-1].endswith("|post-rotation")


def test_uninstall_removes_handlers_and_restores_levels(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.root.setLevel(logging.ERROR)
    s.start("tests_vlog.a:dbg")
    assert s.a.level == logging.DEBUG
    s.vlog.uninstall()
    assert s.root.level == logging.ERROR and s.a.level == logging.NOTSET
    assert s.root.handlers == []
    s.root.setLevel(logging.NOTSET)


def test_ovs_library_messages_reach_pyovn_logging_as_ovs_modules(setup: Setup) -> None:
    bridge_ovs_vlog()
    bridge_ovs_vlog()
    assert "ovs.reconnect" in ovs_library_modules()
    root = logging.getLogger("pyovn.ovs")
    seen: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(f"{record.name}|{record.levelname}|{record.getMessage()}")

    handler = Catch()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        ovs.reconnect.vlog.warn("tcp:1.2.3.4: connection dropped")
        ovs.reconnect.vlog.dbg("too detailed")
    finally:
        root.removeHandler(handler)
        root.setLevel(logging.NOTSET)
    assert seen == ["pyovn.ovs.reconnect|WARNING|tcp:1.2.3.4: connection dropped"]
