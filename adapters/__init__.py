"""Sources -> Articles: feed and seed-file adapters behind one protocol and registry."""
