"""Metadata providers (EC2, config-drive); run by generated oneshot units, never by the generator."""
