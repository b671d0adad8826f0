"""pyovn's benchmarks: every figure measured side by side with real OVN 23.03 in one run."""
