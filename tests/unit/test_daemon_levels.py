"""OVS's -v spec language and the module-by-destination level table."""

from __future__ import annotations

import logging

import pytest

from pyovn.daemon.levels import OFF, VlogLevels, level_text, logger_name_of, module_of

MODULES = ["northd", "northd.lflow", "controller.ofctrl", "ovs.reconnect"]


def _levels() -> VlogLevels:
    return VlogLevels(known_modules=lambda: MODULES)


def test_everything_starts_at_info() -> None:
    levels = _levels()
    for module in MODULES:
        for dest in ("console", "syslog", "file"):
            assert levels.level(module, dest) == logging.INFO


def test_bare_level_sets_every_module_and_destination() -> None:
    levels = _levels()
    levels.set_spec("dbg")
    assert levels.level("controller.ofctrl", "file") == logging.DEBUG
    assert levels.level("northd", "console") == logging.DEBUG


def test_destination_and_level_leave_other_destinations_alone() -> None:
    levels = _levels()
    levels.set_spec("console:off")
    levels.set_spec("file:warn")
    assert levels.level("northd", "console") == OFF
    assert levels.level("northd", "file") == logging.WARNING
    assert levels.level("northd", "syslog") == logging.INFO


def test_module_level_applies_to_its_submodules_only() -> None:
    levels = _levels()
    levels.set_spec("northd:file:dbg")
    assert levels.level("northd", "file") == logging.DEBUG
    assert levels.level("northd.lflow", "file") == logging.DEBUG
    assert levels.level("northd.lflow", "console") == logging.INFO
    assert levels.level("controller.ofctrl", "file") == logging.INFO


def test_omitted_level_means_dbg_as_in_ovs() -> None:
    levels = _levels()
    levels.set_spec("northd")
    assert all(levels.level("northd", d) == logging.DEBUG for d in ("console", "syslog", "file"))


def test_any_and_separators_spaces_commas_colons() -> None:
    levels = _levels()
    levels.set_spec("ANY, file  err")
    assert levels.level("northd", "file") == logging.ERROR
    levels.set_spec("northd.lflow,console,emer")
    assert levels.level("northd.lflow", "console") == logging.CRITICAL


def test_later_any_spec_overrides_module_settings_like_ovs() -> None:
    levels = _levels()
    levels.set_spec("northd:file:dbg")
    levels.set_spec("file:err")
    assert levels.level("northd", "file") == logging.ERROR


def test_submodule_setting_wins_over_parent_setting() -> None:
    levels = _levels()
    levels.set_spec("northd.lflow:file:dbg")
    levels.set_spec("northd:file:err")
    assert levels.level("northd", "file") == logging.ERROR
    assert levels.level("northd.lflow", "file") == logging.ERROR
    levels.set_spec("northd.lflow:file:warn")
    assert levels.level("northd.lflow", "file") == logging.WARNING
    assert levels.level("northd", "file") == logging.ERROR


@pytest.mark.parametrize(("spec", "message"), [
    ("foo:dbg", 'no destination, level, or module "foo"'),
    ("console:info:warn", "cannot specify multiple levels"),
    ("console:file", "cannot specify multiple destinations"),
    ("northd:ovs.reconnect", "cannot specify multiple modules"),
])
def test_bad_specs_are_refused_with_ovs_words(spec: str, message: str) -> None:
    levels = _levels()
    with pytest.raises(ValueError, match=message):
        levels.set_spec(spec)


def test_threshold_is_the_lowest_level_any_destination_accepts() -> None:
    levels = _levels()
    levels.set_spec("console:off")
    levels.set_spec("northd:file:dbg")
    assert levels.threshold() == logging.INFO
    assert levels.threshold("northd.lflow") == logging.DEBUG


def test_on_change_is_called_after_each_change() -> None:
    calls: list[int] = []
    levels = VlogLevels(lambda: MODULES, on_change=lambda: calls.append(1))
    levels.set_spec("dbg")
    levels.set_level("northd", "file", logging.ERROR)
    assert len(calls) == 2


def test_list_text_matches_ovs_vlog_list_layout() -> None:
    levels = _levels()
    levels.set_spec("console:off")
    levels.set_spec("northd:file:err")
    text = levels.list_text()
    lines = text.splitlines()
    assert lines[0] == "                 console    syslog    file"
    assert lines[1] == "                 -------    ------    ------"
    assert "northd             OFF       INFO        ERR" in lines
    assert "ovs.reconnect      OFF       INFO       INFO" in lines
    assert [line.split()[0] for line in lines[2:]] == sorted(MODULES)


def test_level_text_and_module_names() -> None:
    assert [level_text(v) for v in (OFF, 50, 40, 30, 20, 10)] == [
        "OFF", "EMER", "ERR", "WARN", "INFO", "DBG"]
    assert module_of("pyovn.northd.lflow") == "northd.lflow"
    assert module_of("other.lib") == "other.lib"
    assert logger_name_of("controller.ofctrl") == "pyovn.controller.ofctrl"
