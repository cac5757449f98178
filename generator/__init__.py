"""ccgen: compiles cloud-config into systemd units at boot."""

__version__ = "0.1.0"
