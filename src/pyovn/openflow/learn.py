"""The ``learn(...)`` action and its flow_mod specs (NXAST_LEARN)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pyovn.openflow.actions import (
    Action,
    Buf,
    Subfield,
    nx_header,
    nxm_header_4,
    register_nx,
    subfield,
)
from pyovn.openflow.constants import OFP_DEFAULT_PRIORITY
from pyovn.openflow.errors import OpenFlowDecodeError, OpenFlowEncodeError
from pyovn.openflow.fields import parse_header
from pyovn.openflow.values import format_value

NXAST_LEARN = 16
LEARN_SEND_FLOW_REM = 1
LEARN_DELETE_LEARNED = 2

_SRC_IMMEDIATE = 1 << 13
_DST_TYPES = {"match": 0, "load": 1, "output": 2}
_DST_NAMES = {v: k for k, v in _DST_TYPES.items()}


@dataclass(frozen=True, slots=True, init=False)
class LearnSpec:
    """One spec of a learned flow.

    ``kind`` is ``"match"`` (``DST=SRC``, ``field=VALUE``, or ``DST`` alone for
    ``DST=DST``), ``"load"``
    (``load:SRC->DST``) or ``"output"`` (``output:SRC``).  The source is either a
    subfield ``src`` or an immediate ``value``; ``output`` has no ``dst``.
    """

    kind: str
    dst: Subfield | None
    src: Subfield | None
    value: int | None

    def __init__(self, kind: str, dst: Subfield | str | None = None,
                 src: Subfield | str | None = None, value: int | None = None) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "value", value)
        if kind not in _DST_TYPES:
            raise OpenFlowEncodeError("learn spec kind must be match, load or output")
        src = subfield(src) if src is not None else None
        dst = subfield(dst) if dst is not None else None
        if self.kind == "match" and src is None and self.value is None:
            src = dst  # "NXM_OF_ETH_SRC[]" alone: match the learned packet's own bits
        if (src is None) == (self.value is None):
            raise OpenFlowEncodeError("learn spec needs exactly one of src and value")
        if (dst is None) != (self.kind == "output"):
            raise OpenFlowEncodeError("learn spec: output takes no dst, match/load need one")
        if self.kind == "output" and src is None:
            raise OpenFlowEncodeError("learn spec: output needs a source field")
        if src is not None and dst is not None and src.nbits != dst.nbits:
            raise OpenFlowEncodeError(f"learn spec: {src} and {dst} differ in width")
        if self.value is not None and dst is not None and self.value >> dst.nbits:
            raise OpenFlowEncodeError(f"learn spec: value 0x{self.value:x} too wide for {dst}")
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)

    @property
    def nbits(self) -> int:
        """Width of the copied or loaded bits."""
        sf = self.dst if self.dst is not None else self.src
        assert sf is not None
        return sf.nbits

    def encode(self) -> bytes:
        """The spec's wire form (header, source, destination)."""
        nbits = self.nbits
        header = _DST_TYPES[self.kind] << 11 | nbits
        if self.src is not None:
            out = nxm_header_4(self.src, "learn") + struct.pack("!H", self.src.ofs)
        else:
            assert self.value is not None
            header |= _SRC_IMMEDIATE
            out = self.value.to_bytes((nbits + 15) // 16 * 2, "big")
        if self.dst is not None:
            out += nxm_header_4(self.dst, "learn") + struct.pack("!H", self.dst.ofs)
        return struct.pack("!H", header) + out

    def __str__(self) -> str:
        dst, src = self.dst, self.src
        if self.kind == "output":
            return f"output:{src}"
        assert dst is not None
        if self.kind == "load":
            source = str(src) if src is not None else f"0x{self.value:x}"
            return f"load:{source}->{dst}"
        if src is not None:
            if src.field == dst.field and src.ofs == dst.ofs:
                return str(dst)
            return f"{dst}={src}"
        assert self.value is not None
        fl = dst.meta
        if dst.ofs == 0 and dst.nbits == fl.nbytes * 8:
            return f"{fl.name}={format_value(fl, self.value)}"
        return f"{dst}=0x{self.value:x}"


@dataclass(frozen=True, slots=True)
class Learn(Action):
    """``learn(table=N,idle_timeout=...,SPEC,...)``."""

    table: int
    specs: tuple[LearnSpec, ...] = ()
    idle_timeout: int = 0
    hard_timeout: int = 0
    priority: int = OFP_DEFAULT_PRIORITY
    cookie: int = 0
    send_flow_rem: bool = False
    delete_learned: bool = False
    fin_idle_timeout: int = 0
    fin_hard_timeout: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.table <= 254:
            raise OpenFlowEncodeError(f"learn table {self.table} out of range")
        object.__setattr__(self, "specs", tuple(self.specs))

    def encode(self) -> bytes:
        """NXAST_LEARN."""
        flags = (LEARN_SEND_FLOW_REM * self.send_flow_rem
                 | LEARN_DELETE_LEARNED * self.delete_learned)
        body = struct.pack("!HHHQHBxHH", self.idle_timeout, self.hard_timeout, self.priority,
                           self.cookie, flags, self.table, self.fin_idle_timeout,
                           self.fin_hard_timeout)
        body += b"".join(spec.encode() for spec in self.specs) + b"\0\0"
        total = 10 + len(body)
        total += -total % 8
        return nx_header(NXAST_LEARN, total) + body + bytes(total - 10 - len(body))

    def __str__(self) -> str:
        parts = [f"table={self.table}"]
        for name in ("idle_timeout", "hard_timeout", "fin_idle_timeout", "fin_hard_timeout"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)}")
        if self.priority != OFP_DEFAULT_PRIORITY:
            parts.append(f"priority={self.priority}")
        if self.send_flow_rem:
            parts.append("send_flow_rem")
        if self.delete_learned:
            parts.append("delete_learned")
        if self.cookie:
            parts.append(f"cookie=0x{self.cookie:x}")
        parts.extend(str(spec) for spec in self.specs)
        return f"learn({','.join(parts)})"


@register_nx(NXAST_LEARN)
def _decode_learn(buf: Buf, pos: int, end: int) -> Action:
    (idle, hard, priority, cookie, flags, table, fin_idle, fin_hard) = struct.unpack_from(
        "!HHHQHBxHH", buf, pos + 10)
    specs: list[LearnSpec] = []
    p = pos + 32
    while p + 2 <= end:
        (header,) = struct.unpack_from("!H", buf, p)
        p += 2
        if header == 0:
            break
        nbits = header & 0x7FF
        kind = _DST_NAMES.get(header >> 11 & 3)
        if kind is None:
            raise OpenFlowDecodeError("bad learn spec destination type")
        src = dst = None
        value = None
        if header & _SRC_IMMEDIATE:
            size = (nbits + 15) // 16 * 2
            value = int.from_bytes(buf[p:p + size], "big")
            p += size
        else:
            fl, _, _, p = parse_header(buf, p)
            (ofs,) = struct.unpack_from("!H", buf, p)
            p += 2
            src = Subfield(fl.name, ofs, nbits)
        if kind != "output":
            fl, _, _, p = parse_header(buf, p)
            (ofs,) = struct.unpack_from("!H", buf, p)
            p += 2
            dst = Subfield(fl.name, ofs, nbits)
        specs.append(LearnSpec(kind, dst, src, value))
    return Learn(table, tuple(specs), idle, hard, priority, cookie,
                 bool(flags & LEARN_SEND_FLOW_REM), bool(flags & LEARN_DELETE_LEARNED),
                 fin_idle, fin_hard)
