"""The module-by-destination table of log levels, and OVS's ``-v`` spec language.

A *module* is a logger's name without the ``pyovn.`` prefix (``northd.lflow`` is the
logger ``pyovn.northd.lflow``; the ovs library's own modules are ``ovs.reconnect`` …).
Modules nest: a level set on ``northd`` holds for ``northd.lflow`` too, unless
``northd.lflow`` was given its own. *Destinations* are OVS's ``console``, ``syslog`` and
``file``; pyovn keeps a level for ``syslog`` so that OVS command lines and ``vlog/list``
read the same, but writes nothing to syslog.

A spec is words separated by spaces, commas or colons: at most one module (or ``any``),
one destination (or ``any``) and one level (``off emer err warn info dbg``); an omitted
level means ``dbg``. ``-vdbg``, ``-vconsole:off``, ``-vfile:warn``,
``-vnorthd:file:dbg`` all work as in OVS, and errors use OVS's words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

ROOT_LOGGER = "pyovn"
DESTINATIONS = ("console", "syslog", "file")
OFF = logging.CRITICAL + 10

#: OVS level names, most severe first, to stdlib numeric levels.
LEVELS: dict[str, int] = {
    "off": OFF,
    "emer": logging.CRITICAL,
    "err": logging.ERROR,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "dbg": logging.DEBUG,
}
_LEVEL_TEXT = {OFF: "OFF", logging.CRITICAL: "EMER", logging.ERROR: "ERR",
               logging.WARNING: "WARN", logging.INFO: "INFO", logging.DEBUG: "DBG"}
_SPEC_SEPARATORS = re.compile(r"[\s,:]+")


def level_text(levelno: int) -> str:
    """OVS's upper-case name of a stdlib level (``WARN`` for 30; nearest lower one)."""
    for value in sorted(_LEVEL_TEXT, reverse=True):
        if levelno >= value:
            return _LEVEL_TEXT[value]
    return "DBG"


def module_of(logger_name: str) -> str:
    """The vlog module of the logger ``logger_name`` (``pyovn.`` prefix removed)."""
    if logger_name.startswith(ROOT_LOGGER + "."):
        return logger_name[len(ROOT_LOGGER) + 1:]
    return logger_name


def logger_name_of(module: str) -> str:
    """The logger name behind the vlog module ``module``."""
    return f"{ROOT_LOGGER}.{module}"


def pyovn_modules() -> list[str]:
    """Modules of every ``pyovn.*`` logger created so far (including parents)."""
    names = logging.Logger.manager.loggerDict
    return sorted(module_of(n) for n in list(names) if n.startswith(ROOT_LOGGER + "."))


class VlogLevels:
    """The level of every (module, destination) pair; all ``info`` to begin with.

    ``known_modules`` lists the modules a spec may name (a typo is an error, as in
    OVS). ``on_change`` is called after every change, so that logger thresholds can
    follow. Pure logic: no handler, no I/O.
    """

    def __init__(self, known_modules: Callable[[], Iterable[str]] = pyovn_modules,
                 on_change: Callable[[], None] | None = None) -> None:
        self._known_modules = known_modules
        self.on_change = on_change
        self._default = dict.fromkeys(DESTINATIONS, logging.INFO)
        self._overrides: dict[str, dict[str, int]] = {}
        self._cache: dict[tuple[str, str], int] = {}

    def level(self, module: str, destination: str) -> int:
        """The level in force for ``module`` at ``destination``."""
        key = (module, destination)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._levels_of(module)[destination]
            self._cache[key] = cached
        return cached

    def _levels_of(self, module: str) -> dict[str, int]:
        name = module
        while True:
            levels = self._overrides.get(name)
            if levels is not None:
                return levels
            if "." not in name:
                return self._default
            name = name.rsplit(".", 1)[0]

    def threshold(self, module: str | None = None) -> int:
        """The lowest level any destination accepts for ``module`` (None: the default)."""
        levels = self._default if module is None else self._levels_of(module)
        return min(levels.values())

    def overridden_modules(self) -> list[str]:
        """Modules that were given levels of their own."""
        return sorted(self._overrides)

    def set_level(self, module: str | None, destination: str | None, level: int) -> None:
        """Set ``level`` for ``module`` (None: all) at ``destination`` (None: all)."""
        dests = DESTINATIONS if destination is None else (destination,)
        if module is None:
            targets = [self._default, *self._overrides.values()]
        else:
            if module not in self._overrides:
                self._overrides[module] = dict(self._levels_of(module))
            prefix = module + "."
            targets = [levels for name, levels in self._overrides.items()
                       if name == module or name.startswith(prefix)]
        for levels in targets:
            for dest in dests:
                levels[dest] = level
        self._cache.clear()
        if self.on_change is not None:
            self.on_change()

    def set_spec(self, spec: str) -> None:
        """Apply one OVS ``-v`` / ``vlog/set`` spec; ValueError (OVS's words) if bad."""
        module: str | None = None
        destination: str | None = None
        level: int | None = None
        known: set[str] | None = None
        for word in _SPEC_SEPARATORS.split(spec.strip()):
            lower = word.lower()
            if not word or lower == "any":
                continue
            if lower in ("pattern", "facility"):
                raise ValueError(f'"{word}" settings are not supported by pyovn')
            if lower in DESTINATIONS:
                if destination is not None:
                    raise ValueError("cannot specify multiple destinations")
                destination = lower
            elif lower in LEVELS:
                if level is not None:
                    raise ValueError("cannot specify multiple levels")
                level = LEVELS[lower]
            else:
                if known is None:
                    known = {*self._known_modules(), *self._overrides}
                if word not in known:
                    raise ValueError(f'no destination, level, or module "{word}"')
                if module is not None:
                    raise ValueError("cannot specify multiple modules")
                module = word
        self.set_level(module, destination, logging.DEBUG if level is None else level)

    def list_text(self) -> str:
        """The ``vlog/list`` table, laid out as OVS lays it out."""
        modules = sorted({*self._known_modules(), *self._overrides})
        lines = ["                 console    syslog    file",
                 "                 -------    ------    ------"]
        for module in modules:
            console, syslog, file_ = (level_text(self.level(module, d)) for d in DESTINATIONS)
            lines.append(f"{module:<16}  {console:>4}       {syslog:>4}       {file_:>4}")
        return "\n".join(lines) + "\n"
