"""stager: prepare firmware update media for MADIC Pulse EV chargers."""

__version__ = "0.1.0"
