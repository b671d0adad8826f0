"""pyovn: a control plane for Open vSwitch virtual networks, compatible with OVN 23.03.

The package is laid out by component, as ``shared/DESIGN.md`` describes:

- :mod:`pyovn.engine` -- the incremental processing engine (DAG of nodes);
- :mod:`pyovn.ovsdb` -- the OVSDB client layer (monitor, change sets, transactions, locks);
- :mod:`pyovn.daemon` -- command line, logging, unixctl and main loop shared by daemons;
- :mod:`pyovn.sandbox` -- a throw-away OVN environment of real ``ovsdb-server`` and
  ``ovs-vswitchd`` processes, used by the CLI, the tests and the benchmarks;
- :mod:`pyovn.northd`, :mod:`pyovn.controller` -- the two daemons;
- :mod:`pyovn.lflow`, :mod:`pyovn.openflow` -- the logical flow language and OpenFlow codec;
- :mod:`pyovn.cli` -- the ``pyovn`` command.
"""

__version__ = "0.1.0"
