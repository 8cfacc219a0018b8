"""A local real Neo4j 5.26 LTS Community server for development, demos and tests.

Resolved from Maven Central by the small Maven project ``pom.xml`` beside this file and run
as the standalone distribution runs it (``org.neo4j.server.CommunityEntryPoint`` with a
generated ``neo4j.conf``), Bolt on 127.0.0.1 only, authentication on. See :mod:`.server`.
"""

from graphguard.neo4j_local.server import (
    MAIN_CLASS,
    NEO4J_VERSION,
    ServerInfo,
    env_lines,
    free_port,
    start,
    status,
    stop,
)

__all__ = [
    "MAIN_CLASS",
    "NEO4J_VERSION",
    "ServerInfo",
    "env_lines",
    "free_port",
    "start",
    "status",
    "stop",
]
