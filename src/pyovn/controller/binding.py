"""Port binding: which logical ports live on this chassis, and the writes that say so.

An interface of the integration bridge whose ``external_ids:iface-id`` names a logical
port, and that has an OpenFlow port number, makes that port local (23.03's
``build_local_bindings``). This chassis then *claims* the port's Port_Binding (sets
``chassis``, and ``encap`` when the interface asks for an encapsulation IP with
``external_ids:encap-ip``) if the port is a VIF (type "") that may bind here
(``requested_chassis`` / ``options:requested-chassis`` names this chassis or its
hostname, or nothing), and with it every container port whose ``parent_port`` is that
port. Localports are never claimed. A port this chassis holds and no longer has is
*released*: ``chassis`` and ``encap`` cleared, ``up`` false.

Once the port's flows are in the switch (:class:`IfStatus`, told by ofctrl's barrier
replies) the Port_Binding gets ``up=true`` and the interface
``external_ids:ovn-installed=true`` with ``ovn-installed-ts`` (milliseconds), as 23.03
does with ``port-up-notif``. The writes are computed by comparing what should be with
what the databases hold (:func:`binding_sb_ops`, :func:`installed_ovs_ops`), so
repeating them is harmless and a restart needs no memory of earlier ones. A restart
does not lower ``up``: the flows of a port that is already up stay in the switch.

**Local datapaths.** A datapath is local when a port claimed here is in it (23.03's
``add_local_datapath``), and so is every datapath reachable from a local one through
logical patch ports (switch, router, switch): a packet entering here crosses them
without leaving the chassis. Only local datapaths get flows and NAT zones. Each knows
its localnet port (through which ports on other chassis are reached without tunnels);
of several, the one with the smallest name (23.03 keeps the last one it sees).

**Localnet patch ports.** ``external_ids:ovn-bridge-mappings``
(``physnet1:br-phys,...``) says which OVS bridge reaches each physical network. For
every ``localnet`` port of a local datapath whose ``options:network_name`` is mapped to
an existing bridge, 23.03 (``controller/patch.c``) keeps a pair of patch ports,
``patch-br-int-to-<port>`` on br-int and ``patch-<port>-to-br-int`` on the other
bridge, peers of each other, both Ports marked ``external_ids:ovn-localnet-port``.
Marked patch ports no longer wanted are removed (23.03 leaves them behind).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyovn.controller.binding_local import (
    CLAIMED_TYPES,
    ChassisIdentity,
    IfaceView,
    LocalDatapath,
    LocalIface,
    can_bind,
    claims_of,
    local_datapath_closure,
)
from pyovn.ovsdb import Insert, Mutate, NamedUuid, Op, Row, Update, columns_getter

__all__ = [
    "CLAIMED_TYPES",
    "Bindings",
    "ChassisIdentity",
    "IfStatus",
    "LocalDatapath",
    "LocalIface",
    "PatchPort",
    "binding_sb_ops",
    "can_bind",
    "compute_bindings",
    "compute_local_datapaths",
    "desired_patch_ports",
    "installed_ovs_ops",
    "local_interfaces",
    "parse_bridge_mappings",
    "patch_ofports",
    "patch_port_ops",
]

#: Types this chassis releases when it holds them without a local interface.
RELEASED_TYPES = frozenset({"", "localport"})
OVN_INSTALLED = "ovn-installed"
OVN_INSTALLED_TS = "ovn-installed-ts"


def local_interfaces(bridge: Row | None, ports: Mapping[str, Row],
                     interfaces: Mapping[str, Row]) -> dict[str, LocalIface]:
    """iface-id → interface, for the bridge's interfaces with an iface-id and an
    OpenFlow port. Of two interfaces with the same iface-id the lower ofport wins."""
    view = IfaceView()
    view.rebuild(bridge, ports, interfaces)
    return view.ifaces


def patch_ofports(bridge: Row | None, ports: Mapping[str, Row],
                  interfaces: Mapping[str, Row]) -> dict[str, int]:
    """Localnet (and l2gateway) port name → OpenFlow port of its patch port on the
    bridge (Ports marked ``external_ids:ovn-localnet-port`` / ``ovn-l2gateway-port``;
    of two, the lower ofport)."""
    view = IfaceView()
    view.rebuild(bridge, ports, interfaces)
    return view.patch_ofports


@dataclass
class Bindings:
    """The local side of binding.

    ``ifaces``: iface-id → local interface. ``claimed``: logical port → the
    Port_Binding this chassis binds (VIFs and their containers). ``local_lports``:
    every logical port with a local presence (the iface-ids, and the containers).
    ``ofports``: logical port → OpenFlow port of its interface.
    """

    ifaces: dict[str, LocalIface] = field(default_factory=dict)
    claimed: dict[str, Row] = field(default_factory=dict)
    local_lports: set[str] = field(default_factory=set)
    ofports: dict[str, int] = field(default_factory=dict)


def compute_bindings(ifaces: Mapping[str, LocalIface],
                     port_binding_by_name: Callable[[str], Row | None],
                     children_of: Callable[[str], Iterable[Row]],
                     chassis: ChassisIdentity) -> Bindings:
    """Which Port_Bindings this chassis claims, given its local interfaces.

    ``port_binding_by_name`` looks a Port_Binding up by ``logical_port``;
    ``children_of`` gives the Port_Bindings whose ``parent_port`` is a name.
    """
    out = Bindings(dict(ifaces), {}, set(ifaces),
                   {name: iface.ofport for name, iface in ifaces.items()})
    for name in ifaces:
        out.claimed.update(claims_of(name, port_binding_by_name, children_of, chassis))
    out.local_lports.update(out.claimed)
    return out


class IfStatus:
    """Which claimed ports have their flows in the switch (23.03's if-status manager).

    A newly claimed port waits until the flows computed after its claim have been
    sent (:meth:`flows_requested`, with ofctrl's sequence number of that put) and
    acknowledged by the switch (:meth:`flows_installed` with the acknowledged
    sequence number).
    """

    def __init__(self) -> None:
        self._waiting: dict[str, int | None] = {}  # lport → seqno of its put, if sent
        self.installed: set[str] = set()

    def sync(self, claimed: Collection[str]) -> None:
        """Follow the set of claimed ports: new ones start waiting, gone ones are
        forgotten."""
        claimed = claimed if isinstance(claimed, set | frozenset) else set(claimed)
        for name in [n for n in self._waiting if n not in claimed]:
            del self._waiting[name]
        self.installed &= claimed
        # Set operations: one visit of the claimed ports in C, not in Python.
        for name in claimed - self.installed - self._waiting.keys():
            self._waiting[name] = None

    def flows_requested(self, seqno: int) -> None:
        """The desired flows, including those of every waiting port, went out in the
        put with sequence number ``seqno``."""
        for name, sent in self._waiting.items():
            if sent is None:
                self._waiting[name] = seqno

    def flows_installed(self, seqno: int) -> set[str]:
        """The switch acknowledged every put up to ``seqno``; returns the ports that
        this made installed."""
        done = {n for n, sent in self._waiting.items() if sent is not None and sent <= seqno}
        for name in done:
            del self._waiting[name]
        self.installed |= done
        return done

    @property
    def waiting(self) -> set[str]:
        """Claimed ports whose flows are not known to be installed yet."""
        return set(self._waiting)


def binding_sb_ops(bindings: Bindings, held: Iterable[Row], chassis: ChassisIdentity,
                   installed: Collection[str]) -> list[Op]:
    """The Port_Binding updates that make the SB agree with ``bindings``.

    ``held`` are the Port_Bindings whose ``chassis`` is this one (the candidates for
    release). Nothing is written before this chassis has its SB row.
    """
    me = chassis.uuid
    if me is None:
        return []
    encaps, ifaces, claimed = chassis.encaps, bindings.ifaces, bindings.claimed
    # Every claimed port is looked at in every run: a few column reads each, and the
    # few that need a write sorted at the end (by logical port, as they always were).
    updates: list[tuple[str, Op]] = []
    row_class: type[Row] | None = None
    read: Callable[[Row], tuple[Any, ...]] | None = None
    for name, pb in claimed.items():
        if type(pb) is not row_class or read is None:
            row_class = type(pb)
            read = columns_getter(row_class, ("chassis", "encap", "up", "parent_port"))
        chassis_col, encap_col, up, parent = read(pb)
        encap = None
        if encaps:
            iface = ifaces.get(parent or name)
            encap_ip = iface.external_ids.get("encap-ip") if iface is not None else None
            encap = encaps.get(encap_ip) if encap_ip else None
        row: dict[str, object] = {}
        if chassis_col != me:
            row["chassis"] = me
            if up and name not in installed:
                row["up"] = False  # it was up elsewhere; it is not up here yet
        if encap_col != encap:
            row["encap"] = encap
        if name in installed and not up:
            row["up"] = True
        if row:
            updates.append((name, Update("Port_Binding", pb.uuid, row)))
    releases: list[tuple[str, Op]] = []
    row_class = read = None
    for pb in held:
        if type(pb) is not row_class or read is None:
            row_class = type(pb)
            read = columns_getter(row_class, ("logical_port", "chassis", "type", "encap", "up"))
        lport, chassis_col, kind, encap_col, up = read(pb)
        if lport in claimed or chassis_col != me or kind not in RELEASED_TYPES:
            continue
        release: dict[str, object] = {"chassis": None}
        if encap_col is not None:
            release["encap"] = None
        if up:
            release["up"] = False
        releases.append((lport, Update("Port_Binding", pb.uuid, release)))
    updates.sort(key=lambda item: item[0])
    releases.sort(key=lambda item: item[0])
    return [op for _, op in updates] + [op for _, op in releases]


def installed_ovs_ops(bindings: Bindings, installed: Collection[str],
                      now_ms: Callable[[], int] | None = None) -> list[Op]:
    """Interface ``external_ids`` mutates: ``ovn-installed`` (and its time stamp) on
    interfaces whose port's flows are installed, removed from interfaces whose port
    is not claimed here any more."""
    clock = now_ms or (lambda: int(time.time() * 1000))
    claimed = bindings.claimed
    todo: list[tuple[str, LocalIface, bool]] = []  # (name, interface, set it)
    for name, iface in bindings.ifaces.items():
        ids = iface.external_ids
        if name in claimed:
            if name in installed and ids.get(OVN_INSTALLED) != "true":
                todo.append((name, iface, True))
        elif ids.get(OVN_INSTALLED) == "true" or OVN_INSTALLED_TS in ids:
            todo.append((name, iface, False))
    ops: list[Op] = []
    for _name, iface, install in sorted(todo, key=lambda item: item[0]):
        if install:
            ops.append(Mutate("Interface", iface.uuid, [
                ("external_ids", "delete", [OVN_INSTALLED, OVN_INSTALLED_TS]),
                ("external_ids", "insert", {OVN_INSTALLED: "true",
                                            OVN_INSTALLED_TS: str(clock())})]))
        else:
            ops.append(Mutate("Interface", iface.uuid, [
                ("external_ids", "delete", [OVN_INSTALLED, OVN_INSTALLED_TS])]))
    return ops


# -- local datapaths --------------------------------------------------------------


def compute_local_datapaths(seeds: Iterable[str],
                            datapath_key: Callable[[str], int | None],
                            ports_of: Callable[[str], Iterable[Row]],
                            port_binding_by_name: Callable[[str], Row | None],
                            ) -> dict[str, LocalDatapath]:
    """The local datapaths by UUID, from ``seeds`` (the datapaths of the ports bound
    here). ``datapath_key`` gives a Datapath_Binding's tunnel key (None: no such row),
    ``ports_of`` the Port_Bindings of a datapath (see :func:`local_datapath_closure`)."""
    return local_datapath_closure(seeds, datapath_key, ports_of,
                                  port_binding_by_name).datapaths


# -- localnet patch ports ---------------------------------------------------------

MARKS = ("ovn-localnet-port", "ovn-l2gateway-port")


def parse_bridge_mappings(text: str) -> dict[str, str]:
    """``physnet:bridge,...`` → network → bridge name (malformed entries skipped)."""
    out: dict[str, str] = {}
    for item in text.split(","):
        network, sep, bridge = item.strip().partition(":")
        if sep and network and bridge:
            out[network] = bridge
    return out


@dataclass(frozen=True, slots=True)
class PatchPort:
    """One OVS patch port to create: its bridge, name, peer and localnet port."""

    bridge: str
    name: str
    peer: str
    localnet_port: str


def desired_patch_ports(integration_bridge: str, mappings: Mapping[str, str],
                        local_datapaths: Iterable[LocalDatapath],
                        localnet_ports: Mapping[str, Iterable[Row]],
                        bridges: Iterable[str]) -> list[PatchPort]:
    """The patch ports the localnet ports of the local datapaths need.

    ``localnet_ports`` gives the localnet Port_Bindings of a datapath (by UUID);
    ``bridges`` are the names of the existing OVS bridges.
    """
    existing = set(bridges)
    out: list[PatchPort] = []
    for ld in local_datapaths:
        for pb in localnet_ports.get(ld.uuid, ()):
            lport = pb["logical_port"]
            bridge = mappings.get((pb["options"] or {}).get("network_name", ""))
            if bridge is None or bridge not in existing or bridge == integration_bridge:
                continue
            near = f"patch-{integration_bridge}-to-{lport}"
            far = f"patch-{lport}-to-{integration_bridge}"
            out.append(PatchPort(integration_bridge, near, far, lport))
            out.append(PatchPort(bridge, far, near, lport))
    return sorted(out, key=lambda p: (p.bridge, p.name))


def patch_port_ops(desired: Iterable[PatchPort], bridges: Iterable[Row],
                   ports: Mapping[str, Row], interfaces: Mapping[str, Row]) -> list[Op]:
    """Ops that create the missing patch ports and remove marked ones not desired."""
    want = {(p.bridge, p.name): p for p in desired}
    by_name = {b["name"]: b for b in bridges}
    ops: list[Op] = []
    have: set[tuple[str, str]] = set()
    for bridge in by_name.values():
        stale: list[str] = []
        for port_uuid in bridge["ports"]:
            port = ports.get(port_uuid)
            if port is None:
                continue
            marks = port["external_ids"]
            if MARKS[0] not in marks and MARKS[1] not in marks:
                continue
            wanted = want.get((bridge["name"], port["name"]))
            iface = next((interfaces.get(u) for u in port["interfaces"]), None)
            if (wanted is not None and iface is not None and iface["type"] == "patch"
                    and iface["options"].get("peer") == wanted.peer
                    and port["external_ids"].get("ovn-localnet-port") == wanted.localnet_port):
                have.add((bridge["name"], port["name"]))
            else:
                stale.append(port_uuid)
        if stale:
            ops.append(Mutate("Bridge", bridge.uuid, [("ports", "delete", stale)]))
    for i, (key, patch) in enumerate(sorted(want.items())):
        bridge_row = by_name.get(patch.bridge)
        if key in have or bridge_row is None:
            continue
        iface_ref, port_ref = NamedUuid(f"patch_iface{i}"), NamedUuid(f"patch_port{i}")
        ops.append(Insert("Interface", {"name": patch.name, "type": "patch",
                                        "options": {"peer": patch.peer}}, uuid_name=iface_ref))
        ops.append(Insert("Port", {"name": patch.name, "interfaces": [iface_ref],
                                   "external_ids": {"ovn-localnet-port": patch.localnet_port}},
                          uuid_name=port_ref))
        ops.append(Mutate("Bridge", bridge_row.uuid, [("ports", "insert", [port_ref])]))
    return ops
