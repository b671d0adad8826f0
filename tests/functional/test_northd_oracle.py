"""Oracle: the same NB through real ovn-northd 23.03 and pyovn-northd gives the same SB.

Compared: Datapath_Binding, Port_Binding, Multicast_Group, Address_Set, Port_Group,
SB_Global options and the NB columns northd writes back (LSP up/tag, NB_Global
options), normalised as :mod:`pyovn.northd.testing` documents (UUIDs, tunnel keys and
random MACs are arbitrary in ovn-northd).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovn.northd.testing import connect, sb_contents
from pyovn.sandbox import procs
from pyovn.sandbox.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.functional


class Pair:
    """Two sandboxes fed the same commands: real ovn-northd and pyovn-northd."""

    def __init__(self, ovn: Sandbox, pyovn: Sandbox) -> None:
        self.ovn, self.pyovn = ovn, pyovn

    def nbctl(self, *args: str) -> None:
        """Run one ``ovn-nbctl --wait=sb`` command line in both."""
        for sb in (self.ovn, self.pyovn):
            sb.nbctl("--wait=sb", "--timeout=20", *args)

    def sbctl(self, *args: str) -> None:
        """Run one ``ovn-sbctl`` command line in both."""
        for sb in (self.ovn, self.pyovn):
            sb.sbctl(*args)

    def assert_same_sb(self) -> None:
        """Both Southbounds hold the same (normalised) contents."""
        self.nbctl("sync")
        got = {}
        for name, box in (("ovn", self.ovn), ("pyovn", self.pyovn)):
            nb, sb = connect(box.nb_remote, nb=True), connect(box.sb_remote, nb=False)
            try:
                got[name] = sb_contents(sb, nb, normalize=True)
            finally:
                nb.close()
                sb.close()
        for table in got["ovn"]:
            want, have = set(got["ovn"][table]), set(got["pyovn"][table])
            assert have == want, (
                f"{table} differs:\n  only ovn-northd: {sorted(want - have)}\n"
                f"  only pyovn-northd: {sorted(have - want)}")


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    boxes = []
    try:
        for stack in ("ovn", "pyovn"):
            box = Sandbox(tmp_path / stack)
            boxes.append(box)
            box.start(SandboxConfig(northd=stack, controller="none"))  # type: ignore[arg-type]
        yield Pair(*boxes)
    finally:
        for box in boxes:
            box.stop()
            procs.stop_all_in(box.dir)


def test_every_port_kind_and_address_form_gives_the_same_sb(pair: Pair) -> None:
    pair.nbctl(
        "ls-add", "sw0",
        "--", "lsp-add", "sw0", "vif-mac", "--", "lsp-set-addresses", "vif-mac",
        "00:00:00:00:00:01",
        "--", "lsp-add", "sw0", "vif-v4", "--", "lsp-set-addresses", "vif-v4",
        "00:00:00:00:00:02 10.0.0.2",
        "--", "lsp-add", "sw0", "vif-v46", "--", "lsp-set-addresses", "vif-v46",
        "0A:00:00:00:00:03 10.0.0.3 fd00::3 fe80::3", "0a:00:00:00:00:13 10.0.1.3",
        "--", "lsp-add", "sw0", "vif-unknown", "--", "lsp-set-addresses", "vif-unknown",
        "00:00:00:00:00:04 10.0.0.4", "unknown",
        "--", "lsp-add", "sw0", "vif-dyn", "--", "lsp-set-addresses", "vif-dyn",
        "00:00:00:00:00:05 dynamic",
        "--", "lsp-add", "sw0", "vif-ps", "--", "lsp-set-addresses", "vif-ps",
        "00:00:00:00:00:06 10.0.0.6",
        "--", "lsp-set-port-security", "vif-ps", "00:00:00:00:00:06 10.0.0.6/24 fd00::6/64",
        "--", "lsp-add", "sw0", "vif-off", "--", "lsp-set-enabled", "vif-off", "disabled",
        "--", "lsp-set-addresses", "vif-off", "unknown",
        "--", "lsp-add", "sw0", "lp", "--", "lsp-set-type", "lp", "localport",
        "--", "lsp-set-addresses", "lp", "00:00:00:00:00:09 10.0.0.9",
        "--", "lsp-add", "sw0", "ln", "--", "lsp-set-type", "ln", "localnet",
        "--", "lsp-set-addresses", "ln", "unknown",
        "--", "lsp-set-options", "ln", "network_name=phys",
        "--", "set", "Logical_Switch_Port", "vif-mac",
        "external_ids:neutron\\:port_name=web", "external_ids:owner=me",
        "options:foo=bar")
    pair.assert_same_sb()


def test_bad_addresses_are_skipped_and_the_rest_compiled(pair: Pair) -> None:
    pair.nbctl("ls-add", "sw0",
               # ovn-nbctl's own commands refuse these; a CMS writing rows may not.
               "--", "lsp-add", "sw0", "bad", "--", "set", "Logical_Switch_Port", "bad",
               'addresses="garbage","00:00:00:00:00:0a 10.0.0.10 trailing-junk"',
               'port_security="not-a-mac"',
               "--", "lsp-add", "sw0", "good", "--", "lsp-set-addresses", "good",
               "00:00:00:00:00:0b 10.0.0.11",
               "--", "pg-add", "pg", "bad", "good")
    pair.assert_same_sb()


def test_many_switches_then_deletions_give_the_same_sb(pair: Pair) -> None:
    args: list[str] = []
    for s in range(20):
        args += ["--", "ls-add", f"ls{s}"]
        for p in range(5):
            name = f"ls{s}-p{p}"
            args += ["--", "lsp-add", f"ls{s}", name, "--", "lsp-set-addresses", name,
                     f"00:00:00:00:{s:02x}:{p:02x} 10.{s}.0.{p + 1}"]
    pair.nbctl(*args[1:])
    pair.assert_same_sb()
    pair.nbctl("ls-del", "ls3", "--", "lsp-del", "ls4-p0", "--", "lsp-del", "ls4-p4",
               "--", "lsp-add", "ls4", "ls4-new", "--", "ls-add", "ls-late")
    pair.assert_same_sb()


def test_port_groups_address_sets_and_acls_give_the_same_sb(pair: Pair) -> None:
    pair.nbctl(
        "ls-add", "a", "--", "ls-add", "b",
        "--", "lsp-add", "a", "a1", "--", "lsp-set-addresses", "a1",
        "00:00:00:00:0a:01 10.1.0.1 fd01::1",
        "--", "lsp-add", "a", "a2", "--", "lsp-set-addresses", "a2",
        "00:00:00:00:0a:02 10.1.0.2",
        "--", "lsp-add", "b", "b1", "--", "lsp-set-addresses", "b1",
        "00:00:00:00:0b:01 10.2.0.1", "unknown",
        "--", "pg-add", "web", "a1", "b1", "--", "pg-add", "db", "a2",
        "--", "pg-add", "empty",
        "--", "create", "Address_Set", "name=v4", 'addresses="10.9.0.0/16","10.8.0.1"',
        "--", "create", "Address_Set", "name=v6", 'addresses="fd09::/64"',
        "--", "acl-add", "web", "to-lport", "1002", "outport == @web && ip4.src == $v4",
        "allow-related",
        "--", "acl-add", "web", "from-lport", "1001", "inport == @web", "drop",
        "--", "acl-add", "a", "to-lport", "900", "ip6", "allow-stateless",
        "--", "--log", "--name=x", "--severity=alert", "acl-add", "b", "from-lport",
        "800", "tcp", "reject")
    pair.assert_same_sb()
    pair.nbctl("pg-set-ports", "db", "a2", "b1", "--", "pg-del", "web",
               "--", "add", "Address_Set", "v4", "addresses", '"10.7.0.1"',
               "--", "lsp-set-addresses", "a2", "00:00:00:00:0a:02 10.1.0.22 fd01::22")
    pair.assert_same_sb()


def test_container_ports_multicast_and_requested_chassis_give_the_same_sb(
        pair: Pair) -> None:
    pair.sbctl("chassis-add", "hv7", "geneve", "127.0.0.7",
               "--", "set", "Chassis", "hv7", "hostname=host7")
    pair.nbctl(
        "ls-add", "sw", "--", "set", "Logical_Switch", "sw", "other_config:mcast_snoop=true",
        "other_config:vlan-passthru=true", "other_config:interconn-ts=ts",
        "external_ids:neutron\\:network_name=net",
        "--", "lsp-add", "sw", "vm", "--", "lsp-set-addresses", "vm", "00:00:00:00:00:01",
        "--", "lsp-set-options", "vm", "requested-chassis=host7", "mcast_flood=true",
        "--", "lsp-add", "sw", "c1", "vm", "0", "--", "lsp-add", "sw", "c2", "vm", "0",
        "--", "lsp-add", "sw", "c3", "vm", "42",
        "--", "lsp-add", "sw", "r", "--", "lsp-set-options", "r",
        "mcast_flood_reports=true", "requested-chassis=hv7,nowhere")
    pair.assert_same_sb()
    pair.nbctl("lsp-del", "c1", "--", "lsp-add", "sw", "c4", "vm", "0",
               "--", "set", "Logical_Switch", "sw", "other_config:mcast_idle_timeout=5",
               "other_config:mcast_query_interval=99999", "other_config:mcast_querier=no",
               "other_config:mcast_eth_src=00:00:00:00:00:aa",
               "other_config:mcast_table_size=-1")
    pair.assert_same_sb()


def test_global_options_give_the_same_sb(pair: Pair) -> None:
    pair.nbctl("set", "NB_Global", ".", "options:mac_prefix=0A:B:c",
               "options:svc_monitor_mac=AA:BB:CC:DD:EE:FF", "options:user=1", "ipsec=true")
    pair.assert_same_sb()
    pair.sbctl("chassis-add", "old", "geneve", "127.0.0.9")   # lacks every feature
    pair.nbctl("set", "NB_Global", ".", "options:mac_prefix=00:00:00")
    pair.assert_same_sb()


def test_meters_and_per_acl_copies_of_fair_meters_give_the_same_sb(pair: Pair) -> None:
    pair.nbctl("meter-add", "plain", "drop", "10", "pktps",
               "--", "--fair", "meter-add", "fair", "drop", "20", "kbps", "5",
               "--", "ls-add", "sw", "--", "lsp-add", "sw", "p",
               "--", "--log", "--meter=fair", "--name=a1", "acl-add", "sw", "to-lport",
               "200", "ip4", "drop",
               "--", "--log", "--meter=plain", "--name=a2", "acl-add", "sw", "to-lport",
               "300", "ip6", "drop",
               "--", "--meter=fair", "--name=a3", "acl-add", "sw", "from-lport", "300",
               "ip6", "allow")
    pair.assert_same_sb()
    pair.nbctl("meter-del", "plain", "--", "acl-del", "sw", "to-lport", "200", "ip4")
    pair.assert_same_sb()
