"""The monthly meeting: durable state, what changed, watch rules, disruption actions, the pack.

:mod:`~graphguard.meeting.state` keeps what the meeting itself creates (alerts and their
states, agreed disruption actions) beside the data it is about: in Neo4j when Neo4j is
the store, else in a private JSON file per dataset in the state home.
"""

from __future__ import annotations

from graphguard.meeting.state import KINDS, MeetingState

__all__ = ["KINDS", "MeetingState"]
