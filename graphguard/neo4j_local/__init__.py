"""A local real Neo4j 5.26 LTS Community server for development, demos and tests.

Resolved from Maven Central by the small Maven project ``pom.xml`` beside this file and run
as the standalone distribution runs it (``org.neo4j.server.CommunityEntryPoint`` with a
generated ``neo4j.conf``, :mod:`.conf`), Bolt on 127.0.0.1 only, authentication on, under a
supervisor that restarts it if it dies (:mod:`.supervisor`).  :mod:`.health` tells whether
its database can be used, and checks free disk space before a load.  See :mod:`.server`.
"""

from graphguard.neo4j_local.health import DiskSpace, free_space, require_free_space
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
    "DiskSpace",
    "ServerInfo",
    "env_lines",
    "free_port",
    "free_space",
    "require_free_space",
    "start",
    "status",
    "stop",
]
