"""The package's version: the one place it is written (pyproject.toml reads it, so do the plugin and the schema)."""

__version__ = "0.1.0"
