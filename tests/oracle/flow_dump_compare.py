"""Normalising and comparing two ``ovs-ofctl dump-flows`` of br-int (ovn-controller's
and pyovn-controller's), for tests/oracle/test_controller_dump_flows.py.

Normalisation (:func:`normalise`): statistics dropped; cookies reduced to their low 32
bits (OVN's cookie; the high half is pyovn's ownership mark); conjunction ids renamed
after the flows that use them; zone numbers in tables 0, 40 and 65 renamed through a
mapping; group ids replaced by the group's description. :func:`compare` matches the
two multisets and explains what is left with documented :class:`Equivalence` (the
same flow written differently) and :class:`KnownDifference` (a flow on one side only)
entries.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyovn.openflow.parse import split_top_level
from pyovn.sandbox.sandbox import Sandbox

# -- dumping and normalising ----------------------------------------------------------


@dataclass(frozen=True)
class Dump:
    """What one controller left on br-int."""

    flows: list[str]
    groups: list[str]
    zones: dict[str, int]  # ct-zone user -> zone, from br-int external_ids
    meters: list[str] = field(default_factory=list)


def dump(sb: Sandbox) -> Dump:
    """br-int's flows, groups, meters and conntrack zone assignment."""
    flows = [ln for ln in sb.ofctl("dump-flows", "br-int").splitlines() if "actions=" in ln]
    groups = [ln for ln in sb.ofctl("dump-groups", "br-int").splitlines() if "group_id=" in ln]
    meters = [ln for ln in sb.ofctl("-O", "OpenFlow15", "dump-meters", "br-int").splitlines()
              if "meter=" in ln]
    ids = sb.vsctl("get", "Bridge", "br-int", "external_ids")
    zones = {user: int(zone)
             for user, zone in re.findall(r'"?ct-zone-([^"=,\s]+)"?="(\d+)"', ids)}
    return Dump(flows, groups, zones, meters)


@dataclass(frozen=True, order=True)
class NFlow:
    """A normalised flow; ``str()`` is its ovs-ofctl form."""

    table: int
    priority: int
    cookie: int  # the low 32 bits
    match: str
    actions: str

    def __str__(self) -> str:
        match = f",{self.match}" if self.match else ""
        return (f"cookie={self.cookie:#x}, table={self.table}, priority={self.priority}"
                f"{match} actions={self.actions}")


_STATS = re.compile(r"\b(?:duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*,\s*")
_CONJ_ID = re.compile(r"conj_id=(\d+)")
_CONJUNCTION = re.compile(r"^conjunction\((\d+),(\d+/\d+)\)$")
_ZONE_LOAD = re.compile(r"set_field:(0x[0-9a-f]+)->(reg1[123])\b")
_METER = re.compile(r"(meter_id=|meter:)(\d+)")
_GROUP = re.compile(r"\bgroup:(\d+)")
#: Tables whose reg11/12/13 loads are zone numbers (physical→logical, local output,
#: logical→physical through a patch port).
ZONE_TABLES = frozenset({0, 40, 65})


@dataclass(frozen=True)
class RawFlow:
    """A dumped flow split into its parts, statistics dropped, full cookie kept."""

    table: int
    priority: int
    cookie: int
    match: str
    actions: str


def parse_line(line: str) -> RawFlow:
    """One dump-flows line (ovs-ofctl leaves out cookie 0, table 0, default priority)."""
    head, _, actions = _STATS.sub("", line.strip()).partition(" actions=")
    cookie, table, priority = 0, 0, 32768
    match: list[str] = []
    for token in (t.strip() for t in head.split(",")):
        name, _, value = token.partition("=")
        if name == "cookie":
            cookie = int(value, 16)
        elif name == "table":
            table = int(value)
        elif name == "priority":
            priority = int(value)
        elif token:
            match.append(token)
    return RawFlow(table, priority, cookie, ",".join(match), actions)


def _digest(what: object) -> str:
    return hashlib.sha1(repr(what).encode()).hexdigest()[:8]


def _conj_names(flows: list[RawFlow]) -> dict[int, str]:
    """Conjunction id -> a name that depends only on the flows that use it."""
    uses: dict[int, list[tuple[object, ...]]] = {}
    for f in flows:
        found = _CONJ_ID.search(f.match)
        if found:
            rest = _CONJ_ID.sub("", f.match).replace(",,", ",").strip(",")
            uses.setdefault(int(found[1]), []).append(
                ("conj_id", f.table, f.priority, f.cookie & 0xFFFFFFFF, rest))
        for act in split_top_level(f.actions):
            clause = _CONJUNCTION.match(act)
            if clause:
                uses.setdefault(int(clause[1]), []).append(
                    ("clause", f.table, f.priority, f.match, clause[2]))
    return {cid: f"conj:{_digest(sorted(map(repr, u)))}" for cid, u in uses.items()}


def group_descriptions(groups: list[str]) -> dict[int, str]:
    """Group id -> the group's dump-groups line without its id."""
    out: dict[int, str] = {}
    for line in groups:
        found = re.search(r"group_id=(\d+),?", line)
        if found:
            out[int(found[1])] = line.replace(found[0], "").strip()
    return out


def meter_descriptions(meters: list[str]) -> dict[int, str]:
    """Meter id -> the meter's dump-meters line without its id."""
    out: dict[int, str] = {}
    for line in meters:
        found = re.search(r"meter=(\d+)\s*", line)
        if found:
            out[int(found[1])] = line.replace(found[0], "").strip()
    return out


def normalise(d: Dump, zone_map: dict[int, int] | None = None) -> Counter[NFlow]:
    """The multiset of normalised flows of a dump (``zone_map``: zone renaming)."""
    raw = [parse_line(line) for line in d.flows]
    conj = _conj_names(raw)
    groups = {gid: f"group:{_digest(text)}"
              for gid, text in group_descriptions(d.groups).items()}
    meters = {mid: f"<{_digest(text)}>" for mid, text in meter_descriptions(d.meters).items()}
    out: Counter[NFlow] = Counter()
    for f in raw:
        match = _CONJ_ID.sub(lambda m: f"conj_id={conj[int(m[1])]}", f.match)
        acts = split_top_level(f.actions)
        clauses = sorted(a for a in acts if _CONJUNCTION.match(a))
        if clauses:
            acts = [a for a in acts if not _CONJUNCTION.match(a)] + [
                _CONJUNCTION.sub(lambda m: f"conjunction({conj[int(m[1])]},{m[2]})", a)
                for a in clauses]
        text = ",".join(acts)
        text = _GROUP.sub(lambda m: groups.get(int(m[1]), m[0]), text)
        text = _METER.sub(lambda m: f"{m[1]}{meters.get(int(m[2]), m[2])}", text)
        if zone_map and f.table in ZONE_TABLES:
            text = _ZONE_LOAD.sub(
                lambda m: f"set_field:{zone_map.get(int(m[1], 16), int(m[1], 16)):#x}->{m[2]}",
                text)
        out[NFlow(f.table, f.priority, f.cookie & 0xFFFFFFFF, match, text)] += 1
    return out


# -- explaining differences --------------------------------------------------------


@dataclass(frozen=True)
class KnownDifference:
    """A documented difference: flows only on one side that ``claims`` accepts."""

    name: str
    side: str  # "pyovn" (only pyovn installs them) or "ovn"
    why: str
    claims: Callable[[NFlow], bool]


@dataclass(frozen=True)
class Equivalence:
    """A documented difference in how the same flow is written: a flow of each side
    that ``rewrite`` makes equal are paired (the rewrite changes at least one)."""

    name: str
    why: str
    rewrite: Callable[[NFlow], NFlow]


# -- comparison ---------------------------------------------------------------------------


@dataclass
class Result:
    """Differences between the two multisets, per table, after the known ones
    (``claimed``: by name of the equivalence or exception, the flows it explained)."""

    only_ovn: list[NFlow] = field(default_factory=list)
    only_pyovn: list[NFlow] = field(default_factory=list)
    claimed: dict[str, list[NFlow]] = field(default_factory=dict)

    def report(self) -> str:
        """A readable, per-table listing of the unexplained differences."""
        lines: list[str] = []
        for table in sorted({f.table for f in self.only_ovn + self.only_pyovn}):
            lines.append(f"table {table}:")
            lines += [f"  - ovn-controller only: {f}" for f in self.only_ovn
                      if f.table == table]
            lines += [f"  + pyovn-controller only: {f}" for f in self.only_pyovn
                      if f.table == table]
        return "\n".join(lines)


def _pair(ovn: Counter[NFlow], mine: Counter[NFlow], eq: Equivalence) -> list[NFlow]:
    """Take out of both leftovers the flows that ``eq`` makes equal; return them."""
    by_form: dict[NFlow, list[NFlow]] = {}
    for flow in sorted(mine.elements()):
        by_form.setdefault(eq.rewrite(flow), []).append(flow)
    paired: list[NFlow] = []
    for flow in sorted(ovn.elements()):
        partners = by_form.get(eq.rewrite(flow))
        if partners:
            partner = partners.pop()
            ovn[flow] -= 1
            mine[partner] -= 1
            paired += (flow, partner)
    return paired


def compare(ovn: Counter[NFlow], mine: Counter[NFlow],
            equivalences: Sequence[Equivalence] = (),
            exceptions: Sequence[KnownDifference] = ()) -> Result:
    """Match the multisets; pair leftovers an equivalence makes equal; hand each flow
    still left to the first exception claiming it."""
    result = Result(claimed={name: [] for name in [e.name for e in equivalences]
                             + [e.name for e in exceptions]})
    ovn_left, mine_left = ovn - mine, mine - ovn
    for eq in equivalences:
        result.claimed[eq.name] = _pair(ovn_left, mine_left, eq)
    for side, extra, out in (("ovn", +ovn_left, result.only_ovn),
                             ("pyovn", +mine_left, result.only_pyovn)):
        for flow in sorted(extra.elements()):
            owner = next((e for e in exceptions if e.side == side and e.claims(flow)),
                         None)
            if owner is None:
                out.append(flow)
            else:
                result.claimed[owner.name].append(flow)
    return result
