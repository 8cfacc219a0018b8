"""The monthly meeting: what changed, watch rules and alerts, disruption actions, the briefing.

:mod:`~graphguard.meeting.state` keeps what the meeting itself creates (alerts and their
states, agreed disruption actions) beside the data it is about: in Neo4j when Neo4j is
the store, else in a private JSON file per dataset in the state home.
:mod:`~graphguard.meeting.changes` compares two pictures of the same data,
:mod:`~graphguard.meeting.watch` runs the watch rules of ``cypher/alerts/`` and keeps
their alerts, :mod:`~graphguard.meeting.actions` records the disruption actions agreed
and measures displacement after them, :mod:`~graphguard.meeting.briefing` writes the
meeting's PDF pack, and :mod:`~graphguard.meeting.months` writes a seeded town over a
sequence of months for tests and benchmarks.
"""
