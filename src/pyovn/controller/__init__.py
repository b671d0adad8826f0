"""pyovn-controller: keeps br-int's OpenFlow tables in sync with the Southbound database."""
