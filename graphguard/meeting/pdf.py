"""Rendering the briefing pack as a PDF with ReportLab.

ReportLab is the long-maintained pure-Python PDF toolkit (BSD licence, releases since
2000): its Platypus layer flows headings, paragraphs and tables across pages, and its
graphics layer draws the network pictures as vector shapes, so no plotting library
or Graphviz is needed and the pictures stay sharp when printed.  Text is set in
DejaVu Sans when the system has it, else the Bitstream Vera that ReportLab bundles,
so names of places in any Latin script print as written.

Every page carries the pack's handling line in its header and its page number in
the footer.  Text from the data is escaped before it reaches Platypus' markup.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from graphguard.meeting.briefing import Briefing, Picture

__all__ = ["render_briefing", "FONT"]

_FONT_FILES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
)
#: The font the pack is set in, registered on first use.
FONT = "GraphguardSans"

_KIND_COLOURS = {
    "young_person": colors.HexColor("#1f77b4"),
    "adult_of_concern": colors.HexColor("#d62728"),
    "adult": colors.HexColor("#ff7f0e"),
    "location": colors.HexColor("#7f7f7f"),
    "vehicle": colors.HexColor("#9467bd"),
}
_KIND_WORDS = {
    "young_person": "young person (pseudonym)",
    "adult_of_concern": "adult of concern",
    "adult": "other adult",
    "location": "place",
    "vehicle": "vehicle",
}
_HARM = frozenset({"ALLEGED_HARM", "PARTNER_OF", "CONTACTED"})


def _fonts() -> tuple[str, str]:
    """Register the pack's regular and bold fonts once; their names."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT, f"{FONT}-Bold"
    import reportlab

    bundled = Path(reportlab.__file__).parent / "fonts"
    regular, bold = bundled / "Vera.ttf", bundled / "VeraBd.ttf"
    for candidate, candidate_bold in _FONT_FILES:
        if Path(candidate).is_file() and Path(candidate_bold).is_file():
            regular, bold = Path(candidate), Path(candidate_bold)
            break
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(f"{FONT}-Bold", str(bold)))
    return FONT, f"{FONT}-Bold"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = getSampleStyleSheet()
    body = ParagraphStyle(
        "body", parent=base["BodyText"], fontName=regular, fontSize=9, leading=11.5
    )
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontName=bold, fontSize=18),
        "h1": ParagraphStyle(
            "h1", parent=base["Heading1"], fontName=bold, fontSize=13, spaceBefore=8
        ),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=10.5),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9),
    }


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _categories_line(row: dict[str, Any]) -> list[str]:
    """An adult target's data-protection categories, and "person of interest" if so."""
    if not row.get("categories"):
        return []
    note = f" — {row['category_note']}" if row.get("category_note") else ""
    return [f"Categories: {row['categories']}{note}"]


def _list(items: Iterable[object], style: ParagraphStyle) -> Paragraph:
    return Paragraph("<br/>".join(escape(str(item)) for item in items) or "-", style)


def _table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    styles: dict[str, ParagraphStyle],
    *,
    header: bool = True,
) -> Table:
    _, bold = _fonts()
    cells = [
        [item if isinstance(item, Paragraph) else _p(item, styles["cell"]) for item in row]
        for row in rows
    ]
    table = Table(cells, colWidths=list(widths), repeatRows=1 if header else 0)
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b0b0")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
            ("FONTNAME", (0, 0), (-1, 0), bold),
        ]
    table.setStyle(TableStyle(style))
    return table


def _drawing(picture: Picture, width: float, height: float) -> Drawing:
    """A picture as vector shapes: links as lines, entities as coloured marks with labels."""
    regular, _ = _fonts()
    drawing = Drawing(width, height)
    drawing.add(Rect(0, 0, width, height, strokeColor=colors.HexColor("#cccccc"), fillColor=None))
    margin = 40.0
    xs = [n["x"] for n in picture.nodes] or [0.0]
    ys = [n["y"] for n in picture.nodes] or [0.0]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0

    def place(node: dict[str, Any]) -> tuple[float, float]:
        x = margin + (node["x"] - min(xs)) / span_x * (width - 2 * margin)
        y = margin / 2 + (node["y"] - min(ys)) / span_y * (height - 1.5 * margin)
        return x, y

    points = [place(node) for node in picture.nodes]
    for edge in picture.edges:
        (x1, y1), (x2, y2) = points[edge["source"]], points[edge["target"]]
        if edge["protective"]:
            colour, width_line = colors.HexColor("#2ca02c"), 1.0
        elif edge["type"] in _HARM:
            colour, width_line = colors.HexColor("#d62728"), 1.0
        else:
            colour, width_line = colors.HexColor("#999999"), 0.5
        drawing.add(Line(x1, y1, x2, y2, strokeColor=colour, strokeWidth=width_line))
    for node, (x, y) in zip(picture.nodes, points, strict=True):
        colour = _KIND_COLOURS[node["kind"]]
        radius = 6.0 if node["centre"] else 4.0
        if node["kind"] == "location":
            drawing.add(
                Rect(
                    x - radius,
                    y - radius,
                    2 * radius,
                    2 * radius,
                    fillColor=colour,
                    strokeColor=colors.black,
                    strokeWidth=0.3,
                )
            )
        elif node["kind"] == "vehicle":
            drawing.add(
                Polygon(
                    [x, y + radius, x + radius, y, x, y - radius, x - radius, y],
                    fillColor=colour,
                    strokeColor=colors.black,
                    strokeWidth=0.3,
                )
            )
        else:
            drawing.add(
                Circle(x, y, radius, fillColor=colour, strokeColor=colors.black, strokeWidth=0.3)
            )
        drawing.add(
            String(
                x + radius + 1.5, y - 2.5, str(node["label"])[:34], fontName=regular, fontSize=5.5
            )
        )
    legend_x = 6.0
    for kind, words in _KIND_WORDS.items():
        drawing.add(
            Circle(legend_x + 3, height - 8, 3, fillColor=_KIND_COLOURS[kind], strokeColor=None)
        )
        drawing.add(String(legend_x + 9, height - 10, words, fontName=regular, fontSize=6))
        legend_x += 18 + pdfmetrics.stringWidth(words, regular, 6)
    return drawing


def _on_page(pack: Briefing) -> Any:
    regular, bold = _fonts()
    banner = (
        "SHAREABLE - handling code C withheld"
        if pack.shareable
        else "NOT FOR SHARING AS IT IS - includes handling code C"
    )

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(bold, 8)
        canvas.drawString(18 * mm, A4[1] - 12 * mm, f"{pack.title} - {banner}")
        canvas.setFont(regular, 7.5)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {doc.page}")
        canvas.drawString(18 * mm, 10 * mm, f"graphguard, made {pack.made_on.isoformat()}")
        canvas.restoreState()

    return draw


def _action_rows(actions: Sequence[Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["action", "target", "tactic", "lead / owner", "dates", "status / outcome"]
    ]
    for action in actions:
        rows.append(
            [
                action.id,
                f"{action.target_label} ({action.target_id})",
                action.tactic_text,
                f"{action.lead_agency} / {action.owner}",
                f"from {action.start.isoformat()}, review {action.review.isoformat()}",
                f"{action.status}" + (f": {action.outcome}" if action.outcome else ""),
            ]
        )
    return rows


def render_briefing(pack: Briefing) -> tuple[bytes, int]:
    """The PDF of a briefing pack, and its number of pages."""
    styles = _styles()
    body, small = styles["body"], styles["small"]
    width = A4[0] - 36 * mm
    story: list[Any] = [_p(pack.title, styles["title"])]

    story.append(_p("Summary", styles["h1"]))
    story.append(_table([["figure", "value"], *pack.summary], [width * 0.45, width * 0.55], styles))
    story += [Spacer(1, 4), _list(pack.notes[3:5], small)]

    story.append(_p(f"What changed since {pack.since.isoformat()}", styles["h1"]))
    if not pack.changes:
        story.append(_p("Nothing changed between the two pictures.", body))
    else:
        story.append(_list([f"\u2022 {line}" for line in pack.changes], body))

    story.append(_p("New alerts", styles["h1"]))
    if pack.alerts:
        rows = [["rule", "state", "raised", "what", "evidence"]]
        rows += [
            [a["rule"], a["state"], a["raised"], a["summary"], _list(a["evidence"], styles["cell"])]
            for a in pack.alerts
        ]
        story.append(_table(rows, [width * f for f in (0.2, 0.1, 0.12, 0.36, 0.22)], styles))
    else:
        story.append(_p("No open alerts.", body))

    story.append(PageBreak())
    story.append(_p(f"Top targets (evidence as of {pack.as_of.isoformat()})", styles["h1"]))
    if pack.targets.rows:
        rows = [["#", "target", "impact", "young people", "evidence", "suggested tactics"]]
        for row in pack.targets.rows:
            rows.append(
                [
                    row["rank"],
                    _list(
                        [
                            f"{row['label']} ({row['target_id']}, {row['kind']})",
                            *_categories_line(row),
                            row["explanation"],
                        ],
                        styles["cell"],
                    ),
                    f"{row['impact']:.2f}",
                    row["linked_young_people"],
                    _list(row["evidence"], styles["cell"]),
                    _list(row["suggested_tactics"], styles["cell"]),
                ]
            )
        story.append(_table(rows, [width * f for f in (0.04, 0.36, 0.07, 0.08, 0.2, 0.25)], styles))
    else:
        story.append(_p("No target would reduce exposure.", body))

    story.append(_p("Tactics and agreed actions", styles["h1"]))
    if pack.actions:
        story.append(
            _table(
                _action_rows(pack.actions),
                [width * f for f in (0.09, 0.22, 0.22, 0.15, 0.14, 0.18)],
                styles,
            )
        )
    else:
        story.append(_p("No action has been recorded (graphguard actions add).", body))

    story.append(_p("Actions due", styles["h1"]))
    for title, group in (("Overdue for review", pack.overdue), ("Due for review", pack.due)):
        story.append(_p(f"{title}: {len(group)}", styles["h2"]))
        if group:
            story.append(
                _table(
                    _action_rows(group),
                    [width * f for f in (0.09, 0.22, 0.22, 0.15, 0.14, 0.18)],
                    styles,
                )
            )

    story.append(_p("Displacement after actions started", styles["h1"]))
    if pack.displacement:
        story.append(_list([f"{d.verdict.upper()}: {d.finding}" for d in pack.displacement], body))
    else:
        story.append(_p("No action has started by the date of this picture.", body))

    story.append(PageBreak())
    story.append(_p("Context assessments of the top places", styles["h1"]))
    if not pack.contexts:
        story.append(_p("No place is among the top targets.", body))
    for context in pack.contexts:
        months = ", ".join(f"{month}: {n}" for month, n in context.by_month) or "no dates recorded"
        rows = [
            ["", ""],
            [
                "Who is linked",
                _list(
                    [
                        *context.adults,
                        f"{context.young_people} young people: "
                        + (", ".join(context.young_people_pseudonyms) or "none"),
                    ],
                    styles["cell"],
                ),
            ],
            [
                "When",
                f"first {context.first_seen or 'not recorded'}, last "
                f"{context.last_seen or 'not recorded'}; records by month (last seen): {months}",
            ],
            ["What happens there", _list(context.happens, styles["cell"])],
            ["Evidence", _list(context.evidence, styles["cell"])],
            ["What would change it", _list(context.would_change, styles["cell"])],
        ]
        story.append(
            KeepTogether(
                [
                    _p(f"{context.label} ({context.id})", styles["h2"]),
                    _table(rows, [width * 0.2, width * 0.8], styles, header=False),
                ]
            )
        )

    if pack.pictures:
        story.append(PageBreak())
        story.append(_p("Network pictures", styles["h1"]))
        story.append(
            _p(
                "Each top target and what is nearest it (two steps at most). Young "
                "people are shown by pseudonym; red lines are allegations, contact and "
                "intimate links, green lines protective ones.",
                small,
            )
        )
        for picture in pack.pictures:
            story.append(
                KeepTogether([_p(picture.title, styles["h2"]), _drawing(picture, width, 95 * mm)])
            )

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=16 * mm,
        title=pack.title,
        author="graphguard",
        subject="shareable" if pack.shareable else "not for sharing as it is",
        invariant=1,
    )
    draw = _on_page(pack)
    document.build(story, onFirstPage=draw, onLaterPages=draw)
    return buffer.getvalue(), document.page
