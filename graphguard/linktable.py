"""The accepted links of a dataset, kept column by column instead of as a million models.

A town of a million links held as :class:`~graphguard.model.Link` objects costs about
1.6 KB a link (each model carries its own field dictionary and set of given fields),
nineteen times the CSV.  :class:`LinkTable` keeps one list per field instead, with the
values that repeat (entity ids, dates, notes) shared, so a link costs a few hundred
bytes.  It is a sequence of :class:`Link`: indexing or iterating it gives each link as
the same frozen model the reader would have built, made when asked for, so every
consumer of ``Dataset.links`` works unchanged; :meth:`LinkTable.edges` gives the
graph's edges straight from the columns without making the models at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableSequence, Sequence
from enum import Enum
from typing import Any, overload

from graphguard.model import Link, construct_parsed, field_defaults

__all__ = ["LINK_FIELDS", "LinkTable"]

#: The fields of a link, in the model's order (``extra`` apart).
LINK_FIELDS: tuple[str, ...] = tuple(name for name in Link.model_fields if name != "extra")

#: Fields whose values repeat across links: one shared object per distinct value.
_SHARED = frozenset({"source_id", "target_id", "first_seen", "last_seen", "notes"})

#: What :func:`graphguard.store.base.link_attributes` leaves out of an edge.
_NOT_ON_EDGES = frozenset({"source_id", "target_id"})

_DEFAULTS = field_defaults(Link)


class LinkTable(MutableSequence[Link]):
    """Links stored by column; a mutable sequence of :class:`~graphguard.model.Link`.

    Parameters
    ----------
    links : iterable of Link, optional
        Links to start with.

    Examples
    --------
    >>> from graphguard.ingest import read_dataset
    >>> links = read_dataset("fixtures/demo").dataset.links
    >>> isinstance(links, LinkTable), links[0] == list(links)[0]
    (True, True)
    """

    __slots__ = ("_columns", "_extra", "_given", "_given_sets", "_shared")

    def __init__(self, links: Iterable[Link] = ()) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in LINK_FIELDS}
        #: Per link, the fields the row gave (pydantic's ``model_fields_set``), shared.
        self._given: list[frozenset[str]] = []
        #: Per link, its unknown columns, or None for none (the usual case).
        self._extra: list[dict[str, str] | None] = []
        self._shared: dict[Any, Any] = {}
        self._given_sets: dict[frozenset[str], frozenset[str]] = {}
        self.extend(links)

    # ------------------------------------------------------------ adding

    def add(self, values: dict[str, Any], extra: dict[str, str]) -> None:
        """Append one link from already-validated field values (the reader's fast path).

        ``values`` holds the fields the row gave, every one already parsed by the
        model's own cell parsers; the others take the model's defaults.
        """
        self._add(values, frozenset(values), extra)

    def append(self, value: Link) -> None:
        """Append a link model (kept by its field values)."""
        fields = {name: getattr(value, name) for name in LINK_FIELDS}
        self._add(fields, frozenset(value.model_fields_set), value.extra)

    def _add(self, values: dict[str, Any], given: frozenset[str], extra: dict[str, str]) -> None:
        shared = self._shared
        for name, column in self._columns.items():
            value = values.get(name, _DEFAULTS[name])
            if name in _SHARED and value is not None:
                value = shared.setdefault(value, value)
            column.append(value)
        self._given.append(self._given_sets.setdefault(given, given))
        self._extra.append(dict(extra) if extra else None)

    def insert(self, index: int, value: Link) -> None:
        self.append(value)
        if index < len(self) - 1:
            for column in (*self._columns.values(), self._given, self._extra):
                column.insert(index, column.pop())

    # ------------------------------------------------------------ sequence

    def __len__(self) -> int:
        return len(self._given)

    @overload
    def __getitem__(self, index: int) -> Link: ...

    @overload
    def __getitem__(self, index: slice) -> list[Link]: ...

    def __getitem__(self, index: int | slice) -> Link | list[Link]:
        if isinstance(index, slice):
            return [self._link(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("link index out of range")
        return self._link(index)

    @overload
    def __setitem__(self, index: int, value: Link) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[Link]) -> None: ...

    def __setitem__(self, index: int | slice, value: Link | Iterable[Link]) -> None:
        links = list(self)
        if isinstance(index, slice):
            assert not isinstance(value, Link)
            links[index] = list(value)
        else:
            assert isinstance(value, Link)
            links[index] = value
        self._replace(links)

    def __delitem__(self, index: int | slice) -> None:
        links = list(self)
        del links[index]
        self._replace(links)

    def __iter__(self) -> Iterator[Link]:
        for i in range(len(self)):
            yield self._link(i)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (LinkTable, list)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"LinkTable({len(self)} links)"

    def _replace(self, links: list[Link]) -> None:
        self.__init__(links)  # type: ignore[misc]  # rebuilt in place: rare, never on a hot path

    def _link(self, i: int) -> Link:
        # The values went through the model's parsers when they were read.
        fields = {name: column[i] for name, column in self._columns.items()}
        extra = self._extra[i]
        fields["extra"] = dict(extra) if extra else {}
        return construct_parsed(Link, fields, set(self._given[i]))

    # ------------------------------------------------------------ graph

    def column(self, name: str) -> Sequence[Any]:
        """Every link's value of one field, in order, read-only (a fast path for one field).

        Examples
        --------
        >>> from graphguard.model import Link
        >>> table = LinkTable([Link(link_id="L1", source_id="A", target_id="B", type="FAMILY_OF")])
        >>> [str(t) for t in table.column("type")]
        ['FAMILY_OF']
        """
        return tuple(self._columns[name])

    def edges(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """``(source_id, target_id, link_id, attributes)`` of every link, in order.

        ``attributes`` equals :func:`graphguard.store.base.link_attributes` of the
        link — the same keys in the same order, enums as their values — built from
        the columns without making the link models.
        """
        names = [name for name in LINK_FIELDS if name not in _NOT_ON_EDGES]
        columns = [_plain_column(self._columns[name]) for name in names]
        sources, targets = self._columns["source_id"], self._columns["target_id"]
        link_ids = self._columns["link_id"]
        for i, row in enumerate(zip(*columns, strict=True)):
            attributes = {
                name: value for name, value in zip(names, row, strict=True) if value is not None
            }
            extra = self._extra[i]
            if extra:
                for name, value in extra.items():
                    attributes[f"extra_{name}" if name in attributes else name] = value
            yield sources[i], targets[i], link_ids[i], attributes


def _plain_column(column: list[Any]) -> list[Any]:
    """The column with enum members as their values (as edges carry them)."""
    if not any(isinstance(value, Enum) for value in column):
        return column
    return [value.value if isinstance(value, Enum) else value for value in column]
