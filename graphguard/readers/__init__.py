"""What agencies send, turned into tables of text cells: CSV text files and workbook sheets.

A reader knows about bytes, encodings, delimiters, quotes, zip archives and sheets;
it knows nothing of the rules of the input format, which :mod:`graphguard.ingest`
applies to every table alike.  Whatever a reader cannot read faithfully it says:
as a :class:`~graphguard.readers.table.TableProblem` (the whole file or sheet), as a
problem attached to one row, or as a warning on the table.
"""

from graphguard.readers.table import ReadLimits, Row, Table, TableProblem

__all__ = ["ReadLimits", "Row", "Table", "TableProblem"]
