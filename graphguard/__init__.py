"""graphguard: contextual-safeguarding network analysis.

Join what partner agencies know about young people at risk of exploitation into one
graph of young people, adults, locations and vehicles; find peer groups and
perpetrator-centred hubs; rank the contexts whose disruption would most reduce risk.
"""

from graphguard.errors import (
    BackendUnavailable,
    DataError,
    GraphguardError,
    RefusedError,
    UsageError,
)

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailable",
    "DataError",
    "GraphguardError",
    "RefusedError",
    "UsageError",
    "__version__",
]
