"""juki: an open, auditable implementation of Japan's Basic Resident Registry Network."""

__version__ = "0.1.0"
