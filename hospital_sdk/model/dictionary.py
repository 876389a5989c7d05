"""The data dictionary: the contract exported as Markdown and JSON Schema, and read back.

The JSON Schema is what a hospital maps its HIS/EMR exports to: one row schema per table under
``$defs/tables`` (types, required columns, code-set enums, patterns, ranges, bilingual
descriptions) with the contract-only facts in ``x-`` keywords (primary key, grain, period column,
row rules, sensitivity, exact Ibis type), so :func:`from_json_schema` rebuilds the identical
contract.

Examples
--------
>>> from hospital_sdk.model import CONTRACT
>>> from hospital_sdk.model.dictionary import from_json_schema, to_json_schema
>>> from_json_schema(to_json_schema(CONTRACT)) == CONTRACT
True
"""

from __future__ import annotations

import json
from typing import Any

from hospital_sdk.errors import ContractError
from hospital_sdk.model.contract import Code, CodeSet, Column, Contract, RowRule, Table

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_SCHEMA_ID = "https://hospital-sdk.org/schemas/contract.json"

_JSON_TYPE = {
    "string": ("string", None), "boolean": ("boolean", None), "int8": ("integer", None),
    "int16": ("integer", None), "int32": ("integer", None), "int64": ("integer", None),
    "float64": ("number", None), "date": ("string", "date"), "timestamp": ("string", "date-time"),
}


def _json_type(dtype: str) -> tuple[str, str | None]:
    return ("number", None) if dtype.startswith("decimal") else _JSON_TYPE[dtype]


def _column_schema(col: Column) -> dict[str, Any]:
    json_type, fmt = _json_type(col.dtype)
    out: dict[str, Any] = {
        "type": json_type if not col.nullable else [json_type, "null"],
        "title": col.zh,
        "description": col.en,
        "x-ibis-type": col.dtype,
    }
    if fmt:
        out["format"] = fmt
    if col.codes:
        out["x-code-set"] = col.codes
        ref = {"$ref": f"#/$defs/code_sets/{col.codes}"}
        if col.nullable:
            out["anyOf"] = [ref, {"type": "null"}]
        else:
            out.update(ref)
    if col.pattern:
        out["pattern"] = col.pattern
    if col.minimum is not None:
        out["minimum"] = col.minimum
    if col.maximum is not None:
        out["maximum"] = col.maximum
    if col.unit:
        out["x-unit"] = col.unit
    if col.references:
        out["x-references"] = col.references
    if col.sensitivity != "none":
        out["x-sensitivity"] = col.sensitivity
    return out


def _table_schema(table: Table) -> dict[str, Any]:
    return {
        "type": "object",
        "title": table.zh,
        "description": table.en,
        "properties": {c.name: _column_schema(c) for c in table.columns},
        "required": [c.name for c in table.columns if not c.nullable],
        "additionalProperties": False,
        "x-domain": table.domain,
        "x-grain": {"zh": table.grain_zh, "en": table.grain_en},
        "x-primary-key": list(table.primary_key),
        "x-period-column": table.period_column,
        "x-source": table.source,
        "x-column-order": list(table.column_names),
        "x-rules": [
            {"name": r.name, "zh": r.zh, "en": r.en, "left": r.left, "op": r.op, "right": r.right}
            for r in table.rules
        ],
    }


def _code_set_schema(cs: CodeSet) -> dict[str, Any]:
    return {
        "title": cs.zh,
        "description": cs.en,
        "enum": list(cs.values),
        "x-codes": [{"code": c.code, "zh": c.zh, "en": c.en} for c in cs.codes],
        "x-source": cs.source,
    }


def to_json_schema(contract: Contract) -> dict[str, Any]:
    """The contract as one JSON Schema (draft 2020-12) document.

    ``$defs/tables/<name>`` validates one row of a source file; ``$defs/code_sets/<id>`` holds
    each code list. Nullable columns accept ``null``.
    """
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": _SCHEMA_ID,
        "title": "hospital_sdk data contract",
        "description": "Canonical hospital-group data model (统一数据模型) that source exports map to.",
        "x-contract-version": contract.version,
        "$defs": {
            "tables": {t.name: _table_schema(t) for t in contract.tables},
            "code_sets": {s.id: _code_set_schema(s) for s in contract.code_sets},
        },
    }


def _column_from(name: str, spec: dict[str, Any]) -> Column:
    json_type = spec["type"]
    return Column(
        name, spec["x-ibis-type"], spec["title"], spec["description"],
        nullable=isinstance(json_type, list) and "null" in json_type,
        codes=spec.get("x-code-set"), pattern=spec.get("pattern"),
        references=spec.get("x-references"), unit=spec.get("x-unit"),
        minimum=spec.get("minimum"), maximum=spec.get("maximum"),
        sensitivity=spec.get("x-sensitivity", "none"),
    )


def from_json_schema(doc: dict[str, Any] | str) -> Contract:
    """Rebuild a :class:`Contract` from :func:`to_json_schema` output (a dict or JSON text)."""
    if isinstance(doc, str):
        doc = json.loads(doc)
    try:
        defs = doc["$defs"]
        code_sets = tuple(
            CodeSet(id, spec["title"], spec["description"],
                    tuple(Code(c["code"], c["zh"], c["en"]) for c in spec["x-codes"]),
                    spec["x-source"])
            for id, spec in defs["code_sets"].items()
        )
        tables = tuple(
            Table(
                name, spec["x-domain"], spec["title"], spec["description"],
                spec["x-grain"]["zh"], spec["x-grain"]["en"], tuple(spec["x-primary-key"]),
                tuple(_column_from(c, spec["properties"][c]) for c in spec["x-column-order"]),
                period_column=spec["x-period-column"],
                rules=tuple(RowRule(**r) for r in spec["x-rules"]),
                source=spec["x-source"],
            )
            for name, spec in defs["tables"].items()
        )
        return Contract(doc["x-contract-version"], tables, code_sets)
    except KeyError as exc:
        raise ContractError(f"not a hospital_sdk contract schema: missing key {exc}") from None


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_constraints(col: Column) -> str:
    parts = []
    if col.codes:
        parts.append(f"codes: [`{col.codes}`](#code-set-{col.codes})")
    if col.pattern:
        parts.append(f"pattern `{col.pattern}`")
    if col.minimum is not None or col.maximum is not None:
        lo = "" if col.minimum is None else f"{col.minimum:g}"
        hi = "" if col.maximum is None else f"{col.maximum:g}"
        parts.append(f"range [{lo}, {hi}]")
    if col.unit:
        parts.append(f"unit {col.unit}")
    if col.references:
        parts.append(f"→ `{col.references}`")
    if col.sensitivity == "direct_identifier":
        parts.append(f"**tokenised on load as `{col.stored_name}`**")
    elif col.sensitivity != "none":
        parts.append(f"{col.sensitivity.replace('_', ' ')}")
    return "; ".join(_md_escape(p) for p in parts)


def to_markdown(contract: Contract) -> str:
    """The contract as a Markdown data dictionary (数据字典), one section per table and code set."""
    lines = [
        f"# hospital_sdk data contract {contract.version} — 数据字典 / data dictionary",
        "",
        "Each table below is one kind of source file (`<table>.parquet`, `<table>.csv`, "
        "`<table>_<part>.csv` or files inside a folder `<table>/`). CSV files are UTF-8 or GBK "
        "with a header row; column order is free, names must match. Required columns must be "
        "filled; codes must belong to their code set. Identity-document numbers are tokenised "
        "on load and never stored in clear.",
        "",
        "| table | 中文 | domain | grain | primary key |",
        "|---|---|---|---|---|",
    ]
    for t in contract.tables:
        kind = "" if t.source else " (derived)"
        lines.append(f"| [`{t.name}`](#{t.name}){kind} | {_md_escape(t.zh)} | "
                     f"{t.domain} | {_md_escape(t.grain_en)} | {', '.join(t.primary_key)} |")
    for t in contract.tables:
        lines += [
            "", f"## {t.name}", "", f"**{t.zh}** — {t.en}", "",
            f"- Grain / 粒度: {t.grain_zh} / {t.grain_en}",
            f"- Primary key: `{', '.join(t.primary_key)}`",
            f"- Period column: `{t.period_column}`" if t.period_column else "- Period column: —",
            f"- Delivered by hospitals: {'yes' if t.source else 'no, derived by hospital_sdk'}",
            "", "| column | type | required | 中文 | description | constraints |",
            "|---|---|---|---|---|---|",
        ]
        for c in t.columns:
            lines.append(f"| `{c.name}` | {c.dtype} | {'no' if c.nullable else '**yes**'} | "
                         f"{_md_escape(c.zh)} | {_md_escape(c.en)} | {_md_constraints(c)} |")
        if t.rules:
            lines += ["", "Row rules (checked on load; a rule holds when either side is empty):", ""]
            lines += [f"- `{r.left} {r.op} {r.right}` — {r.zh} / {r.en}" for r in t.rules]
    lines += ["", "## Code sets", ""]
    for s in contract.code_sets:
        lines += ["", f"### code set {s.id}", "", f"**{s.zh}** — {s.en}. Source: {s.source}", "",
                  "| code | 中文 | English |", "|---|---|---|"]
        lines += [f"| `{c.code}` | {_md_escape(c.zh)} | {_md_escape(c.en)} |" for c in s.codes]
    return "\n".join(lines) + "\n"
