"""Actions: OpenFlow 1.5 bytes identical to Open vSwitch's, decode to the same
canonical object, and ovs-ofctl text."""

from __future__ import annotations

import pytest

from pyovn.openflow import (
    OFPP_LOCAL,
    CheckPktLarger,
    Clone,
    Conjunction,
    Controller,
    CopyField,
    Ct,
    CtClear,
    DecTtl,
    Exit,
    FinTimeout,
    Group,
    Learn,
    LearnSpec,
    Meter,
    Nat,
    Note,
    OpenFlowEncodeError,
    Output,
    OutputReg,
    PopVlan,
    PushVlan,
    Resubmit,
    Sample,
    SetField,
    Subfield,
    UnknownAction,
    load,
    move,
)
from pyovn.openflow.actions import Action, decode_actions, format_actions

# (action, bytes Open vSwitch 3.1 dumped for it in OpenFlow 1.5, ovs-ofctl text)
GOLDEN: list[tuple[Action, str, str]] = [
    (Resubmit(1, 3), "ffff001000002320000e000103000000", "resubmit(1,3)"),
    (Resubmit(7), "ffff001000002320000e0007ff000000", "resubmit:7"),
    (Resubmit(table=3, ct=True), "ffff001000002320002cfff803000000", "resubmit(,3,ct)"),
    (Output(1), "00000010000000010000000000000000", "output:1"),
    (Output(OFPP_LOCAL), "00000010fffffffe0000000000000000", "LOCAL"),
    (Controller(max_len=100), "00000010fffffffd0064000000000000", "CONTROLLER:100"),
    (Group(1), "0016000800000001", "group:1"),
    (SetField("ip_src", "10.0.0.1"), "00190010800016040a00000100000000",
     "set_field:10.0.0.1->ip_src"),
    (move("NXM_NX_XXREG0[]", "NXM_NX_XXREG1[]"),
     "001c001800800000000000000001de100001e01000000000",
     "move:NXM_NX_XXREG0[]->NXM_NX_XXREG1[]"),
    (move("OXM_OF_PKT_REG0[0..31]", "NXM_NX_REG0[]"),
     "001c00180020000000000000800100080001000400000000",
     "move:OXM_OF_PKT_REG0[0..31]->NXM_NX_REG0[]"),
    (move("NXM_NX_REG14[0..15]", "NXM_NX_REG13[0..15]"),
     "001c0018001000000000000000011c0400011a0400000000",
     "move:NXM_NX_REG14[0..15]->NXM_NX_REG13[0..15]"),
    (load(5, "NXM_NX_REG15[]"), "00190010" "00011e04" "00000005" "00000000",
     "set_field:0x5->reg15"),
    (load(1, "NXM_NX_REG10[3]"), "00190010" "00011508" "00000008" "00000008",
     "set_field:0x8/0x8->reg10"),
    (Meter(3), "001d000800000003", "meter:3"),
    (PopVlan(), "0012000800000000", "pop_vlan"),
    (PushVlan(0x8100), "0011000881000000", "push_vlan:0x8100"),
    (SetField("vlan_vid", 4097), "0019001080000c021001000000000000",
     "set_field:4097->vlan_vid"),
    (SetField("eth_src", "00:00:00:00:00:01"), "00190010800008060000000000010000",
     "set_field:00:00:00:00:00:01->eth_src"),
    (OutputReg("NXM_NX_REG15[0..15]"), "ffff001800002320000f000f00011e04ffff000000000000",
     "output:NXM_NX_REG15[0..15]"),
    (FinTimeout(10, 20), "ffff0010000023200013000a00140000",
     "fin_timeout(idle_timeout=10,hard_timeout=20)"),
    (Sample(100, 1, 2, 3), "ffff001800002320001d0064000000010000000200000003",
     "sample(probability=100,collector_set_id=1,obs_domain_id=2,obs_point_id=3)"),
    (Exit(), "ffff0010000023200011000000000000", "exit"),
    (Ct(commit=True, zone="NXM_NX_REG13[0..15]", table=9,
        exec=(SetField("ct_mark", 1, 1), load(2, "NXM_NX_CT_LABEL[0..31]"))),
     "ffff0050000023200023000100011a04000f090000000000001900100001d7080000000100000001"
     "001900280001d92000000000000000000000000000000002000000000000000000000000ffffffff",
     "ct(commit,table=9,zone=NXM_NX_REG13[0..15],exec(set_field:0x1/0x1->ct_mark,"
     "set_field:0x2/0xffffffff->ct_label))"),
    (Ct(commit=True, nat=Nat("dst", "fd00::1", port_min=80)),
     "ffff00400000232000230001000000000000ff0000000000ffff0028000023200024000000020014"
     "fd0000000000000000000000000000010050000000000000",
     "ct(commit,nat(dst=[fd00::1]:80))"),
    (CtClear(), "ffff001000002320002b000000000000", "ct_clear"),
    (Ct(table=10, zone="NXM_NX_REG11[0..15]", nat=Nat()),
     "ffff0028000023200023000000011604000f0a0000000000ffff0010000023200024000000000000",
     "ct(table=10,zone=NXM_NX_REG11[0..15],nat)"),
    (Ct(commit=True, zone=5, nat=Nat("src", "10.0.0.1", "10.0.0.5", 1000, 2000, random=True),
        alg=21),
     "ffff00380000232000230001000000000005ff0000000015ffff0020000023200024000000110033"
     "0a0000010a00000503e807d000000000",
     "ct(commit,zone=5,nat(src=10.0.0.1-10.0.0.5:1000-2000,random),alg=ftp)"),
    (Note(b"\x01\x02\x03"), "ffff0010000023200008010203000000", "note:01.02.03.00.00.00"),
    (DecTtl(), "0018000800000000", "dec_ttl"),
    (Clone((SetField("reg0", 1), Resubmit(table=3))),
     "ffff003000002320002a00000000000000190010000100040000000100000000"
     "ffff001000002320000efff803000000",
     "clone(set_field:0x1->reg0,resubmit(,3))"),
    (CheckPktLarger(1500, "NXM_NX_REG9[1]"), "ffff001800002320003105dc000100011204000000000000",
     "check_pkt_larger(1500)->NXM_NX_REG9[1]"),
    (Conjunction(1234, 2, 3), "ffff00100000232000220103000004d2", "conjunction(1234,2/3)"),
    (Controller(userdata=bytes([0, 0, 0, 1, 0, 0, 0, 0]), pause=True, meter_id=5),
     "ffff00300000232000250000000000000003000c00000001000000000000000000040004000000000005"
     "000800000005",
     "controller(userdata=00.00.00.01.00.00.00.00,pause,meter_id=5)"),
    (Controller(max_len=128, controller_id=3, reason=0), "ffff0010000023200014008000030000",
     "controller(reason=no_match,max_len=128,id=3)"),
    (Controller(), "00000010fffffffdffff000000000000", "CONTROLLER:65535"),
    (Learn(69, (LearnSpec("match", "OXM_OF_METADATA[]"),
                LearnSpec("match", "eth_type", value=0x800),
                LearnSpec("match", "NXM_OF_IP_SRC[]"),
                LearnSpec("match", "ip_dst", value=0x0A000001),
                LearnSpec("match", "nw_proto", value=6),
                LearnSpec("match", "NXM_OF_TCP_SRC[]", src="NXM_OF_TCP_DST[]"),
                LearnSpec("load", "NXM_NX_REG10[7]", value=1),
                LearnSpec("output", src="NXM_NX_REG14[]")),
           cookie=0x1234, delete_learned=True),
     "ffff008000002320001000000000800000000000000012340002450000000000004080000408000080"
     "000408000020100800000006020000002000000e04000000000e04000020200a000001000010040000"
     "2008000600000c010000001000001402000000001202000028010001000114040007102000011c0400"
     "0000000000",
     "learn(table=69,delete_learned,cookie=0x1234,OXM_OF_METADATA[],eth_type=0x800,"
     "NXM_OF_IP_SRC[],ip_dst=10.0.0.1,nw_proto=6,NXM_OF_TCP_SRC[]=NXM_OF_TCP_DST[],"
     "load:0x1->NXM_NX_REG10[7],output:NXM_NX_REG14[])"),
    (Learn(10, (LearnSpec("match", "NXM_OF_ETH_DST[]", src="NXM_OF_ETH_SRC[]"),
                LearnSpec("load", "NXM_NX_REG0[0..15]", src="NXM_OF_IN_PORT[]")),
           idle_timeout=30, hard_timeout=60, priority=10, send_flow_rem=True,
           fin_idle_timeout=5, fin_hard_timeout=6),
     "ffff0040000023200010001e003c000a000000000000000000010a00000500060030000004060000000"
     "002060000081000000002000000010004000000000000",
     "learn(table=10,idle_timeout=30,hard_timeout=60,fin_idle_timeout=5,fin_hard_timeout=6,"
     "priority=10,send_flow_rem,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
     "load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15])"),
]


@pytest.mark.parametrize(("action", "wire", "text"), GOLDEN, ids=[g[2][:40] for g in GOLDEN])
def test_action_matches_open_vswitch_bytes_and_text(action: Action, wire: str,
                                                    text: str) -> None:
    assert action.encode().hex() == wire
    assert decode_actions(bytes.fromhex(wire), 0, len(wire) // 2) == (action,)
    assert str(action) == text


def test_nicira_reg_load_and_reg_move_decode_to_their_of15_forms() -> None:
    reg_load = bytes.fromhex("ffff0018000023200007" "01c0" "00011404" "0000000000000001")
    assert decode_actions(reg_load, 0, 24) == (load(1, "NXM_NX_REG10[7]"),)
    reg_move = bytes.fromhex("ffff0018000023200006" "0010" "0000" "0000" "00011c04" "00011a04")
    assert decode_actions(reg_move, 0, 24) == (move("reg14[0..15]", "reg13[0..15]"),)


def test_resubmit_without_table_decodes_like_resubmit_table_255() -> None:
    raw = bytes.fromhex("ffff0010000023200001" "0007" "000000000000")
    assert decode_actions(raw, 0, 16) == (Resubmit(7),)


def test_unknown_actions_are_kept_verbatim() -> None:
    raw = bytes.fromhex("ffff001000002320" "00fe" "000000000000")
    (action,) = decode_actions(raw, 0, 16)
    assert isinstance(action, UnknownAction)
    assert action.encode() == raw


def test_empty_action_list_is_drop() -> None:
    assert format_actions(()) == "drop"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: load(0x10000, "NXM_NX_REG0[0..15]"), "does not fit"),
        (lambda: SetField("reg0", 1 << 32), "wider than field reg0"),
        (lambda: SetField("ct_state", 1), "read-only"),
        (lambda: SetField("nonsense", 1), "unknown field"),
        (lambda: move("reg0[]", "reg1[0..15]"), "32 bits wide but destination is 16"),
        (lambda: Subfield.parse("reg0[30..40]"), "outside field reg0"),
        (lambda: Output(0xFFFFFFFD), "use Controller"),
        (lambda: Conjunction(1, 3, 2), "out of range"),
        (lambda: Ct(zone="NXM_NX_REG13[0..7]"), "16 bits"),
        (lambda: Ct(nat=Nat("src", "10.0.0.1")), "need commit"),
        (lambda: Nat("src", "10.0.0.1", "fd00::1"), "one family"),
        (lambda: CheckPktLarger(100, "reg0[0..1]"), "1-bit"),
        (lambda: LearnSpec("load", "reg0[]", src="reg1[0..15]"), "differ in width"),
        (lambda: Learn(255), "out of range"),
    ],
)
def test_invalid_actions_are_rejected(build: object, message: str) -> None:
    with pytest.raises(OpenFlowEncodeError, match=message):
        build()  # type: ignore[operator]


def test_set_field_normalises_full_masks_and_text_values() -> None:
    assert SetField("reg0", 5, 0xFFFFFFFF) == SetField("reg0", 5)
    assert SetField("reg0", 0xFF, 0x0F) == SetField("reg0", 0x0F, 0x0F)
    assert SetField("dl_src", "00:00:00:00:00:01") == SetField("eth_src", 1)


def test_note_is_padded_like_the_wire_so_it_round_trips() -> None:
    assert Note(b"\x01\x02\x03") == Note(b"\x01\x02\x03\x00\x00\x00")
    assert len(Note(b"x" * 7).encode()) % 8 == 0


def test_nat_range_end_equal_to_start_is_dropped() -> None:
    assert Nat("src", "10.0.0.1", "10.0.0.1", 80, 80) == Nat("src", "10.0.0.1", port_min=80)


def test_subfield_text_forms() -> None:
    assert str(Subfield.parse("reg14")) == "NXM_NX_REG14[]"
    assert str(Subfield.parse("NXM_NX_REG10[3]")) == "NXM_NX_REG10[3]"
    assert Subfield.parse("reg13[0..15]") == Subfield("reg13", 0, 16)
    assert isinstance(move("reg0[]", "reg1[]"), CopyField)
