"""Writing Word documents with python-docx: Times New Roman runs, paragraphs, headings, table
cells and tables (header rows repeated on every page, rows never split), fixed widths, borders
and the page-number field. What the official report says is `survey.reporting.document`."""

from __future__ import annotations

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

FONT = "Times New Roman"


def set_font(run, size: float, bold=False, italic=False, underline=False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    run.font.underline = underline
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def add_paragraph(
    container,
    text: str = "",
    size: float = 13,
    bold=False,
    italic=False,
    align=None,
    indent=True,
    after: float = 6,
):
    p = container.add_paragraph()
    if text:
        set_font(p.add_run(text), size, bold, italic)
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY if align is None else align
    fmt = p.paragraph_format
    fmt.space_after = Pt(after)
    fmt.space_before = Pt(0)
    fmt.line_spacing = 1.15
    if indent and align is None:
        fmt.first_line_indent = Cm(1.0)
    return p


def heading(doc, text: str):
    """A section heading (I., II., ...): bold, with room above it when a table precedes it."""
    p = add_paragraph(doc, text, 13, bold=True, indent=False, align=WD_ALIGN_PARAGRAPH.LEFT)
    p.paragraph_format.space_before = Pt(9)
    return p


def fill_cell(
    cell, text: str, size: float = 11, bold=False, align=WD_ALIGN_PARAGRAPH.LEFT, italic=False
):
    cell.text = ""
    p = cell.paragraphs[0]
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    set_font(p.add_run(text), size, bold, italic)


def repeat_header(row) -> None:
    """Repeat this table row at the top of every page (w:tblHeader)."""
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


def no_split(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:cantSplit")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


def fix_widths(table, widths) -> None:
    """Fixed column widths (Word reads the cells', LibreOffice the grid's)."""
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    for i, width in enumerate(widths):
        table.columns[i].width = Cm(width)
        for cell in table.columns[i].cells:
            cell.width = Cm(width)


def no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)


def page_field(paragraph) -> None:
    """A PAGE field: Word and LibreOffice write the page number."""
    run = paragraph.add_run()
    set_font(run, 13)
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), ("end", None)):
        if kind is None:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)


def add_table(
    doc, headers: list[str], rows: list[list[str]], widths: list[float], numeric: set[int]
):
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    head = table.rows[0]
    repeat_header(head)
    for i, text in enumerate(headers):
        fill_cell(head.cells[i], text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for values in rows:
        row = table.add_row()
        no_split(row)
        for i, text in enumerate(values):
            align = WD_ALIGN_PARAGRAPH.RIGHT if i in numeric else WD_ALIGN_PARAGRAPH.LEFT
            fill_cell(row.cells[i], text, align=align)
    fix_widths(table, widths)
    return table
