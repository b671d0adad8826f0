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

from pyovn.ovsdb import Insert, Mutate, NamedUuid, Op, Row, Update

__all__ = [
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

#: Port_Binding types a VIF's iface-id claims.
CLAIMED_TYPES = frozenset({""})
#: Types this chassis releases when it holds them without a local interface.
RELEASED_TYPES = frozenset({"", "localport"})
OVN_INSTALLED = "ovn-installed"
OVN_INSTALLED_TS = "ovn-installed-ts"


@dataclass(frozen=True, slots=True)
class LocalIface:
    """An interface of the integration bridge carrying ``external_ids:iface-id``."""

    uuid: str
    name: str
    iface_id: str
    ofport: int
    external_ids: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class LocalDatapath:
    """A datapath this chassis has flows for, with its localnet port (if any)."""

    uuid: str
    tunnel_key: int
    localnet_port: Row | None = None


@dataclass(frozen=True, slots=True)
class ChassisIdentity:
    """Who "this chassis" is: its SB Chassis row (None before it exists), name,
    hostname, and its Encap rows by IP."""

    uuid: str | None
    name: str
    hostname: str = ""
    encaps: Mapping[str, str] = field(default_factory=dict)


def _bridge_interfaces(bridge: Row | None, ports: Mapping[str, Row],
                       interfaces: Mapping[str, Row]) -> Iterable[tuple[Row, Row]]:
    if bridge is None:
        return
    for port_uuid in bridge["ports"]:
        port = ports.get(port_uuid)
        if port is None or port["name"] == bridge["name"]:
            continue
        for iface_uuid in port["interfaces"]:
            iface = interfaces.get(iface_uuid)
            if iface is not None:
                yield port, iface


def _ofport(iface: Row) -> int:
    ofport = iface["ofport"]
    return ofport if isinstance(ofport, int) else 0


def local_interfaces(bridge: Row | None, ports: Mapping[str, Row],
                     interfaces: Mapping[str, Row]) -> dict[str, LocalIface]:
    """iface-id → interface, for the bridge's interfaces with an iface-id and an
    OpenFlow port. Of two interfaces with the same iface-id the lower ofport wins."""
    out: dict[str, LocalIface] = {}
    for _port, iface in _bridge_interfaces(bridge, ports, interfaces):
        iface_id = iface["external_ids"].get("iface-id")
        ofport = _ofport(iface)
        if not iface_id or ofport <= 0:
            continue
        known = out.get(iface_id)
        if known is None or ofport < known.ofport:
            out[iface_id] = LocalIface(iface.uuid, iface["name"], iface_id, ofport,
                                       iface["external_ids"])
    return out


def patch_ofports(bridge: Row | None, ports: Mapping[str, Row],
                  interfaces: Mapping[str, Row]) -> dict[str, int]:
    """Localnet (and l2gateway) port name → OpenFlow port of its patch port on the
    bridge (Ports marked ``external_ids:ovn-localnet-port`` / ``ovn-l2gateway-port``)."""
    out: dict[str, int] = {}
    for port, iface in _bridge_interfaces(bridge, ports, interfaces):
        ids = port["external_ids"]
        lport = ids.get("ovn-localnet-port") or ids.get("ovn-l2gateway-port")
        ofport = _ofport(iface)
        if lport and ofport > 0:
            out[lport] = ofport
    return out


def can_bind(pb: Row, chassis: ChassisIdentity) -> bool:
    """Whether ``pb`` may be bound here (23.03's ``lport_can_bind_on_this_chassis``)."""
    requested = pb.get("requested_chassis")
    if requested:
        return bool(requested == chassis.uuid)
    option = (pb["options"] or {}).get("requested-chassis")
    return not option or option in (chassis.name, chassis.hostname)


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
        pb = port_binding_by_name(name)
        if pb is None or pb["type"] not in CLAIMED_TYPES or not can_bind(pb, chassis):
            continue
        out.claimed[name] = pb
        for child in children_of(name):
            if child["type"] in CLAIMED_TYPES:
                out.claimed[child["logical_port"]] = child
                out.local_lports.add(child["logical_port"])
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
        for name in [n for n in self._waiting if n not in claimed]:
            del self._waiting[name]
        self.installed &= set(claimed)
        for name in claimed:
            if name not in self.installed and name not in self._waiting:
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
    if chassis.uuid is None:
        return []
    ops: list[Op] = []
    for name, pb in sorted(bindings.claimed.items()):
        iface = bindings.ifaces.get(pb["parent_port"] or name)
        encap_ip = iface.external_ids.get("encap-ip") if iface is not None else None
        encap = chassis.encaps.get(encap_ip) if encap_ip else None
        row: dict[str, object] = {}
        if pb["chassis"] != chassis.uuid:
            row["chassis"] = chassis.uuid
            if pb["up"] and name not in installed:
                row["up"] = False  # it was up elsewhere; it is not up here yet
        if pb["encap"] != encap:
            row["encap"] = encap
        if name in installed and not pb["up"]:
            row["up"] = True
        if row:
            ops.append(Update("Port_Binding", pb.uuid, row))
    for pb in sorted(held, key=lambda r: r["logical_port"]):
        if pb["chassis"] != chassis.uuid or pb["logical_port"] in bindings.claimed:
            continue
        if pb["type"] not in RELEASED_TYPES:
            continue
        release: dict[str, object] = {"chassis": None}
        if pb["encap"] is not None:
            release["encap"] = None
        if pb["up"]:
            release["up"] = False
        ops.append(Update("Port_Binding", pb.uuid, release))
    return ops


def installed_ovs_ops(bindings: Bindings, installed: Collection[str],
                      now_ms: Callable[[], int] | None = None) -> list[Op]:
    """Interface ``external_ids`` mutates: ``ovn-installed`` (and its time stamp) on
    interfaces whose port's flows are installed, removed from interfaces whose port
    is not claimed here any more."""
    clock = now_ms or (lambda: int(time.time() * 1000))
    ops: list[Op] = []
    for name, iface in sorted(bindings.ifaces.items()):
        has = iface.external_ids.get(OVN_INSTALLED) == "true"
        if name in installed and name in bindings.claimed:
            if not has:
                ops.append(Mutate("Interface", iface.uuid, [
                    ("external_ids", "delete", [OVN_INSTALLED, OVN_INSTALLED_TS]),
                    ("external_ids", "insert", {OVN_INSTALLED: "true",
                                                OVN_INSTALLED_TS: str(clock())})]))
        elif name not in bindings.claimed and (has or OVN_INSTALLED_TS in iface.external_ids):
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
    ``ports_of`` the Port_Bindings of a datapath."""
    out: dict[str, LocalDatapath] = {}
    todo = list(seeds)
    while todo:
        dp = todo.pop()
        if dp in out:
            continue
        key = datapath_key(dp)
        if key is None:
            continue
        localnet: Row | None = None
        for pb in ports_of(dp):
            kind = pb["type"]
            if kind == "localnet":
                if localnet is None or pb["logical_port"] < localnet["logical_port"]:
                    localnet = pb
            elif kind == "patch":
                peer_name = (pb["options"] or {}).get("peer")
                peer = port_binding_by_name(peer_name) if peer_name else None
                if peer is not None and peer["datapath"] not in out:
                    todo.append(peer["datapath"])
        out[dp] = LocalDatapath(dp, key, localnet)
    return out


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
            if port is None or not any(m in port["external_ids"] for m in MARKS):
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
