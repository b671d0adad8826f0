"""pyovn-northd: compiles the OVN Northbound database into the Southbound database."""
