"""What each logical flow's translation read, so that a change re-translates only its readers.

DESIGN.md section 5's resource → lflow index, in the form ovn-controller's
``objdep`` manager has it, plus the values read, which makes it a cache too:

- :class:`Resources` holds what a translation may look up besides the lflow row —
  port and multicast group tunnel keys by (datapath UUID, name) for every datapath,
  address sets and port groups by SB name, the ports claimed by this chassis and the
  iface-ids of its interfaces (which decide the ports *related* to it).  The
  lflow_output node keeps it current from the change sets, one row at a time.
- :class:`Recorder` hands the translator a :class:`~pyovn.lflow.translate.Lookups`
  whose every look-up is written down as a dependency (``("port", dp, name)``,
  ``("as", name)``, ``("pg", name)``, ``("resident", port)``) with the value it
  returned (``("related", dp, key)`` for ``is_related_port``) — including look-ups
  that found nothing, so that creating the missing
  resource later re-translates the flow that named it.
- :class:`DepIndex` keeps both directions: an lflow's dependencies with their
  values, and the lflows that read each resource.  A change to a resource
  re-translates the readers that got another value than it holds now
  (:meth:`DepIndex.stale_readers`); a recompute reuses an lflow's flows when its row,
  datapaths and every recorded value are unchanged (:meth:`DepIndex.still_valid`),
  which is ovn-controller's lflow cache (bounded by the lflows, not by a size).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from pyovn.controller.extend_table import IdTable
from pyovn.controller.ofctrl_meters import METER_STRING, MeterEntry, parse_meter_string
from pyovn.lflow.action_parser import GenOptionDef
from pyovn.lflow.translate import ConjIdAllocator, Lookups, ParseCache
from pyovn.openflow import GroupEntry
from pyovn.openflow.parse import parse_group

__all__ = ["DepIndex", "DepKey", "Recorder", "Resources"]

#: ("port", datapath uuid, name) | ("as", name) | ("pg", name) | ("resident", port)
#: | ("related", datapath uuid, port tunnel key as text) | ("dhcp",) | ("meter", name)
DepKey = tuple[str, ...]

#: Port_Binding types related to every chassis that has their datapath (binding.c).
_ALWAYS_RELATED = frozenset({"patch", "localnet", "l2gateway"})


@dataclass
class Resources:
    """What lflow translations look up, besides the lflow itself (see the module doc)."""

    pb_ports: dict[tuple[str, str], int] = field(default_factory=dict)
    mc_groups: dict[tuple[str, str], int] = field(default_factory=dict)
    address_sets: dict[str, Sequence[str]] = field(default_factory=dict)
    port_groups: dict[str, Sequence[str]] = field(default_factory=dict)
    claimed: frozenset[str] = frozenset()
    local_ifaces: frozenset[str] = frozenset()
    #: (datapath uuid, tunnel key) -> (logical_port, type) of every Port_Binding
    pb_by_key: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)
    #: logical_port -> (datapath uuid, tunnel key)
    pb_where: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: SB DHCP_Options / DHCPv6_Options by name; ``dhcp_version`` counts their changes
    dhcp_opts: dict[str, GenOptionDef] = field(default_factory=dict)
    dhcpv6_opts: dict[str, GenOptionDef] = field(default_factory=dict)
    dhcp_version: int = 0
    #: SB Meter rows by name, as meters (id 0)
    meters: dict[str, MeterEntry] = field(default_factory=dict)

    def related(self, dp_uuid: str, key: int) -> bool:
        """Whether the switch port is related to this chassis, as ovn-controller's
        ``related_lports``: claimed here, a patch, localnet or l2gateway port, or a
        localport with an interface here."""
        found = self.pb_by_key.get((dp_uuid, key))
        if found is None:
            return False
        name, kind = found
        return (name in self.claimed or kind in _ALWAYS_RELATED
                or (kind == "localport" and name in self.local_ifaces))

    def related_keys(self, names: Iterable[str]) -> list[DepKey]:
        """The ``related`` dependencies of the ports named ``names``."""
        out: list[DepKey] = []
        for name in names:
            where = self.pb_where.get(name)
            if where is not None:
                out.append(("related", where[0], str(where[1])))
        return out

    def port(self, dp_uuid: str, name: str) -> int | None:
        """A port binding's tunnel key, else a multicast group's (lookup_port_cb's order)."""
        key = (dp_uuid, name)
        found = self.pb_ports.get(key)
        return found if found is not None else self.mc_groups.get(key)

    def value(self, dep: DepKey) -> object:
        """The current value of a dependency, as a look-up would return it now."""
        kind = dep[0]
        if kind == "port":
            return self.port(dep[1], dep[2])
        if kind == "as":
            return self.address_sets.get(dep[1])
        if kind == "pg":
            return self.port_groups.get(dep[1])
        if kind == "related":
            return self.related(dep[1], int(dep[2]))
        if kind == "dhcp":
            return self.dhcp_version
        if kind == "meter":
            return self.meters.get(dep[1])
        return dep[1] in self.claimed


class DepIndex:
    """Dependencies of every translated lflow, both ways (see the module docstring)."""

    __slots__ = ("_deps", "_readers")

    def __init__(self) -> None:
        self._deps: dict[str, dict[DepKey, object]] = {}
        self._readers: dict[DepKey, set[str]] = {}

    def record(self, lflow: str, deps: dict[DepKey, object]) -> None:
        """Replace what ``lflow`` depends on."""
        self.remove(lflow)
        if not deps:
            return
        self._deps[lflow] = deps
        for key in deps:
            self._readers.setdefault(key, set()).add(lflow)

    def remove(self, lflow: str) -> None:
        """Forget ``lflow`` (deleted, or no longer on a local datapath)."""
        old = self._deps.pop(lflow, None)
        if old is None:
            return
        for key in old:
            readers = self._readers[key]
            readers.discard(lflow)
            if not readers:
                del self._readers[key]

    def stale_readers(self, keys: Iterable[DepKey], resources: Resources) -> set[str]:
        """The lflows that read any of ``keys`` and got a value ``resources`` no longer hold."""
        out: set[str] = set()
        for key in keys:
            readers = self._readers.get(key)
            if not readers:
                continue
            now = resources.value(key)
            out.update(r for r in readers if self._deps[r][key] != now)
        return out

    def still_valid(self, lflow: str, resources: Resources) -> bool:
        """Whether every value ``lflow`` read is still what ``resources`` hold."""
        return all(resources.value(k) == v for k, v in self._deps.get(lflow, {}).items())

    def __len__(self) -> int:
        return len(self._readers)


#: A group or a meter an lflow's flows use (installed with them).
Extra = GroupEntry | MeterEntry


class Recorder:
    """Look-ups over :class:`Resources` that record what one translation read, and
    the groups and meters it asked ids for (:class:`~pyovn.controller.extend_table.IdTable`)."""

    __slots__ = ("deps", "extras", "ids", "key_to_dp", "lflow", "lookups", "resources")

    def __init__(self, resources: Resources, key_to_dp: dict[int, str],
                 conj_ids: ConjIdAllocator, ids: dict[str, IdTable]) -> None:
        self.resources = resources
        #: local datapath tunnel key -> datapath UUID (kept current by the owner)
        self.key_to_dp = key_to_dp
        #: "group" and "meter" id tables
        self.ids = ids
        self.lflow = ""
        self.deps: dict[DepKey, object] = {}
        #: (kind, description or name) -> the group or meter, for the lflow being translated
        self.extras: dict[tuple[str, str], Extra] = {}
        self.lookups = Lookups(lookup_port=self._lookup_port, is_related_port=self._related,
                               address_sets=self._address_set,
                               port_groups=self._port_group,
                               is_chassis_resident=self._resident, conj_ids=conj_ids,
                               dhcp_opts=resources.dhcp_opts,
                               dhcpv6_opts=resources.dhcpv6_opts, group_id=self._group_id,
                               meter_id=self._meter_id, parse_cache=ParseCache())

    def start(self, lflow: str) -> None:
        """Begin recording the translation of ``lflow``."""
        self.lflow = lflow
        self.deps = {}
        self.extras = {}

    def _group_id(self, text: str) -> int | None:
        # Parsed first: a description OpenFlow cannot carry fails the lflow, no id taken.
        entry = parse_group(text, 0)
        group_id = self.ids["group"].use(self.lflow, text)
        if group_id is not None:
            self.extras[("group", text)] = replace(entry, group_id=group_id)
        return group_id

    def _meter_id(self, name: str) -> int | None:
        if name.startswith(METER_STRING):
            entry: MeterEntry | None = parse_meter_string(name)
        else:
            # A named meter exists once its SB Meter row does (as in ovn-controller).
            entry = self.resources.meters.get(name)
            self.deps[("meter", name)] = entry
        if entry is None:
            return None
        meter_id = self.ids["meter"].use(self.lflow, name)
        if meter_id is not None:
            self.extras[("meter", name)] = replace(entry, meter_id=meter_id)
        return meter_id

    def _lookup_port(self, dp_key: int, name: str) -> int | None:
        dp = self.key_to_dp.get(dp_key, "")
        value = self.resources.port(dp, name)
        self.deps[("port", dp, name)] = value
        return value

    def _related(self, dp_key: int, port_key: int) -> bool:
        dp = self.key_to_dp.get(dp_key, "")
        value = self.resources.related(dp, port_key)
        self.deps[("related", dp, str(port_key))] = value
        return value

    def _address_set(self, name: str) -> Sequence[str] | None:
        value = self.resources.address_sets.get(name)
        self.deps[("as", name)] = value
        return value

    def _port_group(self, name: str) -> Sequence[str] | None:
        value = self.resources.port_groups.get(name)
        self.deps[("pg", name)] = value
        return value

    def _resident(self, port: str) -> bool:
        value = port in self.resources.claimed
        self.deps[("resident", port)] = value
        return value
