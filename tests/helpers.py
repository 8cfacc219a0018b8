"""Small helpers the tests share: writing datasets to a folder, reading a page as text."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

PEOPLE = ["person_id", "role", "name", "date_of_birth", "gender", "looked_after", "area"]
LINKS = [
    "link_id",
    "source_id",
    "target_id",
    "type",
    "first_seen",
    "last_seen",
    "count",
    "agency",
    "reference",
    "source_grade",
    "intel_grade",
    "handling",
    "protective",
]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def small_town(folder: Path) -> Path:
    """A valid three-person dataset with a location and a vehicle."""
    write_csv(
        folder / "people.csv",
        ["person_id", "role", "name", "gender", "looked_after"],
        [
            ["YP1", "young_person", "Ada Fictional", "female", "yes"],
            ["YP2", "young_person", "Bo Invented", "male", "no"],
            ["AD1", "adult", "Cy Madeup", "male", ""],
        ],
    )
    write_csv(
        folder / "locations.csv",
        ["location_id", "kind", "latitude", "longitude", "area"],
        [
            ["LO1", "hotel", "53.74", "-0.33", "Docklands"],
        ],
    )
    write_csv(
        folder / "vehicles.csv",
        ["vehicle_id", "registration", "private_hire"],
        [
            ["VE1", " ab12 cde ", "false"],
        ],
    )
    write_csv(
        folder / "links.csv",
        LINKS,
        [
            [
                "L1",
                "AD1",
                "YP1",
                "ALLEGED_HARM",
                "2025-01-01",
                "2025-03-01",
                "",
                "police",
                "INT-1",
                "1",
                "B",
                "P",
                "",
            ],
            [
                "L2",
                "AD1",
                "YP1",
                "ALLEGED_HARM",
                "2025-04-01",
                "",
                "",
                "police",
                "INT-2",
                "2",
                "C",
                "C",
                "",
            ],
            [
                "L3",
                "YP1",
                "LO1",
                "FOUND_AT",
                "2025-02-02",
                "",
                "",
                "social_care",
                "RHI-1",
                "",
                "",
                "",
                "",
            ],
            [
                "L4",
                "YP2",
                "VE1",
                "PASSENGER_IN",
                "2024-05-01",
                "2024-06-01",
                "3",
                "police",
                "ANPR-9",
                "1",
                "A",
                "P",
                "",
            ],
            ["L5", "YP1", "YP2", "ASSOCIATES_WITH", "", "", "", "education", "", "", "", "", ""],
        ],
    )
    return folder


#: Markup a hostile record could carry: an image, HTML, a link, Streamlit's colour
#: directive and maths.  Each names the beacon URL it would load, if rendered.
MARKUP = (
    "![b]({url}/img-{id})",
    '<img src="{url}/html-{id}">',
    "[see]({url}/link-{id}) **bold**",
    ":red[{id} loud] $x^2$ <b>{id}</b>",
)


def markup_town(source: Path, folder: Path, beacon: str) -> Path:
    """A copy of the dataset ``source`` whose adults, places, references and notes are markup.

    Every adult's and location's name, every link's reference and note becomes one of
    :data:`MARKUP`, pointing at ``beacon`` (a URL a test watches): a page that renders
    any of them as markup makes the browser fetch from it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.suffix != ".csv":
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        header = list(rows[0]) if rows else []
        for number, row in enumerate(rows):
            entity = row.get("person_id") or row.get("location_id") or row.get("link_id") or ""
            text = MARKUP[number % len(MARKUP)].format(url=beacon, id=entity)
            adult = path.name == "people.csv" and row["role"] == "adult"
            if adult or path.name == "locations.csv":
                row["name"] = text
            elif path.name == "links.csv":
                row["reference"] = text
                row["notes"] = text
        write_csv(folder / path.name, header, ([row[c] for c in header] for row in rows))
    return folder


class TcpProxy:
    """A loopback TCP relay to a server that a test can cut, as if the server stopped.

    ``stop()`` closes the listening socket and every relayed connection: clients see
    connections reset and then refused, exactly what a stopped Neo4j looks like.
    """

    def __init__(self, host: str, port: int) -> None:
        import socket
        import threading

        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._target)
            with self._lock:
                self._open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: object, sink: object) -> None:
        import socket

        assert isinstance(source, socket.socket) and isinstance(sink, socket.socket)
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        import socket

        # Closing alone would leave a thread blocked in accept() holding the socket open
        # (Linux keeps accepting); shutting it down first wakes that thread.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for end in self._open:
                end.close()
            self._open.clear()


def page_text(at: AppTest) -> str:
    """Everything a page shows as text: prose, tables, options, drawings, the sidebar."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "code"):
        parts += [str(getattr(e, "value", "")) for e in at.get(kind)]
    for alerts in (at.info, at.warning, at.success, at.error):
        parts += [str(e.value) for e in alerts]
    parts += [e.value.to_csv() for e in at.dataframe]
    parts += [str(option) for box in at.selectbox for option in box.options]
    parts += [str(option) for box in at.multiselect for option in box.options]
    parts += [str(e.proto.srcdoc) for e in at.get("iframe")]
    return "\n".join(parts)
