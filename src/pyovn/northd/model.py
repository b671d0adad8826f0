"""The contract between the Northbound side of pyovn-northd and logical-flow generation.

The NB side (:mod:`pyovn.northd.datapaths`, :mod:`pyovn.northd.ports`, …) turns NB rows
into the immutable objects below, in OVN's words (``struct ovn_datapath``,
``struct ovn_port``, ``struct lport_addresses`` of ovn-northd 23.03); lflow generation
(:mod:`pyovn.northd.lflow`) reads only these objects, never NB rows. Everything here is
already validated: a port address that did not parse, a port group member that does not
exist, a duplicate name — all were dropped (with a warning) before they got here.

The engine node ``northd`` (see :mod:`pyovn.northd.graph`) publishes one
:class:`NorthdData` — switches by name, port groups, address sets, meters, globals — and,
for each run that was handled incrementally, a :class:`NorthdTracked` saying which
datapaths / ports / port groups / address sets were added, updated or deleted. When
``tracked`` is None the whole data must be taken as new (the node recomputed).

Objects are frozen and slotted: an update makes a new object, so a consumer may keep
references to the old ones (e.g. to unlink the flows a deleted port generated).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "AclInfo",
    "AddressSetInfo",
    "Ipv4NetAddr",
    "Ipv6NetAddr",
    "LportAddresses",
    "McastSwitchInfo",
    "MeterInfo",
    "NorthdData",
    "NorthdGlobals",
    "NorthdTracked",
    "PortGroupInfo",
    "SwitchDatapath",
    "SwitchPort",
]


# --- addresses (lib/ovn-util.h: struct ipv4_netaddr / ipv6_netaddr / lport_addresses) --


@dataclass(frozen=True, slots=True)
class Ipv4NetAddr:
    """One IPv4 address of a port, as OVN's ``struct ipv4_netaddr`` (strings only)."""

    addr_s: str         #: "10.0.0.5"
    plen: int           #: prefix length (32 when none was given)
    mask_s: str         #: "255.255.255.0"
    network_s: str      #: "10.0.0.0"
    bcast_s: str        #: "10.0.0.255"


@dataclass(frozen=True, slots=True)
class Ipv6NetAddr:
    """One IPv6 address of a port, as OVN's ``struct ipv6_netaddr`` (strings only)."""

    addr_s: str         #: "fd00::5" (compressed, as inet_ntop writes it)
    plen: int           #: prefix length (128 when none was given)
    mask_s: str         #: "ffff:ffff:ffff:ffff::"
    network_s: str      #: "fd00::"
    sn_addr_s: str      #: solicited-node multicast address, "ff02::1:ff00:5"
    is_lla: bool        #: a link-local address (fe80::/10)


@dataclass(frozen=True, slots=True)
class LportAddresses:
    """One parsed ``addresses`` / ``port_security`` entry (``struct lport_addresses``).

    ``ea_s`` is the MAC in OVN's canonical form (lower case, ``%02x:…``). IPv4 and IPv6
    addresses keep the order they were written in, as ``extract_lsp_addresses`` does.
    """

    ea_s: str
    ipv4_addrs: tuple[Ipv4NetAddr, ...] = ()
    ipv6_addrs: tuple[Ipv6NetAddr, ...] = ()


# --- ports and datapaths (northd.c: struct ovn_port / struct ovn_datapath) ---------------


@dataclass(frozen=True, slots=True)
class SwitchPort:
    """A Logical_Switch_Port as lflow generation sees it (``struct ovn_port`` with nbsp).

    ``lsp_addrs`` are the parsed ``addresses`` (then ``dynamic_addresses``) without
    ``unknown``/``router``/``dynamic``; ``ps_addrs`` the parsed ``port_security``.
    """

    name: str
    uuid: str                               #: NB Logical_Switch_Port UUID
    datapath: str                           #: name of the switch it is on
    tunnel_key: int                         #: Port_Binding.tunnel_key (1..32767)
    type: str                               #: "", "localport", "localnet", …
    addresses: tuple[str, ...]              #: NB ``addresses`` as written
    lsp_addrs: tuple[LportAddresses, ...]
    has_unknown: bool                       #: "unknown" is among ``addresses``
    dynamic_addresses: str | None
    port_security: tuple[str, ...]          #: NB ``port_security`` as written
    ps_addrs: tuple[LportAddresses, ...]
    enabled: bool                           #: NB ``enabled`` (unset means True)
    up: bool | None                         #: NB ``up``
    options: Mapping[str, str]
    parent_name: str | None
    tag: int | None                         #: NB ``tag`` (or ``tag_request``)
    external_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def n_lsp_non_router_addrs(self) -> int:
        """How many of ``lsp_addrs`` come from ``addresses`` (the rest are dynamic)."""
        return len(self.lsp_addrs) - (1 if self.dynamic_addresses else 0)

    @property
    def lsp_has_port_sec(self) -> bool:
        """True when port security applies (OVN: at least one parsed ps address)."""
        return bool(self.ps_addrs)

    @property
    def is_localnet(self) -> bool:
        """A ``localnet`` port (bridged to a physical network)."""
        return self.type == "localnet"

    @property
    def is_localport(self) -> bool:
        """A ``localport`` port (present on every chassis, never leaves it)."""
        return self.type == "localport"


@dataclass(frozen=True, slots=True)
class McastSwitchInfo:
    """IGMP/MLD snooping configuration of a switch (``struct mcast_switch_info``)."""

    enabled: bool = False               #: other_config:mcast_snoop
    querier: bool = True                #: other_config:mcast_querier
    flood_unregistered: bool = False    #: other_config:mcast_flood_unregistered
    table_size: int = 2048
    idle_timeout: int = 300
    query_interval: int = 150
    query_max_response: int = 1
    eth_src: str = ""
    ipv4_src: str = ""
    ipv6_src: str = ""


@dataclass(frozen=True, slots=True)
class AclInfo:
    """One NB ACL row, owned by a switch (``owner_kind="switch"``) or a port group."""

    uuid: str
    direction: str                      #: "from-lport" / "to-lport"
    priority: int
    match: str
    action: str                         #: allow, allow-related, allow-stateless, drop, …
    log: bool
    name: str | None
    severity: str | None
    meter: str | None
    label: int
    options: Mapping[str, str]          #: apply-after-lb, log-related
    owner_kind: str                     #: "switch" or "port_group"
    owner: str                          #: switch name or port group name


@dataclass(frozen=True, slots=True)
class SwitchDatapath:
    """A Logical_Switch as lflow generation sees it (``struct ovn_datapath`` with nbs).

    ``ports`` holds only valid ports (unique names). Flags are derived as ovn-northd
    23.03 derives them: ``has_unknown`` if an *enabled* port has "unknown" among its
    addresses; ``has_acls`` if the switch or a port group with a port on it has an
    ACL; ``has_stateful_acl`` if one of those ACLs is ``allow-related``
    (``ls_get_acl_flags``); ``has_lb_vip`` is False until load balancers are supported.
    ``localnet_ports`` are all ports of type localnet, enabled or not.
    ``datapaths_updated`` in :class:`NorthdTracked` reports changes of the fields other
    than ``ports``; port changes are reported per port.
    """

    name: str
    uuid: str                               #: NB Logical_Switch UUID
    tunnel_key: int                         #: Datapath_Binding.tunnel_key
    other_config: Mapping[str, str]
    external_ids: Mapping[str, str]
    ports: Mapping[str, SwitchPort]         #: by port name
    acls: tuple[AclInfo, ...]               #: the switch's own ACLs
    port_groups: frozenset[str]             #: port groups with a port on this switch
    localnet_ports: tuple[str, ...]         #: names, sorted
    has_unknown: bool
    has_acls: bool
    has_stateful_acl: bool
    has_lb_vip: bool
    has_vtep_lports: bool
    mcast_info: McastSwitchInfo


# --- port groups, address sets, meters, globals ------------------------------------------


@dataclass(frozen=True, slots=True)
class PortGroupInfo:
    """A Port_Group: its valid member ports, ACLs, and the switches its ports are on."""

    name: str
    uuid: str
    ports: frozenset[str]                   #: member port names that exist
    acls: tuple[AclInfo, ...]
    switches: frozenset[str]                #: switch names that hold a member port


@dataclass(frozen=True, slots=True)
class AddressSetInfo:
    """An address set as written to SB Address_Set (NB ones and derived ``<pg>_ip4/6``)."""

    name: str
    addresses: frozenset[str]
    derived_from_port_group: str | None = None


@dataclass(frozen=True, slots=True)
class MeterInfo:
    """An NB Meter: ACL ``log`` with a ``fair`` meter gets a per-ACL meter name."""

    name: str
    unit: str
    fair: bool


@dataclass(frozen=True, slots=True)
class NorthdGlobals:
    """NB_Global options after northd filled them, plus the chassis feature flags.

    ``features`` are OVN's ``struct chassis_features`` (``ct_no_masked_label``,
    ``mac_binding_timestamp``, ``ct_lb_related``, ``fdb_timestamp``, ``ls_dpg_column``):
    True unless some chassis lacks the feature.
    """

    options: Mapping[str, str]
    svc_monitor_mac: str
    mac_prefix: str
    features: Mapping[str, bool]


@dataclass(frozen=True, slots=True)
class NorthdTracked:
    """What changed in one incrementally handled run (names; deleted ones keep the old
    objects so their flows can be unlinked).

    A name deleted and created again in one run is reported as updated. So a port that
    moved to another switch, or the ports of a switch whose NB row changed (renamed
    away, replaced by a duplicate), are *updated* with a new ``datapath``: a consumer
    that files things by datapath must remember where it filed the old version. A
    renamed switch is its old name deleted and its new name added.
    """

    datapaths_added: frozenset[str] = frozenset()
    datapaths_updated: frozenset[str] = frozenset()     #: switch-level data changed
    datapaths_deleted: Mapping[str, SwitchDatapath] = field(default_factory=dict)
    ports_added: frozenset[str] = frozenset()
    ports_updated: frozenset[str] = frozenset()
    ports_deleted: Mapping[str, SwitchPort] = field(default_factory=dict)
    port_groups_added: frozenset[str] = frozenset()
    port_groups_updated: frozenset[str] = frozenset()
    port_groups_deleted: Mapping[str, PortGroupInfo] = field(default_factory=dict)
    address_sets_changed: frozenset[str] = frozenset()  #: added, updated or deleted

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return not (self.datapaths_added or self.datapaths_updated
                    or self.datapaths_deleted or self.ports_added or self.ports_updated
                    or self.ports_deleted or self.port_groups_added
                    or self.port_groups_updated or self.port_groups_deleted
                    or self.address_sets_changed)


@dataclass
class NorthdData:
    """The data of the ``northd`` engine node: the seam lflow generation consumes.

    ``ports`` indexes every valid port by name (the same objects as in
    ``switches[...].ports``). ``tracked`` is None after a recompute (take everything as
    new), else the changes of the current run.
    """

    switches: dict[str, SwitchDatapath] = field(default_factory=dict)
    ports: dict[str, SwitchPort] = field(default_factory=dict)
    port_groups: dict[str, PortGroupInfo] = field(default_factory=dict)
    address_sets: dict[str, AddressSetInfo] = field(default_factory=dict)
    meters: dict[str, MeterInfo] = field(default_factory=dict)
    globals: NorthdGlobals = field(default_factory=lambda: NorthdGlobals(
        {}, "", "", {}))
    tracked: NorthdTracked | None = None
