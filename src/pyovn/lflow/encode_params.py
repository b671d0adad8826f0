"""What action encoding needs to know besides the actions themselves.

:class:`EncodeParams` is OVN's ``struct ovnact_encode_params`` for one logical
flow on one datapath: the pipeline the flow is in (``next`` and ``ct_next``
resubmit relative to it), whether the datapath is a switch (which conntrack
zone register ``ct_*`` actions use), how to turn port names into tunnel keys,
and the chassis-wide id tables for meters and groups (OVN's
``extend_table``).  Everything is a plain value or a callable, so encoding
stays pure; the controller supplies the callables.

:func:`resolve_field` turns an action operand (a symbol and bit range) into the
OpenFlow subfield it denotes, as OVN's ``expr_resolve_field`` does.

:class:`Encoder` is the state of one encoding (parameters and output list);
each ``encode_*`` module registers, per action class, a handler that appends
OpenFlow actions to it (:func:`handles`).  :mod:`pyovn.lflow.encode_actions`
imports them all and is the entry point.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pyovn.lflow.actions import Action, Pipeline
from pyovn.lflow.errors import LflowSemanticError
from pyovn.lflow.expr import FieldRef
from pyovn.lflow.tables import MFF_LOG_DNAT_ZONE
from pyovn.openflow.actions import Action as OfAction
from pyovn.openflow.fields import Subfield

__all__ = ["HANDLERS", "EncodeParams", "Encoder", "handles", "no_ids", "resolve_field"]


def no_ids(_name: str) -> int | None:
    """An id table that has no room: every allocation fails (OVN then skips the action)."""
    return None


def _no_port(_name: str) -> int | None:
    return None


@dataclass(frozen=True, slots=True)
class EncodeParams:
    """Parameters of encoding one logical flow's actions (OVN 23.03 semantics).

    - ``pipeline``/``table_id``: where the flow is (logical table number).
    - ``is_switch``: the datapath is a logical switch (else a router).
    - ``lookup_port``: logical port or multicast group name on this datapath to
      its tunnel key, None if unknown (``"none"`` is handled by the encoder).
    - ``ctrl_meter_id``: OpenFlow meter of the flow's ``controller_meter``
      (0 = none), put on every controller action except ``log``.
    - ``meter_id``/``group_id``: allocate (or find) the id of a named meter /
      a group described by OVN's group text; None when allocation fails.
    - ``tunnel_ofport``: OpenFlow port of the tunnel to a port's chassis
      (``fwd_group(liveness=true)``).
    - ``collector_ids``: IPFIX collector set ids configured on this chassis
      (``sample`` encodes to nothing for others).
    - ``common_nat_zone``: register of the ``*_in_czone`` NAT zone (the SNAT
      zone when the datapath has ``external_ids:snat-ct-zone``).
    """

    pipeline: Pipeline = Pipeline.INGRESS
    table_id: int = 0
    is_switch: bool = True
    lookup_port: Callable[[str], int | None] = _no_port
    ctrl_meter_id: int = 0
    meter_id: Callable[[str], int | None] = no_ids
    group_id: Callable[[str], int | None] = no_ids
    tunnel_ofport: Callable[[str], int | None] = _no_port
    collector_ids: frozenset[int] = frozenset()
    lflow_uuid: str = "00000000-0000-0000-0000-000000000000"
    dp_key: int = 0
    common_nat_zone: str = MFF_LOG_DNAT_ZONE

    def port_key(self, name: str) -> int | None:
        """The tunnel key of logical port or multicast group ``name`` ("none" is 0)."""
        if name == "none":
            return 0
        return self.lookup_port(name)


@functools.lru_cache(maxsize=8192)
def resolve_field(ref: FieldRef) -> Subfield:
    """The OpenFlow subfield that ``ref`` (``reg0[3]``, ``inport``...) denotes."""
    sym = ref.symbol
    ofs = ref.ofs
    while sym.parent is not None:
        ofs += sym.parent_ofs
        sym = sym.parent
    if sym.field is None:
        # Predicates and OVN-only fields have no OpenFlow field; the parser
        # never hands them to the encoder as operands.
        raise LflowSemanticError(f"{ref.symbol.name} is not an OpenFlow field")
    n_bits = ref.n_bits or sym.field.n_bits
    return Subfield(sym.field.name, ofs, n_bits)


class Encoder:
    """One encoding in progress: the parameters and the OpenFlow actions so far."""

    __slots__ = ("out", "params")

    def __init__(self, params: EncodeParams) -> None:
        self.params = params
        self.out: list[OfAction] = []

    def emit(self, *actions: OfAction) -> None:
        """Append OpenFlow actions."""
        self.out.extend(actions)

    def extend(self, actions: Iterable[OfAction]) -> None:
        """Append OpenFlow actions from an iterable."""
        self.out.extend(actions)

    def encode(self, actions: Sequence[Action]) -> None:
        """Encode OVN ``actions`` onto the output, in order."""
        for action in actions:
            handler = HANDLERS.get(type(action))
            if handler is None:
                raise LflowSemanticError(
                    f"{action.format()} cannot be translated to OpenFlow by pyovn")
            handler(self, action)

    def nested(self, actions: Sequence[Action]) -> list[OfAction]:
        """Encode ``actions`` separately (for ``clone``, ``ct`` exec, userdata)."""
        inner = Encoder(self.params)
        inner.encode(actions)
        return inner.out


#: Handler of each OVN action class: appends its OpenFlow actions to an Encoder.
HANDLERS: dict[type[Action], Callable[[Encoder, Any], None]] = {}

_H = TypeVar("_H", bound=Callable[[Encoder, Any], None])


def handles(*classes: type[Action]) -> Callable[[_H], _H]:
    """Decorator: register the function as the encoder of these action classes."""

    def register(handler: _H) -> _H:
        for cls in classes:
            HANDLERS[cls] = handler
        return handler

    return register
