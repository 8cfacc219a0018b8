"""The monthly meeting: what changed, watch rules and alerts, disruption actions, the briefing.

:mod:`~graphguard.meeting.changes` compares two pictures of the same data,
:mod:`~graphguard.meeting.watch` runs the watch rules of ``cypher/alerts/`` and keeps
their alerts, and :mod:`~graphguard.meeting.months` writes a seeded town over a
sequence of months for tests and benchmarks.
"""
