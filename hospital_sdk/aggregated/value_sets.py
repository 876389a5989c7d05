"""Diagnosis code lists kept as data: prefixes and category ranges of ICD-10 codes.

A code list (e.g. the surgical-complication list of 国考 indicator #8) is a YAML file of
categories, each with entries that are either a **prefix** (``T81.4`` matches ``T81.400`` and
``T81.411``) or a **range** of 3-character categories (``I60-I64``) or 4-character subcategories
(``T88.2-T88.5``), both ends included. :func:`load_code_list` parses and validates a file;
:meth:`CodeList.matches` answers for one code in Python and :meth:`CodeList.predicate` builds the
same test as an Ibis boolean expression, so the list never needs ``eval`` and both paths agree.

Codes look like ``T81.400``, ``I21.000x001`` or ``I26.900x002`` (national clinical edition):
the first 3 characters are the category, the first 5 (with the dot) the subcategory.

Examples
--------
>>> comp = surgical_complications()
>>> comp.name, len(comp.categories)
('surgical_complications', 19)
>>> [comp.matches(c) for c in ("T81.400", "I64.x00", "I65.x00", "T88.5", "T88.6")]
[True, True, False, True, False]
>>> comp.category_of("T81.411")  # on two lists: the first category in file order wins
'postop_sepsis'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import yaml

from hospital_sdk.errors import ContractError
from hospital_sdk.model import suggest

__all__ = [
    "SURGICAL_COMPLICATIONS",
    "CodeCategory",
    "CodeList",
    "CodePrefix",
    "CodeRange",
    "load_code_list",
    "parse_code_list",
    "surgical_complications",
]

SURGICAL_COMPLICATIONS = Path(__file__).parent / "reference" / "surgical_complications.yaml"
"""The surgical-complication ICD-10 list (national-indicators.md §4.8)."""

_PREFIX = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Zx][0-9A-Zx]*)?$")
_RANGE_END = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z])?$")
_DASHES = ("-", "\u2013", "\u2014")  # hyphen, en dash, em dash (the source writes I60–I64)
_LIST_KEYS = ("name", "zh", "en", "source", "confidence", "categories")
_CATEGORY_KEYS = ("id", "zh", "en", "codes")


@dataclass(frozen=True)
class CodePrefix:
    """Codes starting with ``prefix``.

    >>> CodePrefix("T81.4").matches("T81.411"), CodePrefix("T81.4").matches("T81.5")
    (True, False)
    """

    prefix: str

    def matches(self, code: str) -> bool:
        """Whether ``code`` starts with the prefix."""
        return code.startswith(self.prefix)

    def predicate(self, column: ir.StringValue) -> ir.BooleanValue:
        """The same test on an Ibis string column."""
        return column.startswith(self.prefix)

    def __str__(self) -> str:
        return self.prefix


@dataclass(frozen=True)
class CodeRange:
    """Codes whose category (3 characters) or subcategory (5, e.g. ``T88.2``) is in ``[low, high]``.

    >>> r = CodeRange("I60", "I64")
    >>> [r.matches(c) for c in ("I59.900", "I60.000", "I64", "I64.x00x001", "I65.000")]
    [False, True, True, True, False]
    """

    low: str
    high: str

    @property
    def width(self) -> int:
        """Characters compared: 3 for a category range, 5 for a subcategory range."""
        return len(self.low)

    def matches(self, code: str) -> bool:
        """Whether the first :attr:`width` characters of ``code`` lie in the range."""
        head = code[:self.width]
        return len(head) == self.width and self.low <= head <= self.high

    def predicate(self, column: ir.StringValue) -> ir.BooleanValue:
        """The same test on an Ibis string column."""
        head = column.substr(0, self.width)
        return (head.length() == self.width) & head.between(self.low, self.high)

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"


CodeRule = CodePrefix | CodeRange


@dataclass(frozen=True)
class CodeCategory:
    """One named category of a code list with its prefixes and ranges."""

    id: str
    zh: str
    en: str
    rules: tuple[CodeRule, ...]

    def matches(self, code: str) -> bool:
        """Whether any rule of the category matches ``code``."""
        return any(rule.matches(code) for rule in self.rules)


@dataclass(frozen=True)
class CodeList:
    """A named list of code categories, with its source and confidence tag.

    Parameters
    ----------
    name
        Identifier of the list (the file's ``name``).
    zh, en
        Title in Chinese and English.
    source
        Where the codes come from.
    confidence
        Confidence tag in the reference catalog's terms (C confirmed, K unconfirmed).
    categories
        The categories, in file order.
    """

    name: str
    zh: str
    en: str
    source: str
    confidence: str
    categories: tuple[CodeCategory, ...]

    @property
    def rules(self) -> tuple[CodeRule, ...]:
        """Every prefix and range of every category, in file order."""
        return tuple(rule for category in self.categories for rule in category.rules)

    def matches(self, code: str | None) -> bool:
        """Whether ``code`` is on the list (``None`` is not)."""
        return code is not None and any(rule.matches(code) for rule in self.rules)

    def category_of(self, code: str) -> str | None:
        """Id of the first category (in file order) that ``code`` belongs to, else ``None``."""
        return next((c.id for c in self.categories if c.matches(code)), None)

    def predicate(self, column: ir.StringValue) -> ir.BooleanValue:
        """An Ibis boolean expression: ``column`` is on the list (false, never null, for null).

        >>> import ibis
        >>> t = ibis.memtable({"code": ["T88.200", "T88.600", None]})
        >>> t.mutate(hit=surgical_complications().predicate(t.code)).hit.to_pyarrow().to_pylist()
        [True, False, False]
        """
        test = ibis.literal(False)
        for rule in self.rules:
            test = test | rule.predicate(column)
        return column.notnull() & test.fill_null(False)


def _rule(entry: Any, where: str) -> CodeRule:
    if not isinstance(entry, str):
        raise ContractError(f"{where}: code entry {entry!r} is not a string")
    text = entry.strip()
    for dash in _DASHES:
        if dash in text:
            low, _, high = (part.strip() for part in text.partition(dash))
            if not (_RANGE_END.match(low) and _RANGE_END.match(high)) or len(low) != len(high):
                raise ContractError(f"{where}: range {entry!r} must join two categories (I60-I64)"
                                    f" or two subcategories (T88.2-T88.5) of the same length")
            if low > high:
                raise ContractError(f"{where}: range {entry!r} runs backwards")
            return CodeRange(low, high)
    if not _PREFIX.match(text):
        raise ContractError(f"{where}: {entry!r} is not an ICD-10 code prefix (e.g. T81.4, I26) "
                            f"nor a range (e.g. I60-I64)")
    return CodePrefix(text)


def _keys(raw: Any, allowed: tuple[str, ...], where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ContractError(f"{where}: expected a mapping with keys {list(allowed)}")
    unknown = [f"unknown key {k!r}{suggest(str(k), allowed)}" for k in raw if k not in allowed]
    missing = [f"missing key {k!r}" for k in allowed if k not in raw]
    if unknown or missing:
        raise ContractError(f"{where}: " + "; ".join(unknown + missing))
    return raw


def load_code_list(path: str | Path) -> CodeList:
    """Read and validate a code-list YAML file.

    Parameters
    ----------
    path
        The file: keys ``name, zh, en, source, confidence, categories``; each category has
        ``id, zh, en, codes`` (prefixes such as ``T81.4`` or ranges such as ``I60-I64``).

    Returns
    -------
    CodeList

    Raises
    ------
    ContractError
        The file cannot be parsed, a key is missing or unknown, a category id repeats, or an
        entry is neither a prefix nor a well-formed range; the message names the file and the
        category.

    Examples
    --------
    >>> load_code_list(SURGICAL_COMPLICATIONS).categories[10].rules
    (CodeRange(low='T88.2', high='T88.5'),)
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContractError(f"cannot read code list {path}: {exc}") from exc
    return parse_code_list(raw, f"code list {path}")


def parse_code_list(raw: Any, where: str) -> CodeList:
    """Validate a parsed code list (the mapping a code-list file holds); see :func:`load_code_list`.

    ``where`` names it in error messages (e.g. ``"code list path/x.yaml"``).

    >>> parse_code_list({"name": "obstetric", "zh": "妊娠", "en": "Pregnancy", "source": "-",
    ...     "confidence": "chosen", "categories": [{"id": "o", "zh": "O", "en": "O",
    ...     "codes": ["O00-O99"]}]}, "example").matches("O80.001")
    True
    """
    top = _keys(raw, _LIST_KEYS, where)
    if not isinstance(top["categories"], list) or not top["categories"]:
        raise ContractError(f"{where}: 'categories' must be a non-empty list")
    categories: list[CodeCategory] = []
    for i, item in enumerate(top["categories"]):
        cat = _keys(item, _CATEGORY_KEYS, f"{where}, category #{i + 1}")
        here = f"{where}, category {cat['id']!r}"
        if any(c.id == cat["id"] for c in categories):
            raise ContractError(f"{here}: the id repeats")
        if not isinstance(cat["codes"], list) or not cat["codes"]:
            raise ContractError(f"{here}: 'codes' must be a non-empty list")
        rules = tuple(_rule(entry, here) for entry in cat["codes"])
        categories.append(CodeCategory(str(cat["id"]), str(cat["zh"]), str(cat["en"]), rules))
    return CodeList(str(top["name"]), str(top["zh"]), str(top["en"]), str(top["source"]),
                    str(top["confidence"]), tuple(categories))


@cache
def surgical_complications() -> CodeList:
    """The surgical-complication ICD-10 list of 国考 indicator #8 (read once, then cached).

    >>> str(surgical_complications().categories[14].rules[6])
    'I60-I64'
    """
    return load_code_list(SURGICAL_COMPLICATIONS)
