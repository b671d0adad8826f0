"""Where logical-flow generation plugs into pyovn-northd's engine graph.

:func:`pyovn.northd.graph.build_graph` wires the NB side (inputs, ``global_config``,
``northd``, the SB sync nodes) and then, if the package :mod:`pyovn.northd.lflow`
provides them, asks it for its nodes:

``pyovn.northd.lflow.LFLOW_SB_TABLES: dict[str, list[str] | None]``
    SB tables (and columns; None: all) the lflow nodes read, e.g. Logical_Flow,
    Logical_DP_Group. They are added to the monitored tables and appear in
    :attr:`LflowInputs.sb` as :class:`~pyovn.engine.ovsdb_input.TableInput` leaves.

``pyovn.northd.lflow.build_lflow_nodes(inputs: LflowInputs) -> Node[Any]``
    Wires the lflow nodes (``add_input`` on the nodes given here) and returns the node
    that ends them; the graph makes it an input of ``northd_output``.

The lflow nodes read :class:`~pyovn.northd.model.NorthdData` from ``inputs.northd``
(its ``tracked`` field says what changed in this run; None after a recompute) and the
SB Datapath_Binding UUID of each switch from ``inputs.sb_datapaths`` (a
:class:`SbDatapaths`: switch name → UUID, with the names whose UUID changed in this
run). A new switch's UUID is chosen by pyovn-northd and inserted in the same SB
transaction, so Logical_Flow rows may refer to it in that transaction. Writes go into
``ctx.sb_ops`` of the :class:`NorthdContext` handed to ``run()`` and handlers (declare
``needs_txn=lambda ctx: ctx.sb_ops``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyovn.engine import Node
from pyovn.engine.ovsdb_input import TableInput
from pyovn.northd.model import NorthdData, NorthdGlobals
from pyovn.ovsdb import Op

__all__ = ["LflowInputs", "NorthdContext", "SbDatapaths"]


@dataclass
class NorthdContext:
    """What one engine run may write: ops appended here are committed after the run.

    A list is None while its database cannot take a write (not connected, lock not
    held, a transaction still in flight); nodes that need it are then canceled.
    """

    nb_ops: list[Op] | None = field(default_factory=list)
    sb_ops: list[Op] | None = field(default_factory=list)


@dataclass
class SbDatapaths:
    """Data of the ``sync_datapaths`` node: the SB Datapath_Binding UUID of each switch
    (by switch name), and the names whose UUID appeared, changed or went away in the
    current run (None after a recompute: take everything as changed)."""

    uuids: dict[str, str] = field(default_factory=dict)
    changed: set[str] | None = None


@dataclass(frozen=True)
class LflowInputs:
    """The nodes and leaves lflow generation may take as inputs."""

    northd: Node[NorthdData]
    global_config: Node[NorthdGlobals]
    sb_datapaths: Node[SbDatapaths]
    nb: Mapping[str, TableInput]
    sb: Mapping[str, TableInput]
    extra: Mapping[str, Node[Any]] = field(default_factory=dict)
