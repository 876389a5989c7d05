"""Check declarations: which check type applies to which table and field, how strictly.

A declaration is plain data (no expression is ever evaluated): a check type from
:data:`hospital_sdk.quality.checks.CHECK_TYPES`, a target, parameters, a threshold (the largest
violation *rate* still passing), a severity and a Kahn category. Declarations come from two
places: :func:`contract_declarations` derives the obvious ones from the data contract, and YAML
files (:func:`load_declarations`, :func:`foundation_declarations`) hold the rest. Thresholds are
kept apart so a site can swap them (:func:`with_thresholds`).

Examples
--------
>>> d = CheckDeclaration("stay.los", "in_range", "inpatient_stay", "los_days",
...                      params={"minimum": 0, "maximum": 3650}, kahn_category="plausibility")
>>> d.field, d.severity, d.threshold
('los_days', 'blocking', 0.0)
>>> CheckDeclaration("x", "not_nul", "inpatient_stay", "stay_id")
Traceback (most recent call last):
...
hospital_sdk.errors.ContractError: check 'x': key 'check_type': unknown check type 'not_nul' (did you mean 'not_null'?)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
import dataclasses
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from hospital_sdk.errors import ContractError
from hospital_sdk.model.contract import Contract, suggest
from hospital_sdk.quality.checks import CHECK_TYPES

Severity = Literal["blocking", "warning"]
KahnCategory = Literal["conformance", "completeness", "plausibility"]
SEVERITIES: tuple[str, ...] = Severity.__args__  # type: ignore[attr-defined]
KAHN_CATEGORIES: tuple[str, ...] = KahnCategory.__args__  # type: ignore[attr-defined]
FOUNDATION = Path(__file__).parent / "specs" / "foundation.yaml"


@dataclass(frozen=True)
class CheckDeclaration:
    """One check applied to one table.

    Parameters
    ----------
    id
        Unique check id.
    check_type
        Name of a registered check type.
    table
        The checked table (the one whose rows are counted and period-filtered).
    fields
        Column(s) checked; a single string is accepted. :attr:`field` is the single one.
    params
        Plain-data parameters of the check type (codes, pattern, parent table ...).
    threshold
        Largest violation rate that still passes, in ``[0, 1]``; 0 means no violation allowed.
    severity
        ``blocking`` (stops the data going further) or ``warning``.
    kahn_category
        ``conformance``, ``completeness`` or ``plausibility`` (Kahn et al. 2016).
    protects
        Ids of the indicators this check protects, e.g. ``("tertiary.08",)``.
    description_zh, description_en
        What the check means, in Chinese and English.
    """

    id: str
    check_type: str
    table: str
    fields: tuple[str, ...] | str = ()
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    threshold: float = 0.0
    severity: Severity = "blocking"
    kahn_category: KahnCategory = "conformance"
    protects: tuple[str, ...] = ()
    description_zh: str = ""
    description_en: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.fields, str):
            object.__setattr__(self, "fields", (self.fields,))
        object.__setattr__(self, "fields", tuple(self.fields))
        object.__setattr__(self, "protects", tuple(self.protects))
        object.__setattr__(self, "params", dict(self.params or {}))
        object.__setattr__(self, "threshold", float(self.threshold))
        issues = self.issues()
        if issues:
            raise ContractError(f"check {self.id!r}: " + "; ".join(issues))

    @property
    def field(self) -> str | None:
        """The single checked column, or ``None`` when the check takes none or several."""
        return self.fields[0] if len(self.fields) == 1 else None

    def issues(self) -> list[str]:
        """Every problem of this declaration, each naming its key."""
        out: list[str] = []
        kind = CHECK_TYPES.get(self.check_type)
        if kind is None:
            out.append(f"key 'check_type': unknown check type {self.check_type!r}"
                       f"{suggest(self.check_type, CHECK_TYPES)}")
        else:
            if kind.fields == "one" and len(self.fields) != 1:
                out.append(f"key 'field': {self.check_type} takes exactly one field")
            if kind.fields == "many" and not self.fields:
                out.append(f"key 'fields': {self.check_type} takes at least one field")
            for name in self.params:
                if name not in kind.params:
                    out.append(f"key 'params.{name}': not a parameter of {self.check_type} "
                               f"(expected {list(kind.params)}){suggest(name, kind.params)}")
            for name in kind.required:
                if name not in self.params:
                    out.append(f"key 'params.{name}': required by {self.check_type}")
        if self.severity not in SEVERITIES:
            out.append(f"key 'severity': {self.severity!r} is not one of {SEVERITIES}"
                       f"{suggest(str(self.severity), SEVERITIES)}")
        if self.kahn_category not in KAHN_CATEGORIES:
            out.append(f"key 'kahn_category': {self.kahn_category!r} is not one of "
                       f"{KAHN_CATEGORIES}{suggest(str(self.kahn_category), KAHN_CATEGORIES)}")
        if not 0.0 <= self.threshold <= 1.0:
            out.append(f"key 'threshold': {self.threshold} is not a rate in [0, 1]")
        return out


_KEYS: tuple[str, ...] = (*(f.name for f in dataclasses.fields(CheckDeclaration)), "field")
_REQUIRED = ("id", "check_type", "table")


def _from_mapping(raw: Mapping[str, Any]) -> CheckDeclaration:
    """Build one declaration from its YAML mapping; :class:`ContractError` names the key."""
    label = f"check {raw.get('id', '<no id>')!r}"
    issues = [f"unknown key {k!r}{suggest(str(k), _KEYS)}" for k in raw if k not in _KEYS]
    issues += [f"missing key {k!r}" for k in _REQUIRED if k not in raw]
    if "field" in raw and "fields" in raw:
        issues.append("give 'field' or 'fields', not both")
    if issues:
        raise ContractError(f"{label}: " + "; ".join(issues))
    kwargs = {k: v for k, v in raw.items() if k != "field"}
    if "field" in raw:
        kwargs["fields"] = (raw["field"],)
    try:
        return CheckDeclaration(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ContractError(f"{label}: {exc}") from None


def check_against_contract(decl: CheckDeclaration, contract: Contract) -> list[str]:
    """Problems with the table and columns ``decl`` names, judged by ``contract``."""
    if decl.table not in contract.table_names:
        return [f"key 'table': no table {decl.table!r} in the contract"
                f"{suggest(decl.table, contract.table_names)}"]
    table = contract.table(decl.table)
    names = [c.stored_name for c in table.columns]
    return [f"key 'fields': table {decl.table!r} has no column {f!r}{suggest(f, names)}"
            for f in decl.fields if f not in names]


def load_declarations(path: str | Path, *, contract: Contract | None = None,
                      ) -> tuple[CheckDeclaration, ...]:
    """Read the ``checks:`` list of a YAML file; collect every problem, then fail once.

    Each problem names the file, the check id and the key, with the near spelling when there
    is one. With a ``contract``, tables and columns are checked against it too.

    Raises
    ------
    ContractError
        When the file cannot be read or any declaration is invalid.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContractError(f"{path}: cannot read check declarations: {exc}") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("checks"), list):
        raise ContractError(f"{path}: expected a mapping with a 'checks' list")
    unknown = [k for k in doc if k != "checks"]
    problems = [f"unknown top-level key {k!r}{suggest(str(k), ['checks'])}" for k in unknown]
    out: list[CheckDeclaration] = []
    for i, raw in enumerate(doc["checks"]):
        if not isinstance(raw, Mapping):
            problems.append(f"checks[{i}] is not a mapping")
            continue
        try:
            decl = _from_mapping(raw)
        except ContractError as exc:
            problems.append(str(exc))
            continue
        if contract is not None:
            problems += [f"check {decl.id!r}: {p}" for p in check_against_contract(decl, contract)]
        out.append(decl)
    problems += _duplicate_ids(out)
    if problems:
        raise ContractError(f"{path}: invalid check declarations:\n  " + "\n  ".join(problems))
    return tuple(out)


def _duplicate_ids(decls: Sequence[CheckDeclaration]) -> list[str]:
    ids = [d.id for d in decls]
    return [f"check {i!r}: key 'id': repeated" for i in sorted({i for i in ids if ids.count(i) > 1})]


def foundation_declarations(contract: Contract | None = None) -> tuple[CheckDeclaration, ...]:
    """The hand-written declarations shipped with the SDK (``specs/foundation.yaml``)."""
    return load_declarations(FOUNDATION, contract=contract)


def with_thresholds(decls: Iterable[CheckDeclaration], thresholds: Mapping[str, float],
                    ) -> tuple[CheckDeclaration, ...]:
    """Copies of ``decls`` with a site's thresholds (check id -> max violation rate).

    >>> d = CheckDeclaration("a", "not_null", "t", "x")
    >>> with_thresholds([d], {"a": 0.05})[0].threshold
    0.05
    """
    decls = tuple(decls)
    ids = [d.id for d in decls]
    unknown = [f"no check {k!r}{suggest(k, ids)}" for k in thresholds if k not in ids]
    if unknown:
        raise ContractError("thresholds name unknown checks: " + "; ".join(unknown))
    return tuple(replace(d, threshold=thresholds[d.id]) if d.id in thresholds else d
                 for d in decls)


def contract_declarations(contract: Contract) -> tuple[CheckDeclaration, ...]:
    """The checks the contract itself implies, for every table.

    Per column: ``not_null`` for non-null columns, ``in_code_set`` for coded columns,
    ``matches_pattern`` for patterned columns (not for identifiers stored as tokens),
    ``in_range`` for columns with a minimum or maximum; per table: ``row_rule`` for each rule and
    ``unique_key`` on the primary key. Ids read ``<table>.<column or rule>.<check type>``.
    All are blocking: the loader rejects rows breaking them, so any hit later is a real leak.
    """
    out: list[CheckDeclaration] = []

    def add(id_: str, kind: str, table: str, flds: tuple[str, ...], cat: KahnCategory,
            zh: str, en: str, **params: Any) -> None:
        out.append(CheckDeclaration(id_, kind, table, flds, params, kahn_category=cat,
                                    description_zh=zh, description_en=en))

    for t in contract.tables:
        for c in t.columns:
            name = c.stored_name
            base = f"{t.name}.{name}"
            if not c.nullable:
                add(f"{base}.not_null", "not_null", t.name, (name,), "completeness",
                    f"{c.zh}不能为空", f"{c.en} is present")
            if c.codes is not None:
                add(f"{base}.in_code_set", "in_code_set", t.name, (name,), "conformance",
                    f"{c.zh}取值在代码集{c.codes}内", f"{c.en} is a code of {c.codes}",
                    codes=list(contract.code_set(c.codes).values), code_set=c.codes)
            if c.pattern is not None and c.sensitivity != "direct_identifier":
                add(f"{base}.matches_pattern", "matches_pattern", t.name, (name,),
                    "conformance", f"{c.zh}格式正确", f"{c.en} has the expected format",
                    pattern=c.pattern)
            if c.minimum is not None or c.maximum is not None:
                add(f"{base}.in_range", "in_range", t.name, (name,), "plausibility",
                    f"{c.zh}在合理范围内", f"{c.en} is within its plausible range",
                    minimum=c.minimum, maximum=c.maximum)
        for r in t.rules:
            add(f"{t.name}.{r.name}.row_rule", "row_rule", t.name, (r.left, r.right),
                "plausibility", r.zh, r.en, op=r.op)
        add(f"{t.name}.primary_key.unique_key", "unique_key", t.name, t.primary_key,
            "conformance", f"{t.zh}主键唯一", f"{t.en}: primary key is unique")
    return tuple(out)
