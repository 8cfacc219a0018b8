"""Where graphguard's own files are: the Cypher folder and the bundled demo."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "cypher_dir", "demo_dataset"]


def project_root() -> Path:
    """The checkout graphguard runs from (the folder holding ``graphguard/``)."""
    return Path(__file__).resolve().parent.parent


def cypher_dir() -> Path:
    """The Cypher folder: ``GRAPHGUARD_CYPHER_DIR``, else ``cypher/`` of the checkout."""
    configured = os.environ.get("GRAPHGUARD_CYPHER_DIR")
    return Path(configured) if configured else project_root() / "cypher"


def demo_dataset() -> Path:
    """The bundled synthetic demo town, ``fixtures/demo``."""
    return project_root() / "fixtures" / "demo"
