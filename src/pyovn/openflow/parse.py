"""Parse ``ovs-ofctl dump-flows`` (and ``add-flow``) text into canonical :class:`Flow`.

The inverse of ``str(flow)`` for the fields and actions this codec supports, so an
oracle test can turn real ``ovs-ofctl`` or ``ovn-controller`` output into the same
objects pyovn builds and compare them with ``==``.  Statistics (``duration``,
``n_packets`` …) are skipped.  Unsupported syntax raises
:class:`~pyovn.openflow.errors.OpenFlowEncodeError` naming the offending text.
"""

from __future__ import annotations

from collections.abc import Callable

from pyovn.openflow.actions import (
    Action,
    DecTtl,
    GotoTable,
    Group,
    Meter,
    Output,
    PopVlan,
    PushVlan,
    SetField,
    SetQueue,
    Subfield,
    load,
    move,
)
from pyovn.openflow.constants import (
    OFP_DEFAULT_PRIORITY,
    OFPG_ANY,
    OFPP_ANY,
    PACKET_IN_REASON_NAMES,
    GroupType,
)
from pyovn.openflow.ct import ALG_NAMES, Ct, Nat
from pyovn.openflow.errors import OpenFlowEncodeError
from pyovn.openflow.fields import field_by_name
from pyovn.openflow.flow import Flow
from pyovn.openflow.learn import Learn, LearnSpec
from pyovn.openflow.match import Match
from pyovn.openflow.mods import Bucket, GroupEntry
from pyovn.openflow.nx_actions import (
    CheckPktLarger,
    Clone,
    Conjunction,
    Controller,
    CtClear,
    Exit,
    FinTimeout,
    Note,
    OutputReg,
    Resubmit,
    Sample,
)
from pyovn.openflow.values import parse_port, parse_value

_STATS_KEYS = frozenset({
    "duration", "n_packets", "n_bytes", "idle_age", "hard_age", "idle_timeout",
    "hard_timeout", "importance", "send_flow_rem", "reset_counts", "no_packet_counts",
    "no_byte_counts", "check_overlap", "out_port", "out_group"})
_MOD_FIELDS = {"mod_dl_src": "eth_src", "mod_dl_dst": "eth_dst", "mod_nw_src": "ip_src",
               "mod_nw_dst": "ip_dst", "mod_tp_src": "tcp_src", "mod_tp_dst": "tcp_dst",
               "mod_nw_ttl": "nw_ttl", "mod_vlan_vid": "vlan_vid"}
_REASONS = {name: number for number, name in PACKET_IN_REASON_NAMES.items()}
_ALGS = {name: number for number, name in ALG_NAMES.items()}


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split ``text`` at ``sep`` characters outside parentheses and brackets."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise OpenFlowEncodeError(f"invalid number {text!r}") from None


def _hex_bytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(".", "").replace(":", ""))


def _inner(text: str, name: str) -> str:
    """The text between ``name(`` and the matching last ``)``."""
    if not text.startswith(name + "(") or not text.endswith(")"):
        raise OpenFlowEncodeError(f"expected {name}(...), got {text!r}")
    return text[len(name) + 1:-1]


def _key_values(text: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for part in split_top_level(text):
        key, eq, value = part.partition("=")
        out.append((key.strip(), value.strip() if eq else None))
    return out


def _parse_resubmit(text: str) -> Action:
    if text.startswith("resubmit:"):
        return Resubmit(parse_port(text[9:]))
    args = [a.strip() for a in _inner(text, "resubmit").split(",")]
    port = parse_port(args[0]) if args[0] else Resubmit().port
    table = _int(args[1]) if len(args) > 1 and args[1] else 255
    return Resubmit(port, table, len(args) > 2 and args[2] == "ct")


def _parse_controller(text: str) -> Action:
    if text.upper().startswith("CONTROLLER:"):
        return Controller(max_len=_int(text.split(":", 1)[1]))
    if text in ("controller", "CONTROLLER"):
        return Controller()
    kwargs: dict[str, object] = {}
    for key, value in _key_values(_inner(text, "controller")):
        if key == "reason" and value is not None:
            kwargs["reason"] = _REASONS[value]
        elif key == "max_len" and value is not None:
            kwargs["max_len"] = _int(value)
        elif key == "id" and value is not None:
            kwargs["controller_id"] = _int(value)
        elif key == "userdata" and value is not None:
            kwargs["userdata"] = _hex_bytes(value)
        elif key == "pause":
            kwargs["pause"] = True
        elif key == "meter_id" and value is not None:
            kwargs["meter_id"] = _int(value)
        else:
            raise OpenFlowEncodeError(f"unsupported controller argument {key!r}")
    return Controller(**kwargs)  # type: ignore[arg-type]


def _parse_nat(text: str) -> Nat:
    if text == "nat":
        return Nat()
    args = split_top_level(_inner(text, "nat"))
    kind, _, spec = args[0].partition("=")
    flags = {a: True for a in args[1:]}
    ip_min = ip_max = None
    port_min = port_max = None
    if spec:
        if spec.startswith("["):
            addresses, _, ports = spec.rpartition("]:") if "]:" in spec else (spec, "", "")
            addresses = addresses.replace("[", "").replace("]", "")
        elif spec.count(":") > 1:  # a bare IPv6 address (range): no port
            addresses, ports = spec, ""
        else:
            addresses, _, ports = spec.partition(":")
        ip_min, _, ip_max_text = addresses.partition("-")
        ip_max = ip_max_text or None
        if ports:
            low, _, high = ports.partition("-")
            port_min, port_max = _int(low), (_int(high) if high else None)
    return Nat(kind, ip_min or None, ip_max, port_min, port_max,
               flags.get("persistent", False), flags.get("hash", False),
               flags.get("random", False))


def _parse_ct(text: str) -> Action:
    kwargs: dict[str, object] = {}
    for part in split_top_level(_inner(text, "ct")):
        if part in ("commit", "force"):
            kwargs[part] = True
        elif part == "nat" or part.startswith("nat("):
            kwargs["nat"] = _parse_nat(part)
        elif part.startswith("exec("):
            kwargs["exec"] = parse_actions(_inner(part, "exec"))
        else:
            key, _, value = part.partition("=")
            if key == "table":
                kwargs["table"] = _int(value)
            elif key == "zone":
                kwargs["zone"] = value
            elif key == "alg":
                kwargs["alg"] = _ALGS.get(value) or _int(value)
            else:
                raise OpenFlowEncodeError(f"unsupported ct argument {part!r}")
    return Ct(**kwargs)  # type: ignore[arg-type]


def _parse_learn_spec(part: str) -> LearnSpec:
    if part.startswith("load:"):
        src, _, dst = part[5:].partition("->")
        if "[" in src:
            return LearnSpec("load", dst, src=src)
        return LearnSpec("load", dst, value=_int(src))
    if part.startswith("output:"):
        return LearnSpec("output", src=part[7:])
    dst, eq, src = part.partition("=")
    if not eq:
        return LearnSpec("match", dst)
    if "[" in src:
        return LearnSpec("match", dst, src=src)
    if "[" in dst:
        return LearnSpec("match", dst, value=_int(src))
    field = field_by_name(dst)
    value, _ = parse_value(field, src)
    return LearnSpec("match", field.name, value=value)


def _parse_learn(text: str) -> Action:
    kwargs: dict[str, object] = {}
    specs = []
    for part in split_top_level(_inner(text, "learn")):
        key, eq, value = part.partition("=")
        if key in ("table", "idle_timeout", "hard_timeout", "fin_idle_timeout",
                   "fin_hard_timeout", "priority", "cookie") and eq and "[" not in value:
            kwargs[key] = _int(value)
        elif part in ("send_flow_rem", "delete_learned"):
            kwargs[part] = True
        else:
            specs.append(_parse_learn_spec(part))
    return Learn(specs=tuple(specs), **kwargs)  # type: ignore[arg-type]


def _parse_sample(text: str) -> Action:
    kwargs: dict[str, object] = {}
    for key, value in _key_values(_inner(text, "sample")):
        if key == "sampling_port" and value is not None:
            kwargs[key] = parse_port(value)
        elif key in ("ingress", "egress"):
            kwargs["direction"] = 1 if key == "ingress" else 2
        elif value is not None:
            kwargs[key] = _int(value)
    return Sample(**kwargs)  # type: ignore[arg-type]


def _parse_fin_timeout(text: str) -> Action:
    kwargs = {key: _int(value) for key, value in _key_values(_inner(text, "fin_timeout"))
              if value is not None}
    return FinTimeout(**kwargs)


def _parse_set_field(arg: str) -> Action:
    value, _, field = arg.rpartition("->")
    fl = field_by_name(field)
    number, mask = parse_value(fl, value)
    return SetField(fl.name, number, mask)


def _parse_output(arg: str) -> Action:
    if "[" in arg:
        return OutputReg(Subfield.parse(arg))
    return Output(parse_port(arg))


_SIMPLE: dict[str, Callable[[], Action]] = {
    "pop_vlan": PopVlan, "strip_vlan": PopVlan, "dec_ttl": DecTtl, "ct_clear": CtClear,
    "exit": Exit,
}
_WITH_ARG: dict[str, Callable[[str], Action]] = {
    "output": _parse_output,
    "group": lambda a: Group(_int(a)),
    "meter": lambda a: Meter(_int(a)),
    "set_queue": lambda a: SetQueue(_int(a)),
    "goto_table": lambda a: GotoTable(_int(a)),
    "push_vlan": lambda a: PushVlan(_int(a)),
    "set_field": _parse_set_field,
    "load": lambda a: load(_int(a.partition("->")[0]), a.partition("->")[2]),
    "move": lambda a: move(a.partition("->")[0], a.partition("->")[2]),
    "note": lambda a: Note(_hex_bytes(a)),
}
_WITH_PARENS: dict[str, Callable[[str], Action]] = {
    "resubmit": _parse_resubmit, "controller": _parse_controller, "ct": _parse_ct,
    "learn": _parse_learn, "sample": _parse_sample, "fin_timeout": _parse_fin_timeout,
    "clone": lambda t: Clone(parse_actions(_inner(t, "clone"))),
    "conjunction": lambda t: _parse_conjunction(_inner(t, "conjunction")),
}


def _parse_conjunction(args: str) -> Action:
    conj_id, _, clause = args.partition(",")
    k, _, n = clause.partition("/")
    return Conjunction(_int(conj_id), _int(k), _int(n))


def parse_action(text: str) -> Action:
    """Parse one action in ``ovs-ofctl`` syntax."""
    text = text.strip()
    if text in _SIMPLE:
        return _SIMPLE[text]()
    if text.upper().startswith("CONTROLLER") or text == "controller":
        return _parse_controller(text)
    if text.startswith("check_pkt_larger("):
        head, _, dst = text.partition(")->")
        return CheckPktLarger(_int(head[len("check_pkt_larger("):]), dst)
    if text.startswith("resubmit:"):
        return _parse_resubmit(text)
    name, paren, _ = text.partition("(")
    if paren and name in _WITH_PARENS:
        return _WITH_PARENS[name](text)
    name, colon, arg = text.partition(":")
    if colon and name in _WITH_ARG:
        return _WITH_ARG[name](arg)
    if colon and name in _MOD_FIELDS:
        return _parse_set_field(f"{arg}->{_MOD_FIELDS[name]}")
    if text.upper() in ("LOCAL", "IN_PORT", "NORMAL", "FLOOD", "ALL", "TABLE") or text.isdigit():
        return Output(parse_port(text))
    raise OpenFlowEncodeError(f"unsupported action {text!r}")


def parse_actions(text: str) -> tuple[Action, ...]:
    """Parse an ``ovs-ofctl`` action list (``drop`` or empty is no action)."""
    text = text.strip()
    if text in ("", "drop"):
        return ()
    return tuple(parse_action(part) for part in split_top_level(text))


def parse_flow(line: str) -> Flow:
    """Parse one ``ovs-ofctl dump-flows`` line (or ``add-flow`` flow) into a Flow."""
    head, sep, actions_text = line.strip().partition("actions=")
    if not sep:
        raise OpenFlowEncodeError(f"no actions= in {line!r}")
    table, priority, cookie = 0, OFP_DEFAULT_PRIORITY, 0
    fields: list[tuple[str, object]] = []
    for token in split_top_level(head.replace(", ", ",")):
        key, eq, value = token.partition("=")
        key = key.strip()
        if key in _STATS_KEYS:
            continue
        if key == "table":
            table = _int(value)
        elif key == "priority":
            priority = _int(value)
        elif key == "cookie":
            cookie = _int(value.partition("/")[0])
        else:
            fields.append((key, value if eq else True))
    return Flow(table, priority, Match(fields), parse_actions(actions_text), cookie)


def parse_flows(text: str) -> list[Flow]:
    """Parse every flow line of ``ovs-ofctl dump-flows`` output (headers skipped)."""
    return [parse_flow(line) for line in text.splitlines() if "actions=" in line]


_BUCKET_KEYS = ("bucket_id", "weight", "watch_port", "watch_group")


def _bucket(tokens: list[str]) -> Bucket:
    kwargs: dict[str, int] = {}
    actions: list[Action] = []
    in_actions = False
    for token in tokens:
        key, sep, value = token.partition("=") if "=" in token.split(":", 1)[0] \
            else token.partition(":")
        if not in_actions and sep and key in _BUCKET_KEYS:
            kwargs[key] = parse_port(value) if key == "watch_port" else _int(value)
            continue
        action = token
        if not in_actions and sep and key == "actions":
            in_actions = True
            action = value
            key, sep, value = action.partition("=")
        if sep == "=" and key in _WITH_ARG:
            action = f"{key}:{value}"  # ovs-ofctl takes key=value for key:value
        actions.append(parse_action(action))
    return Bucket(tuple(actions), kwargs.get("weight", 1),
                  kwargs.get("watch_port", OFPP_ANY), kwargs.get("watch_group", OFPG_ANY),
                  kwargs.get("bucket_id"))


def parse_group(text: str, group_id: int) -> GroupEntry:
    """Parse a group in ``ovs-ofctl add-group`` syntax (without ``group_id``), as OVN
    describes its groups, into a :class:`GroupEntry` with ``group_id``."""
    head: list[str] = []
    buckets: list[list[str]] = []
    for token in split_top_level(text):
        if token.startswith("bucket="):
            buckets.append([token[len("bucket="):]] if token != "bucket=" else [])
        elif buckets:
            buckets[-1].append(token)
        else:
            head.append(token)
    gtype, method, param = GroupType.ALL, "", 0
    for token in head:
        key, _, value = token.partition("=")
        if key == "type":
            try:
                gtype = GroupType[{"ff": "FF", "fast_failover": "FF"}.get(value, value.upper())]
            except KeyError:
                raise OpenFlowEncodeError(f"unknown group type {value!r}") from None
        elif key == "selection_method":
            method = value
        elif key == "selection_method_param":
            param = _int(value)
        else:
            raise OpenFlowEncodeError(f"unsupported group property {token!r}")
    return GroupEntry(group_id, gtype, tuple(_bucket(b) for b in buckets), method, param)
