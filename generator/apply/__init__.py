"""The runtime steps: what the generated ccgen-apply.service does to the system."""
