"""Meters as ofctrl manages them: a canonical :class:`MeterEntry` and the meter-config
multipart (OFPMP_METER_CONFIG) that reads the switch's meters back.

The OpenFlow codec has meter_mod but no meter-config reply yet; this module registers
that decoder with it (the codec should take it over, with the same names). Open vSwitch
cannot put meter_mods into bundles, so ofctrl sends them on their own (see
:mod:`pyovn.controller.ofctrl`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from pyovn.openflow import MeterBand, MeterBandType, MeterFlags, MeterMod, MeterModCommand
from pyovn.openflow.constants import OFPMP
from pyovn.openflow.errors import OpenFlowDecodeError
from pyovn.openflow.message import (
    Message,
    MultipartReply,
    MultipartRequest,
    multipart_more,
    register_multipart,
)

OFPM_ALL = 0xFFFFFFFF
_BAND = struct.Struct("!HHIIB3x")


@dataclass(frozen=True, slots=True)
class MeterEntry:
    """One meter, canonical: equal whether built by pyovn or read from the switch.

    Open vSwitch does not keep a burst size unless the meter has the BURST flag, and
    keeps a precedence level only for DSCP-remark bands, so those are normalised away.
    """

    meter_id: int
    flags: int = MeterFlags.KBPS
    bands: tuple[MeterBand, ...] = ()

    def __post_init__(self) -> None:
        burst = bool(self.flags & MeterFlags.BURST)
        bands = tuple(
            MeterBand(b.type, b.rate, b.burst_size if burst else 0,
                      b.prec_level if b.type == MeterBandType.DSCP_REMARK else 0)
            for b in self.bands)
        object.__setattr__(self, "bands", bands)

    def mod(self, command: int = MeterModCommand.ADD) -> MeterMod:
        """The meter_mod that installs (ADD), changes (MODIFY) or deletes this meter."""
        if command == MeterModCommand.DELETE:
            return MeterMod(command, self.meter_id)
        return MeterMod(command, self.meter_id, self.flags, self.bands)

    def __str__(self) -> str:
        names = [name for bit, name in ((MeterFlags.KBPS, "kbps"), (MeterFlags.PKTPS, "pktps"),
                                        (MeterFlags.BURST, "burst"), (MeterFlags.STATS, "stats"))
                 if self.flags & bit]
        bands = []
        for band in self.bands:
            kind = {MeterBandType.DROP: "drop", MeterBandType.DSCP_REMARK: "dscp_remark"}.get(
                MeterBandType(band.type), str(band.type))
            text = f"type={kind} rate={band.rate}"
            if band.burst_size:
                text += f" burst_size={band.burst_size}"
            if band.type == MeterBandType.DSCP_REMARK:
                text += f" prec_level={band.prec_level}"
            bands.append(text)
        return f"meter={self.meter_id} {' '.join(names)} bands={' '.join(bands)}"


@dataclass(frozen=True, slots=True)
class MeterConfigRequest(MultipartRequest):
    """Ask for the configuration of meter ``meter_id`` (all meters by default)."""

    mp_type: ClassVar[int] = OFPMP.METER_CONFIG
    meter_id: int = OFPM_ALL

    def request_body(self) -> bytes:
        """Meter id and padding."""
        return struct.pack("!I4x", self.meter_id)


@dataclass(frozen=True, slots=True)
class MeterConfigReply(MultipartReply):
    """Reply to :class:`MeterConfigRequest`; ``entries`` are :class:`MeterEntry`."""

    mp_type: ClassVar[int] = OFPMP.METER_CONFIG
    entries: tuple[MeterEntry, ...] = ()

    def entry_bytes(self) -> bytes:
        """Encoded ``ofp13_meter_config`` entries."""
        out = b""
        for meter in self.entries:
            bands = b"".join(_BAND.pack(b.type, 16, b.rate, b.burst_size, b.prec_level)
                             for b in meter.bands)
            out += struct.pack("!HHI", 8 + len(bands), meter.flags, meter.meter_id) + bands
        return out


@register_multipart(OFPMP.METER_CONFIG, reply=True)
def _decode_meter_config(view: memoryview, xid: int) -> Message:
    meters = []
    pos = 16
    while pos + 8 <= len(view):
        length, flags, meter_id = struct.unpack_from("!HHI", view, pos)
        if length < 8 or pos + length > len(view):
            raise OpenFlowDecodeError(f"bad meter config entry length {length}")
        bands = []
        for p in range(pos + 8, pos + length - 15, 16):
            btype, _blen, rate, burst, prec = _BAND.unpack_from(view, p)
            bands.append(MeterBand(btype, rate, burst, prec))
        meters.append(MeterEntry(meter_id, flags, tuple(bands)))
        pos += length
    return MeterConfigReply(tuple(meters), multipart_more(view), xid=xid)


@register_multipart(OFPMP.METER_CONFIG, reply=False)
def _decode_meter_config_request(view: memoryview, xid: int) -> Message:
    return MeterConfigRequest(struct.unpack_from("!I", view, 16)[0], xid=xid)


#: How ``set_meter()`` names a meter it describes inline (OVN's extend_table name).
METER_STRING = "__string: "


def parse_meter_string(name: str) -> MeterEntry | None:
    """The meter of an inline description (id 0), as ovn-controller parses it:
    ``__string: uuid U kbps [burst] stats bands=type=drop rate=R [burst_size=B]``;
    None if it does not parse."""
    flags = 0
    bands: list[MeterBand] = []
    words = iter(name.removeprefix(METER_STRING).split())
    for word in words:
        if word == "uuid":
            next(words, None)
        elif word in _FLAG_WORDS:
            flags |= _FLAG_WORDS[word]
        elif word == "bands=type=drop":
            bands.append(MeterBand(MeterBandType.DROP))
        elif word.startswith(("rate=", "burst_size=")) and bands:
            key, _, value = word.partition("=")
            if not value.isdigit():
                return None
            band = bands[-1]
            bands[-1] = MeterBand(band.type, int(value) if key == "rate" else band.rate,
                                  int(value) if key == "burst_size" else band.burst_size)
        else:
            return None
    return MeterEntry(0, flags, tuple(bands)) if bands else None


def sb_meter(unit: str, bands: list[tuple[int, int]]) -> MeterEntry:
    """The meter (id 0) ovn-controller installs for a Southbound Meter row: ``unit``
    (kbps or pktps) and its drop bands as (rate, burst_size)."""
    flags = MeterFlags.STATS | (MeterFlags.PKTPS if unit == "pktps" else MeterFlags.KBPS)
    if any(burst for _rate, burst in bands):
        flags |= MeterFlags.BURST
    return MeterEntry(0, flags, tuple(MeterBand(MeterBandType.DROP, rate, burst)
                                      for rate, burst in bands))


_FLAG_WORDS = {"kbps": MeterFlags.KBPS, "pktps": MeterFlags.PKTPS, "burst": MeterFlags.BURST,
               "stats": MeterFlags.STATS}
