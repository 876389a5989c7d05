"""Read cell values back from an xlsx file with only the standard library.

The environment has no xlsx reader (neither openpyxl nor calamine, so no pandas ``read_excel``
engine either), so the tests read the Office Open XML parts themselves: the workbook lists the
sheets, the relationships say which part holds each, shared strings hold the text.
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - ord("A") + 1)
    return n - 1


def _text(node: ElementTree.Element) -> str:
    return "".join(t.text or "" for t in node.iter(f"{{{NS['m']}}}t"))


def read_workbook(path: Path) -> dict[str, list[list[Any]]]:
    """Sheet name → rows of cell values (str, float, bool, or None for an empty cell), in the
    workbook's sheet order."""
    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", NS)}
        shared: list[str] = []
        if "xl/sharedStrings.xml" in z.namelist():
            sst = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
            shared = [_text(si) for si in sst.findall("m:si", NS)]
        out: dict[str, list[list[Any]]] = {}
        for sheet in book.findall("m:sheets/m:sheet", NS):
            target = targets[sheet.get(f"{{{NS['r']}}}id")].lstrip("/")
            part = target if target.startswith("xl/") else f"xl/{target}"
            xml = ElementTree.fromstring(z.read(part))
            cells: dict[tuple[int, int], Any] = {}
            for c in xml.iter(f"{{{NS['m']}}}c"):
                letters, row = _REF.match(c.get("r")).groups()
                kind, v = c.get("t"), c.find("m:v", NS)
                if c.find("m:f", NS) is not None:
                    raise AssertionError(f"cell {c.get('r')} holds a formula")
                if kind == "s":
                    value: Any = shared[int(v.text)]
                elif kind == "inlineStr":
                    value = _text(c.find("m:is", NS))
                elif kind == "str":
                    value = v.text or ""
                elif kind == "b":
                    value = v.text == "1"
                elif v is None:
                    continue
                else:
                    value = float(v.text)
                cells[(int(row) - 1, _column_index(letters))] = value
            n_rows = max((r for r, _ in cells), default=-1) + 1
            n_cols = max((c for _, c in cells), default=-1) + 1
            out[sheet.get("name")] = [[cells.get((r, c)) for c in range(n_cols)]
                                      for r in range(n_rows)]
        return out


def records(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """The rows under the header as dicts keyed by header."""
    header = rows[0]
    return [dict(zip(header, row + [None] * (len(header) - len(row)), strict=True))
            for row in rows[1:]]


def excel_date(serial: float) -> datetime:
    """An Excel serial date (1900 system) as a datetime."""
    return datetime(1899, 12, 30) + timedelta(days=serial)
