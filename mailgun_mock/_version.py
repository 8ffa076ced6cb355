"""The package version: a leaf, so the OpenAPI document can name it without importing the server."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
