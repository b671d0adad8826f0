"""ovn-controller 23.03's OpenFlow layout of ``br-int``, declared as data.

Every OpenFlow table OVN uses is a :class:`OfTable` with its number, OVN's name
(``OFTABLE_*`` in ``controller/lflow.h``) and its role, and says who fills it:
the logical flow translator (``lflow``), the physical flow generator
(``physical``), or ``learn`` actions at run time.  The numbers were read off
real ovn-controller 23.03.1: ``ovs-ofctl dump-flows br-int`` of a sandbox, with
logical flows crafted to resubmit into each table (``output`` goes to 37,
ingress table N is 8+N, egress table N is 42+N, ``get_arp`` resubmits to 66 ...).
The newer OVN source on the web differs (37 is ``OFTABLE_OUTPUT_INIT`` there):
trust this table, not it.

Registers are declared the same way (``include/ovn/logical-fields.h``): the
logical ingress/egress ports live in ``reg14``/``reg15``, the flags in
``reg10`` with the ``MLF_*`` bits below, the conntrack zones in ``reg11`` (DNAT),
``reg12`` (SNAT) and ``reg13`` (switch zone), the datapath in ``metadata``.

:func:`check_lflow_flow` is the Faucet-style guard: a flow the translator
produces must land in a logical pipeline table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from pyovn.lflow.actions import Pipeline

__all__ = [
    "LOG_PIPELINE_LEN",
    "MFF_LOG_CT_ZONE",
    "MFF_LOG_DATAPATH",
    "MFF_LOG_DNAT_ZONE",
    "MFF_LOG_FLAGS",
    "MFF_LOG_INPORT",
    "MFF_LOG_OUTPORT",
    "MFF_LOG_SNAT_ZONE",
    "TABLES",
    "TABLES_BY_NAME",
    "Mlf",
    "OfTable",
    "Owner",
    "check_lflow_flow",
    "first_table",
    "logical_table",
    "output_table",
    "table",
]

#: Logical tables per pipeline (ovn-controller 23.03's LOG_PIPELINE_LEN).
LOG_PIPELINE_LEN = 29


class Owner(enum.Enum):
    """Who writes a table's flows."""

    LFLOW = "lflow"  # translated Logical_Flow rows
    PHYSICAL = "physical"  # ovn-controller's own flows (ports, tunnels, output)
    LEARN = "learn"  # flows learned by the datapath at run time


@dataclass(frozen=True, slots=True)
class OfTable:
    """One OpenFlow table (or a range of them, for the logical pipelines)."""

    name: str  # OVN's OFTABLE_* name without the prefix
    number: int
    role: str
    owner: Owner
    size: int = 1  # how many consecutive tables (LOG_PIPELINE_LEN for pipelines)

    def __contains__(self, table_id: object) -> bool:
        return isinstance(table_id, int) and self.number <= table_id < self.number + self.size


TABLES: tuple[OfTable, ...] = (
    OfTable("PHY_TO_LOG", 0, "physical port or tunnel to logical datapath and inport",
            Owner.PHYSICAL),
    OfTable("LOG_INGRESS_PIPELINE", 8, "logical ingress pipeline, table N at 8+N",
            Owner.LFLOW, LOG_PIPELINE_LEN),
    OfTable("OUTPUT_LARGE_PKT_DETECT", 37, "'output' from ingress: check packet length",
            Owner.PHYSICAL),
    OfTable("OUTPUT_LARGE_PKT_PROCESS", 38, "too-big packets to ICMP errors", Owner.PHYSICAL),
    OfTable("REMOTE_OUTPUT", 39, "outport on another chassis: tunnel", Owner.PHYSICAL),
    OfTable("LOCAL_OUTPUT", 40, "outport here: multicast groups, zones", Owner.PHYSICAL),
    OfTable("CHECK_LOOPBACK", 41, "drop inport == outport unless allowed", Owner.PHYSICAL),
    OfTable("LOG_EGRESS_PIPELINE", 42, "logical egress pipeline, table N at 42+N",
            Owner.LFLOW, LOG_PIPELINE_LEN - 7),
    OfTable("SAVE_INPORT", 64, "'output' from egress: clear in_port when looping back",
            Owner.PHYSICAL),
    OfTable("LOG_TO_PHY", 65, "logical outport to physical port or patch", Owner.PHYSICAL),
    OfTable("MAC_BINDING", 66, "get_arp/get_nd/lookup_*_ip: MAC_Binding rows",
            Owner.PHYSICAL),
    OfTable("MAC_LOOKUP", 67, "lookup_arp/lookup_nd: MAC_Binding rows", Owner.PHYSICAL),
    OfTable("CHK_LB_HAIRPIN", 68, "chk_lb_hairpin()", Owner.PHYSICAL),
    OfTable("CHK_LB_HAIRPIN_REPLY", 69, "chk_lb_hairpin_reply()", Owner.PHYSICAL),
    OfTable("CT_SNAT_HAIRPIN", 70, "ct_snat_to_vip", Owner.PHYSICAL),
    OfTable("GET_FDB", 71, "get_fdb(): FDB rows", Owner.PHYSICAL),
    OfTable("LOOKUP_FDB", 72, "lookup_fdb(): FDB rows", Owner.PHYSICAL),
    OfTable("CHK_IN_PORT_SEC", 73, "check_in_port_sec(): port security", Owner.PHYSICAL),
    OfTable("CHK_IN_PORT_SEC_ND", 74, "check_in_port_sec() for ARP/ND", Owner.PHYSICAL),
    OfTable("CHK_OUT_PORT_SEC", 75, "check_out_port_sec(): port security", Owner.PHYSICAL),
    OfTable("ECMP_NH_MAC", 76, "chk_ecmp_nh_mac(): learned by commit_ecmp_nh",
            Owner.LEARN),
    OfTable("ECMP_NH", 77, "chk_ecmp_nh(): learned by commit_ecmp_nh", Owner.LEARN),
    OfTable("CHK_LB_AFFINITY", 78, "chk_lb_aff(): learned by commit_lb_aff", Owner.LEARN),
)
TABLES_BY_NAME: Mapping[str, OfTable] = {t.name: t for t in TABLES}


def table(name: str) -> int:
    """The OpenFlow table number of ``OFTABLE_<name>`` (``table("GET_FDB")`` is 71)."""
    return TABLES_BY_NAME[name].number


_INGRESS = TABLES_BY_NAME["LOG_INGRESS_PIPELINE"]
_EGRESS = TABLES_BY_NAME["LOG_EGRESS_PIPELINE"]


def first_table(pipeline: Pipeline) -> int:
    """The OpenFlow table of logical table 0 of ``pipeline`` (8 or 42)."""
    return _INGRESS.number if pipeline is Pipeline.INGRESS else _EGRESS.number


def logical_table(pipeline: Pipeline, table_id: int) -> int:
    """The OpenFlow table of logical table ``table_id`` of ``pipeline``."""
    return first_table(pipeline) + table_id


def output_table(pipeline: Pipeline) -> int:
    """Where ``output`` resubmits: 37 from ingress, 64 (SAVE_INPORT) from egress."""
    if pipeline is Pipeline.INGRESS:
        return table("OUTPUT_LARGE_PKT_DETECT")
    return table("SAVE_INPORT")


def check_lflow_flow(table_id: int) -> None:
    """Raise ValueError unless ``table_id`` is one a logical flow may be put in."""
    if table_id not in _INGRESS and table_id not in _EGRESS:
        raise ValueError(f"table {table_id} is not a logical pipeline table")


# -- registers (OVS meta-flow names) ----------------------------------------------------

MFF_LOG_DATAPATH = "metadata"
MFF_LOG_FLAGS = "reg10"
MFF_LOG_DNAT_ZONE = "reg11"
MFF_LOG_SNAT_ZONE = "reg12"
MFF_LOG_CT_ZONE = "reg13"
MFF_LOG_INPORT = "reg14"
MFF_LOG_OUTPORT = "reg15"


class Mlf(enum.IntEnum):
    """Bits of ``MFF_LOG_FLAGS`` (reg10) as ovn-controller 23.03 numbers them."""

    ALLOW_LOOPBACK = 0
    RCV_FROM_RAMP = 1
    FORCE_SNAT_FOR_DNAT = 2
    FORCE_SNAT_FOR_LB = 3
    LOCAL_ONLY = 4
    NESTED_CONTAINER = 5
    LOOKUP_MAC = 6
    LOOKUP_LB_HAIRPIN = 7
    LOOKUP_FDB = 8
    SKIP_SNAT_FOR_LB = 9
    LOCALPORT = 10
    USE_SNAT_ZONE = 11
    CHECK_PORT_SEC = 12
    LOOKUP_COMMIT_ECMP_NH = 13
    USE_LB_AFF_SESSION = 14
