"""The local side of binding, kept up to date change by change.

``runtime_data`` used to rebuild its bindings from every interface of br-int and every
claimed Port_Binding on each change of the local OVS or of a local port: a visit of
everything for one new interface. These classes hold the same results in a form that
a change updates in proportion to its size, and that a full build fills by the same
code, so that an incremental update and a recompute cannot disagree:

- :class:`IfaceView`: br-int's interfaces with an ``iface-id`` and an OpenFlow port
  (candidates by iface-id; the lowest ``(ofport, interface UUID)`` wins), and the
  patch ports of localnet / l2gateway ports (``ovn-localnet-port`` marks).
- :class:`ClaimTable`: the Port_Bindings each local iface-id claims (itself and its
  containers), merged into one ``claimed`` map with the datapaths it makes local.
- :func:`local_datapath_closure`: the local datapaths, with what they depend on (the
  localnet ports in them, the patch peers they follow).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from pyovn.ovsdb import Row

__all__ = ["CLAIMED_TYPES", "ChassisIdentity", "ClaimTable", "DatapathClosure", "IfaceView",
           "LocalDatapath", "LocalIface", "can_bind", "claims_of", "iface_of",
           "local_datapath_closure"]

#: Port_Binding types a VIF's iface-id claims.
CLAIMED_TYPES = frozenset({""})

#: Port ``external_ids`` keys that mark the patch port of a localnet / l2gateway port.
PATCH_MARKS = ("ovn-localnet-port", "ovn-l2gateway-port")


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


def can_bind(pb: Row, chassis: ChassisIdentity) -> bool:
    """Whether ``pb`` may be bound here (23.03's ``lport_can_bind_on_this_chassis``)."""
    requested = pb.get("requested_chassis")
    if requested:
        return bool(requested == chassis.uuid)
    option = (pb["options"] or {}).get("requested-chassis")
    return not option or option in (chassis.name, chassis.hostname)


def _ofport(iface: Row) -> int:
    ofport = iface["ofport"]
    return ofport if isinstance(ofport, int) else 0


def iface_of(port: Row, iface: Row) -> tuple[LocalIface | None, tuple[str, int] | None]:
    """What interface ``iface`` of bridge port ``port`` contributes: a local interface
    (it has an ``iface-id`` and an OpenFlow port) and a patch port ``(localnet port,
    ofport)`` (its Port is marked), each None when it is not one."""
    ofport = _ofport(iface)
    if ofport <= 0:
        return None, None
    ids = iface["external_ids"]
    iface_id = ids.get("iface-id")
    local = (LocalIface(iface.uuid, iface["name"], iface_id, ofport, ids)
             if iface_id else None)
    marks = port["external_ids"]
    lport = marks.get(PATCH_MARKS[0]) or marks.get(PATCH_MARKS[1])
    return local, ((lport, ofport) if lport else None)


def _add(group: tuple[str, ...] | None, uuid: str) -> tuple[str, ...]:
    return (uuid,) if group is None else (*group, uuid)


def _without(group: tuple[str, ...], uuid: str) -> tuple[str, ...]:
    return tuple(u for u in group if u != uuid)


class IfaceView:
    """br-int's local interfaces and localnet patch ports (see the module docstring).

    :meth:`rebuild` reads the whole bridge; :meth:`update` re-reads some interfaces.
    Both return the iface-ids and patch lports whose winner may have changed; the
    winners are :attr:`ifaces` and :attr:`patch_ofports`.
    """

    __slots__ = ("_by_id", "_by_lport", "_local", "_patch", "bridge_ports", "ifaces",
                 "patch_ofports")

    def __init__(self) -> None:
        self._local: dict[str, LocalIface] = {}           # interface UUID → candidate
        self._patch: dict[str, tuple[str, int]] = {}      # interface UUID → (lport, ofport)
        # The candidates' UUIDs by iface-id and by patch lport (nearly always one).
        self._by_id: dict[str, tuple[str, ...]] = {}
        self._by_lport: dict[str, tuple[str, ...]] = {}
        self.bridge_ports: frozenset[str] = frozenset()
        #: iface-id → the interface that wins it.
        self.ifaces: dict[str, LocalIface] = {}
        #: localnet (l2gateway) port → OpenFlow port of its patch port.
        self.patch_ofports: dict[str, int] = {}

    def rebuild(self, bridge: Row | None, ports: Mapping[str, Row],
                interfaces: Mapping[str, Row]) -> None:
        """Read every interface of ``bridge`` afresh."""
        self._local, self._patch, self._by_id, self._by_lport = {}, {}, {}, {}
        self.bridge_ports = frozenset()
        self.ifaces, self.patch_ofports = {}, {}
        if bridge is None:
            return
        self.bridge_ports = frozenset(bridge["ports"])
        name = bridge["name"]
        for port_uuid in bridge["ports"]:
            port = ports.get(port_uuid)
            if port is None or port["name"] == name:
                continue
            for iface_uuid in port["interfaces"]:
                iface = interfaces.get(iface_uuid)
                if iface is not None:
                    self._set(iface_uuid, *iface_of(port, iface))
        self.ifaces = {i: self._best_iface(c) for i, c in self._by_id.items()}
        self.patch_ofports = {lp: self._best_patch(c) for lp, c in self._by_lport.items()}

    def update(self, bridge: Row, ports_of_iface: Callable[[str], Iterable[Row]],
               interfaces: Mapping[str, Row], iface_uuids: Iterable[str]
               ) -> tuple[set[str], set[str]]:
        """Re-read ``iface_uuids`` (``bridge`` is the same bridge as before, perhaps a
        newer version of its row); return the iface-ids and patch lports touched."""
        self.bridge_ports = frozenset(bridge["ports"])
        name = bridge["name"]
        ids: set[str] = set()
        lports: set[str] = set()
        for uuid in iface_uuids:
            old_local, old_patch = self._local.get(uuid), self._patch.get(uuid)
            local: LocalIface | None = None
            patch: tuple[str, int] | None = None
            iface = interfaces.get(uuid)
            if iface is not None:
                for port in ports_of_iface(uuid):
                    if port.uuid in self.bridge_ports and port["name"] != name:
                        local, patch = iface_of(port, iface)
                        break
            if local == old_local and patch == old_patch:
                continue
            for old in (old_local, local):
                if old is not None:
                    ids.add(old.iface_id)
            for pair in (old_patch, patch):
                if pair is not None:
                    lports.add(pair[0])
            self._unset(uuid)
            self._set(uuid, local, patch)
        for iface_id in ids:
            cands = self._by_id.get(iface_id)
            if cands:
                self.ifaces[iface_id] = self._best_iface(cands)
            else:
                self.ifaces.pop(iface_id, None)
        for lport in lports:
            pcands = self._by_lport.get(lport)
            if pcands:
                self.patch_ofports[lport] = self._best_patch(pcands)
            else:
                self.patch_ofports.pop(lport, None)
        return ids, lports

    def _best_iface(self, uuids: tuple[str, ...]) -> LocalIface:
        if len(uuids) == 1:
            return self._local[uuids[0]]
        return min((self._local[u] for u in uuids), key=lambda c: (c.ofport, c.uuid))

    def _best_patch(self, uuids: tuple[str, ...]) -> int:
        return min((self._patch[u][1], u) for u in uuids)[0]

    def _set(self, uuid: str, local: LocalIface | None, patch: tuple[str, int] | None) -> None:
        if local is not None:
            self._local[uuid] = local
            self._by_id[local.iface_id] = _add(self._by_id.get(local.iface_id), uuid)
        if patch is not None:
            self._patch[uuid] = patch
            self._by_lport[patch[0]] = _add(self._by_lport.get(patch[0]), uuid)

    def _unset(self, uuid: str) -> None:
        local = self._local.pop(uuid, None)
        if local is not None:
            rest = _without(self._by_id[local.iface_id], uuid)
            if rest:
                self._by_id[local.iface_id] = rest
            else:
                del self._by_id[local.iface_id]
        patch = self._patch.pop(uuid, None)
        if patch is not None:
            rest = _without(self._by_lport[patch[0]], uuid)
            if rest:
                self._by_lport[patch[0]] = rest
            else:
                del self._by_lport[patch[0]]


def claims_of(name: str, port_binding_by_name: Callable[[str], Row | None],
              children_of: Callable[[str], Iterable[Row]],
              chassis: ChassisIdentity) -> dict[str, Row]:
    """What the local interface with iface-id ``name`` claims: its Port_Binding if it
    is a VIF that may bind here, with its containers (23.03's binding of a VIF)."""
    pb = port_binding_by_name(name)
    if pb is None or pb["type"] not in CLAIMED_TYPES or not can_bind(pb, chassis):
        return {}
    out = {name: pb}
    for child in children_of(name):
        if child["type"] in CLAIMED_TYPES:
            out[child["logical_port"]] = child
    return out


@dataclass
class ClaimTable:
    """The claims of every local iface-id, merged (see :func:`claims_of`).

    ``claimed`` maps a logical port to its Port_Binding; a port may be claimed twice
    (a container with an interface of its own), always as the same row.
    ``datapaths`` counts the claimed ports per datapath: its keys are the seeds of
    the local datapaths.
    """

    claimed: dict[str, Row] = field(default_factory=dict)
    datapaths: dict[str, int] = field(default_factory=dict)
    _by_seed: dict[str, tuple[tuple[str, Row], ...]] = field(default_factory=dict)
    _owners: dict[str, int] = field(default_factory=dict)  # lport → seeds claiming it

    def set_seed(self, name: str, claims: dict[str, Row]) -> set[str]:
        """Replace what iface-id ``name`` claims; return the logical ports whose claim
        (or claimed row) may have changed."""
        touched: set[str] = set()
        owners = self._owners
        for lport, _pb in self._by_seed.pop(name, ()):
            left = owners[lport] - 1
            if left:
                owners[lport] = left
            else:
                del owners[lport]
                self._drop(lport)
            touched.add(lport)
        if claims:
            self._by_seed[name] = tuple(claims.items())
            for lport, pb in claims.items():
                owners[lport] = owners.get(lport, 0) + 1
                self._put(lport, pb)
                touched.add(lport)
        return touched

    def _put(self, lport: str, pb: Row) -> None:
        old = self.claimed.get(lport)
        if old is pb:
            return
        if old is not None:
            self._count(old["datapath"], -1)
        self.claimed[lport] = pb
        self._count(pb["datapath"], 1)

    def _drop(self, lport: str) -> None:
        old = self.claimed.pop(lport, None)
        if old is not None:
            self._count(old["datapath"], -1)

    def _count(self, dp: str, delta: int) -> None:
        n = self.datapaths.get(dp, 0) + delta
        if n:
            self.datapaths[dp] = n
        else:
            del self.datapaths[dp]


@dataclass
class DatapathClosure:
    """The local datapaths and what they were computed from."""

    datapaths: dict[str, LocalDatapath] = field(default_factory=dict)
    #: Every localnet port of a local datapath (each one is local: it gets a zone).
    localnet_lports: set[str] = field(default_factory=set)
    #: The ``options:peer`` names of the patch ports of the local datapaths.
    peer_names: set[str] = field(default_factory=set)


def local_datapath_closure(seeds: Iterable[str], datapath_key: Callable[[str], int | None],
                           ports_of: Callable[[str], Iterable[Row]],
                           port_binding_by_name: Callable[[str], Row | None]
                           ) -> DatapathClosure:
    """The local datapaths from ``seeds`` (23.03's ``add_local_datapath``): a datapath
    of a claimed port, and every datapath reached from a local one through logical
    patch ports. Of several localnet ports of a datapath, the one with the smallest
    name is its localnet port."""
    out = DatapathClosure()
    todo = list(seeds)
    while todo:
        dp = todo.pop()
        if dp in out.datapaths:
            continue
        key = datapath_key(dp)
        if key is None:
            continue
        localnet: Row | None = None
        for pb in ports_of(dp):
            kind = pb["type"]
            if kind == "localnet":
                out.localnet_lports.add(pb["logical_port"])
                if localnet is None or pb["logical_port"] < localnet["logical_port"]:
                    localnet = pb
            elif kind == "patch":
                peer_name = (pb["options"] or {}).get("peer")
                if not peer_name:
                    continue
                out.peer_names.add(peer_name)
                peer = port_binding_by_name(peer_name)
                if peer is not None and peer["datapath"] not in out.datapaths:
                    todo.append(peer["datapath"])
        out.datapaths[dp] = LocalDatapath(dp, key, localnet)
    return out
