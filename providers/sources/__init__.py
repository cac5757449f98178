"""One module per provider; providers/registry.py finds them by listing this directory."""
