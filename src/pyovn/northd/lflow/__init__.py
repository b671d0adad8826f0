"""pyovn-northd's logical flows: generation from the NB model, and the SB sync.

::

    NorthdData ──► LflowBuilder (resources → lflow_refs → LflowTable) ──► SbLflowSync
                    switch_flows / port_flows / acl_flows                (Logical_Flow,
                                                                          Logical_DP_Group)

The stage layout is OVN 23.03's (:mod:`.stages`); the flows' matches and actions are
ovn-northd 23.03's, compared against the real daemon by ``tests/oracle``. Domain code
knows nothing of the engine; :mod:`.node` adapts it (:func:`build_lflow_nodes`, the
seam of :mod:`pyovn.northd.seam`).
"""

from pyovn.northd.lflow.builder import LflowBuilder
from pyovn.northd.lflow.flows import LflowAttrs, LflowConfig, LflowKey, LflowSink
from pyovn.northd.lflow.node import (
    LFLOW_SB_TABLES,
    LflowNode,
    LflowSyncNode,
    build_lflow_nodes,
)
from pyovn.northd.lflow.sb_sync import SbLflowSync, flow_uuid
from pyovn.northd.lflow.stages import Stage
from pyovn.northd.lflow.table import LflowRef, LflowTable

__all__ = [
    "LFLOW_SB_TABLES",
    "LflowAttrs",
    "LflowBuilder",
    "LflowConfig",
    "LflowKey",
    "LflowNode",
    "LflowRef",
    "LflowSink",
    "LflowSyncNode",
    "LflowTable",
    "SbLflowSync",
    "Stage",
    "build_lflow_nodes",
    "flow_uuid",
]
