"""The whole schema: every feature declares its tables in its own `tables` module."""

from __future__ import annotations

import importlib
import pkgutil

import sqlalchemy as sa

import juki
from juki.storage.metadata import metadata


def all_tables() -> sa.MetaData:
    """The metadata with every feature's tables loaded (as the migrations create them)."""
    for module in pkgutil.walk_packages(juki.__path__, "juki."):
        if module.name.rsplit(".", 1)[-1] == "tables":
            importlib.import_module(module.name)
    return metadata
