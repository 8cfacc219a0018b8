"""The analysis: evidence, routes, peer groups, perpetrator-centred hubs, contexts, measures.

Every function here is a pure function of a graph (graphguard's typed
``networkx.MultiDiGraph``) plus keyword options; only :func:`write_outputs` touches
the file system.  ``docs/methodology.md`` explains every score and weight.

>>> from graphguard.analysis import AnalysisOptions, analyse, write_outputs
"""

from graphguard.analysis.contexts import Context, risky_contexts
from graphguard.analysis.evidence import (
    Evidence,
    default_as_of,
    evidence_components,
    link_weight,
)
from graphguard.analysis.groups import PeerGroup, communities, peer_groups
from graphguard.analysis.hubs import CONCERN_SCORE, Hub, perpetrator_hubs
from graphguard.analysis.measures import MeasureRow, NetworkMeasures, network_measures
from graphguard.analysis.options import AnalysisOptions
from graphguard.analysis.pipeline import (
    MEASURE_COLUMNS,
    OUTPUT_FILES,
    AnalysisResult,
    analyse,
    write_outputs,
)
from graphguard.analysis.projection import newman_projection, peer_graph

__all__ = [
    "CONCERN_SCORE",
    "MEASURE_COLUMNS",
    "OUTPUT_FILES",
    "AnalysisOptions",
    "AnalysisResult",
    "Context",
    "Evidence",
    "Hub",
    "MeasureRow",
    "NetworkMeasures",
    "PeerGroup",
    "analyse",
    "communities",
    "default_as_of",
    "evidence_components",
    "link_weight",
    "network_measures",
    "newman_projection",
    "peer_graph",
    "peer_groups",
    "perpetrator_hubs",
    "risky_contexts",
    "write_outputs",
]
