"""The single source of vpsorg's version."""

__version__ = "0.1.0"
