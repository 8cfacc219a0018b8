"""Configuration from the environment (and an optional ``.env`` file).

Neo4j's own variable names (``NEO4J_URI``, ``NEO4J_USERNAME``, ``NEO4J_PASSWORD``,
``NEO4J_DATABASE``) are used as they are, so a shell set up for cypher-shell works for
graphguard too; everything else is ``GRAPHGUARD_*``.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings", "pseudonym_key"]


class Settings(BaseSettings):
    """Every setting graphguard reads, with its environment variable and default."""

    model_config = SettingsConfigDict(env_prefix="GRAPHGUARD_", env_file=".env", extra="ignore")

    neo4j_uri: str | None = Field(default=None, validation_alias=AliasChoices("NEO4J_URI"))
    neo4j_username: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_USERNAME"))
    neo4j_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_PASSWORD")
    )
    neo4j_database: str | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_DATABASE")
    )

    #: Folder for local state: the Neo4j data dir, the pseudonym key, the audit log.
    home: Path = Path(".graphguard")
    #: The key for pseudonyms of young people in exports; generated and kept in ``home``.
    pseudonym_key: SecretStr | None = None
    #: Half-life, in days, of the evidence of a link (see docs/methodology.md).
    half_life_days: float = 365.0
    #: Ad-hoc Cypher: transaction timeout in seconds and the most rows returned.
    cypher_timeout: float = 30.0
    cypher_row_limit: int = 10_000
    #: Where every Cypher run and export is audited, one JSON line each.
    audit_log: Path | None = None
    #: Who is running graphguard, for the audit log (defaults to the OS user).
    user: str | None = None
    #: Batch size of the Neo4j loader.
    batch_size: int = 5_000
    #: The dashboard map's basemap: a tile server's URL template with {z}, {x} and {y}
    #: (none by default, so nothing is fetched from another host), and its credit line.
    map_tiles: str | None = None
    map_attribution: str | None = None

    @property
    def audit_path(self) -> Path:
        return self.audit_log or self.home / "audit.jsonl"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return Settings()


def pseudonym_key(settings: Settings | None = None) -> bytes:
    """The local secret for keyed pseudonyms: from settings, else kept in ``home``.

    The key is generated on first use and stored with owner-only permissions, so the
    same young person gets the same pseudonym in every export made on this machine.
    """
    settings = settings or get_settings()
    if settings.pseudonym_key is not None:
        return settings.pseudonym_key.get_secret_value().encode("utf-8")
    path = settings.home / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip().encode("utf-8")
