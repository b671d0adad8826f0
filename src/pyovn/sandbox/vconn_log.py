"""Reading an ovs-vswitchd log written with ``vconn`` at debug level: which flow_mods,
group_mods and meter_mods the switch received, bundled ones included.

Open vSwitch prints every OpenFlow message it receives as one log entry
(``unix#7: received: OFPT_FLOW_MOD (OF1.5) (xid=0x6): ADD table:8 priority=50,...``);
a message inside a bundle is printed on the lines that follow its
``OFPT_BUNDLE_ADD_MESSAGE`` entry, and a group_mod's content on the line after its
header. :func:`parse_dump_flows` keys a ``dump-flows`` the same way, to compare a
table's change with the flow_mods that made it.

Pure parsing, no I/O: :class:`pyovn.sandbox.outage.OpenFlowModCounter` turns the logging
on and off around an interval.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["FlowKey", "OpenFlowMod", "OpenFlowMods", "flow_key", "parse_dump_flows",
           "parse_vswitchd_log"]

#: (table, match as Open vSwitch prints it, priority included): what OpenFlow keys a flow by.
FlowKey = tuple[int, str]

_ENTRY_RE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z\|\d+\|(\w+)\|(\w+)\|(.*)$")
_RECEIVED_RE = re.compile(r"^(\S+): received: (OFPT_\w+) \(OF[\d.x]+\) \(xid=\w+\):\s*(.*)$")
_INNER_RE = re.compile(r"^(OFPT_\w+) \(OF[\d.x]+\) \(xid=\w+\):\s*(.*)$")
_MOD_KINDS = {"OFPT_FLOW_MOD": "flow", "OFPT_GROUP_MOD": "group", "OFPT_METER_MOD": "meter"}
_FLOW_MOD_NOT_MATCH = ("cookie:", "idle:", "hard:", "importance:", "pri:", "buf:",
                       "out_port:", "out_group:")
_FLOW_MOD_FLAGS = {"send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts",
                   "no_byte_counts"}


@dataclass(frozen=True)
class OpenFlowMod:
    """One flow_mod, group_mod or meter_mod as ovs-vswitchd logged its receipt.

    ``command`` is Open vSwitch's word (``ADD``, ``MOD_STRICT``, ``DEL_STRICT`` …),
    ``text`` the message as printed from the command on, ``connection`` the OpenFlow
    connection (``unix#7``) and ``bundled`` whether it came inside a bundle.
    """

    kind: str
    command: str
    text: str
    connection: str
    bundled: bool

    @property
    def flow_key(self) -> FlowKey | None:
        """The (table, match) a flow_mod is about; None for group and meter mods."""
        return flow_key(self.text) if self.kind == "flow" else None


@dataclass(frozen=True)
class OpenFlowMods:
    """The modifications ovs-vswitchd received over an interval, and how much some of
    its coverage counters grew meanwhile (``coverage``; see
    :attr:`switch_reconfigured`)."""

    mods: tuple[OpenFlowMod, ...] = ()
    coverage: Mapping[str, int] = field(default_factory=dict)

    @property
    def switch_reconfigured(self) -> bool:
        """Whether ovs-vswitchd reconfigured its bridges during the interval.

        With thousands of ports that stalls its main thread, which also forwards the
        packets of userspace (non-PMD) ports, for a second or more: loss and gaps
        measured then are the switch's, whatever caused the reconfiguration.
        ``coverage["nln_changed"]`` tells whether host interface events did.
        """
        return self.coverage.get("bridge_reconfigure", 0) > 0

    def _count(self, kind: str) -> int:
        return sum(1 for m in self.mods if m.kind == kind)

    @property
    def flow_mods(self) -> int:
        """flow_mods received, bundled or not."""
        return self._count("flow")

    @property
    def group_mods(self) -> int:
        """group_mods received, bundled or not."""
        return self._count("group")

    @property
    def meter_mods(self) -> int:
        """meter_mods received."""
        return self._count("meter")

    @property
    def total(self) -> int:
        """All of them."""
        return len(self.mods)

    def commands(self, kind: str = "flow") -> Counter[str]:
        """How many of each command (``ADD``, ``MOD_STRICT`` …) for ``kind``."""
        return Counter(m.command for m in self.mods if m.kind == kind)

    def flow_keys(self) -> list[FlowKey]:
        """The (table, match) of every flow_mod, in order of receipt."""
        return [key for m in self.mods if (key := m.flow_key) is not None]

    def summary(self) -> str:
        """One line for logs and reports."""
        flows = ", ".join(f"{n} {c}" for c, n in sorted(self.commands("flow").items()))
        return (f"{self.flow_mods} flow_mods ({flows or 'none'}), {self.group_mods} "
                f"group_mods, {self.meter_mods} meter_mods")


def flow_key(flow_mod_text: str) -> FlowKey:
    """(table, match) of a flow_mod as Open vSwitch prints it:
    ``ADD table:8 priority=50,reg14=0x1,metadata=0x1 cookie:0x1 actions=...``."""
    table, match = 0, ""
    for token in flow_mod_text.split()[1:]:
        if token.startswith("actions="):
            break
        if token.startswith("table:"):
            table = int(token[6:])
        elif not token.startswith(_FLOW_MOD_NOT_MATCH) and token not in _FLOW_MOD_FLAGS:
            match = token
    return table, match


def parse_dump_flows(dump: str) -> dict[FlowKey, str]:
    """``ovs-ofctl dump-flows --no-stats`` output as {(table, match): "cookie=C actions=A"},
    keyed like :func:`flow_key`. Flows with a timeout (the switch makes them itself with
    ``learn``) are left out."""
    table: dict[FlowKey, str] = {}
    for line in dump.splitlines():
        head, sep, actions = line.strip().partition(" actions=")
        if not sep or "idle_timeout=" in head or "hard_timeout=" in head:
            continue
        parts = head.split(", ")
        fields = dict(p.split("=", 1) for p in parts[:-1] if "=" in p)
        key = (int(fields.get("table", "0")), parts[-1].split()[-1])
        table[key] = f"cookie={fields.get('cookie', '0x0')} actions={actions}"
    return table


def parse_vswitchd_log(text: str) -> OpenFlowMods:
    """The modifications in an ovs-vswitchd log written with ``vconn`` at debug level.

    Each received message is one log entry; the message inside an
    ``OFPT_BUNDLE_ADD_MESSAGE`` is printed on the entry's following lines.
    """
    mods: list[OpenFlowMod] = []
    for header, lines in _entries(text):
        rest = lines
        received = _RECEIVED_RE.match(header)
        if received is None:
            continue
        connection, msg_type, body = received.groups()
        bundled = msg_type == "OFPT_BUNDLE_ADD_MESSAGE"
        if bundled:
            inner = next((i for i, line in enumerate(rest) if _INNER_RE.match(line)), None)
            if inner is None:
                continue
            found = _INNER_RE.match(rest[inner])
            assert found is not None
            msg_type, body = found.groups()
            rest = rest[inner + 1:]
        kind = _MOD_KINDS.get(msg_type)
        if kind is None:
            continue
        if not body and rest:
            body = rest[0].strip()  # group_mods print their content on the next line
        command = body.split(" ", 1)[0] if body else "?"
        mods.append(OpenFlowMod(kind, command, body, connection, bundled))
    return OpenFlowMods(tuple(mods))


def _entries(text: str) -> Iterator[tuple[str, list[str]]]:
    """(vconn DBG message, continuation lines) of each log entry."""
    header: str | None = None
    rest: list[str] = []
    for line in text.splitlines():
        entry = _ENTRY_RE.match(line)
        if entry is None:
            if header is not None:
                rest.append(line)
            continue
        if header is not None:
            yield header, rest
        header, rest = None, []
        if entry.group(1) == "vconn" and entry.group(2) == "DBG":
            header = entry.group(3)
    if header is not None:
        yield header, rest
