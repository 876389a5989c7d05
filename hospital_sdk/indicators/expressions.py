"""Expression strings in specs, read against an allow-list and never run as Python.

Filters and derived columns in indicator and measure specs are written like Ibis deferred
expressions::

    (_.age_years >= 18) & _.visit_type.isin(['outpatient', 'health_check'])
    in_value_set(_.principal_diagnosis_code, 'obstetric_perinatal')
    _.total_cost - _.drug_cost

:func:`parse_expression` uses :func:`ast.parse` only to get the syntax tree, accepts it node by
node against the grammar below and keeps a small tree of its own; :meth:`Expression.resolve`
builds the Ibis expression over a table from that tree. Nothing is evaluated as Python, so an
expression cannot open a file, import a module or reach ``__class__``.

The grammar
-----------
columns
    ``_.name`` is the column ``name`` of the fact table. ``_`` alone, other bare names and names
    starting with ``_`` are errors.
literals
    Strings, numbers (64-bit), ``True``, ``False`` and ``None``; lists (or tuples) of literals
    only as the argument of ``isin``/``notin``.
operators
    ``==  !=  <  <=  >  >=`` once per comparison (write ``(_.x > 0) & (_.x < 5)``, not
    ``0 < _.x < 5``); ``&`` (and), ``|`` (or), ``~`` (not) on conditions; ``+ - * /`` and unary
    ``-``. Python's ``and``/``or``/``not`` cannot work on columns; ``is``, ``in`` and ``== None``
    are errors too (use ``.isnull()``, ``.notnull()``, ``.isin([...])``). ``&`` and ``|`` bind
    tighter than comparisons: write ``(_.age_days <= 28) & _.is_newborn``.
methods (called on a value)
    ``isin([...])``, ``notin([...])`` (no ``None`` in the list), ``isnull()``, ``notnull()``,
    ``between(low, high)`` (both ends included), ``fill_null(literal)``,
    ``coalesce(value, ...)``, ``cast('type')`` (types: boolean, date, decimal(18,2), float64,
    int32, int64, string, timestamp); for text ``startswith('x')``, ``endswith('x')``,
    ``substr(start, length)`` (start counts from 0), ``lower()``, ``upper()``, ``length()``;
    for dates and times ``year()``, ``month()``, ``day()``, ``hour()``, ``date()``,
    ``delta(other, unit='day')`` (this minus other in whole units: day, hour or minute);
    for numbers ``abs()``, ``round(digits)``; on a condition ``ifelse(if_true, if_false)``
    (a null condition gives ``if_false``).
    Keyword arguments: only ``unit`` of ``delta``.
functions
    ``in_value_set(value, 'value-set id')``, true when the code is on the value set; the id may
    carry a version (``'obstetric_perinatal@2019'``). The value sets are given to ``resolve``.

Nulls follow SQL: comparing a null gives null, and ``~`` of null is null. A filter keeps only the
rows where the condition is true, so there null counts as false. :meth:`Expression.resolve` adds
no ``fill_null``; the caller does where it matters (e.g. before negating a condition).

An expression is at most 2000 characters and 50 levels deep; one spread over several lines must
be wrapped in parentheses. Every problem raises :class:`~hospital_sdk.errors.ExpressionError`
naming the expression, the offending piece and where it is (columns counted from 0).

Examples
--------
>>> import ibis
>>> adult = parse_expression(
...     "(_.age_years >= 18) & _.visit_type.isin(['outpatient', 'health_check'])")
>>> sorted(adult.columns)
['age_years', 'visit_type']
>>> t = ibis.memtable({"age_years": [17, 40, 70, None],
...                    "visit_type": ["outpatient", "emergency", "health_check", "outpatient"]})
>>> t.mutate(adult=adult.resolve(t)).adult.to_pyarrow().to_pylist()
[False, False, True, None]
>>> parse_expression("_.age_years >= 18 and _.visit_type == 'outpatient'")
Traceback (most recent call last):
    ...
hospital_sdk.errors.ExpressionError: expression "_.age_years >= 18 and _.visit_type == \
'outpatient'": 'and' is not allowed (at column 18); use & for and, | for or, ~ for not
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir
from ibis.common.annotations import ValidationError
from ibis.common.exceptions import IbisError

from hospital_sdk.errors import ExpressionError
from hospital_sdk.model import suggest

__all__ = ["CAST_TYPES", "MAX_DEPTH", "MAX_LENGTH", "Expression", "ValueSetLike",
           "parse_expression"]

MAX_LENGTH = 2000
MAX_DEPTH = 50
CAST_TYPES = ("boolean", "date", "decimal(18,2)", "float64", "int32", "int64", "string",
              "timestamp")
UNITS = ("day", "hour", "minute")
_VALUE_SET_ID = r"[A-Za-z0-9_][A-Za-z0-9_.-]*(@[A-Za-z0-9_.-]+)?"
_VALUE_SET_USAGE = "in_value_set(value, 'value-set id')"
_FUNCTION_HINT = f"the only function is {_VALUE_SET_USAGE}"
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.BitAnd: "&",
           ast.BitOr: "|", ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@",
           ast.LShift: "<<", ast.RShift: ">>", ast.BitXor: "^"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
            ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
_KEYWORD_HINTS = {"is": "use .isnull() or .notnull()", "in": "use .isin([...]) or .notin([...])"}
_OPERATORS: dict[str, Callable[..., Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "&": operator.and_, "|": operator.or_, "+": operator.add,
    "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_ALLOWED_OPERATORS = "== != < <= > >= & | ~ + - * /"
_DESCRIPTIONS = {ast.Lambda: "lambda", ast.ListComp: "a comprehension",
                 ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
                 ast.GeneratorExp: "a comprehension", ast.Subscript: "subscript [...]",
                 ast.JoinedStr: "an f-string", ast.NamedExpr: "':='", ast.Starred: "'*'",
                 ast.Dict: "a dict", ast.Set: "a set", ast.IfExp: "'... if ... else ...'"}
_IBIS_ERRORS = (IbisError, ValidationError, AttributeError, TypeError, ValueError,
                NotImplementedError)
_NOT_LITERAL = object()


@dataclass(frozen=True)
class _Method:
    usage: str                       # shown in errors, e.g. "between(low, high)"
    kinds: tuple[str, ...] = ()      # value, list, literal, str, int, type or unit
    required: int | None = None      # how many arguments are required (None: all)
    keyword: str | None = None       # the last argument may be given by this keyword


_METHODS = {name: _Method(f"{name}()") for name in (
    "abs", "date", "day", "hour", "isnull", "length", "lower", "month", "notnull", "upper", "year")}
_METHODS |= {
    "between": _Method("between(low, high)", ("value", "value")),
    "cast": _Method("cast('int64')", ("type",)),
    "coalesce": _Method("coalesce(value, ...)", ("value",) * 9, required=1),
    "delta": _Method("delta(other, unit='day')", ("value", "unit"), keyword="unit"),
    "endswith": _Method("endswith('text')", ("str",)),
    "fill_null": _Method("fill_null(literal)", ("literal",)),
    "ifelse": _Method("ifelse(if_true, if_false)", ("value", "value")),
    "isin": _Method("isin([literal, ...])", ("list",)),
    "notin": _Method("notin([literal, ...])", ("list",)),
    "round": _Method("round(digits)", ("int",), required=0),
    "startswith": _Method("startswith('text')", ("str",)),
    "substr": _Method("substr(start, length)", ("int", "int"), required=1),
}


class ValueSetLike(Protocol):
    """What ``in_value_set`` needs of a value set, e.g. a
    :class:`~hospital_sdk.aggregated.value_sets.CodeList`."""

    def predicate(self, codes: ir.StringValue) -> ir.BooleanValue:
        """An Ibis condition: ``codes`` is on the value set."""
        ...


@dataclass(frozen=True)
class _Node:
    """One accepted piece of an expression, the only thing :meth:`Expression.resolve` reads."""

    kind: str                       # column, literal, operator, method or value_set
    name: str = ""                  # column, operator symbol, method or value-set id
    args: tuple[_Node, ...] = ()    # operands; a method's receiver comes first
    value: Any = None               # a literal's value (a tuple for a list)
    at: str = ""                    # "at column 4", for errors found while resolving

    def walk(self) -> tuple[_Node, ...]:
        return (self, *(n for arg in self.args for n in arg.walk()))


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, what it references and how to build it with Ibis.

    Examples
    --------
    >>> import ibis
    >>> from hospital_sdk.aggregated.value_sets import surgical_complications
    >>> e = parse_expression("in_value_set(_.code, 'surgical_complications')")
    >>> str(e), sorted(e.columns), sorted(e.value_sets)
    ("in_value_set(_.code, 'surgical_complications')", ['code'], ['surgical_complications'])
    >>> t = ibis.memtable({"code": ["T81.400", "I65.x00", None]})
    >>> sets = {"surgical_complications": surgical_complications()}
    >>> t.mutate(hit=e.resolve(t, sets)).hit.to_pyarrow().to_pylist()
    [True, False, False]
    >>> e.check(ibis.schema({"code": "int64"}), sets)
    Traceback (most recent call last):
        ...
    hospital_sdk.errors.ExpressionError: expression "in_value_set(_.code, \
'surgical_complications')": in_value_set() cannot be applied to int64 (at column 0)
    """

    text: str
    columns: frozenset[str]
    value_sets: frozenset[str]
    _tree: _Node = field(repr=False, compare=False)

    def __str__(self) -> str:
        return self.text

    def resolve(self, table: ir.Table,
                value_sets: Mapping[str, ValueSetLike] | None = None) -> ir.Value:
        """Build the Ibis expression over ``table``; ``value_sets`` maps ids to value sets.

        Raises :class:`~hospital_sdk.errors.ExpressionError` for an unknown column or value set
        and for operators or methods that do not apply to their operands' types.
        """
        value = _build(self._tree, table, value_sets or {}, self.text)
        return value if isinstance(value, ir.Value) else ibis.literal(value)

    def check(self, schema: ibis.Schema, value_sets: Mapping[str, ValueSetLike] | None = None,
              *, boolean: bool = False) -> None:
        """Resolve against an empty table of ``schema``; with ``boolean``, require a condition.

        >>> parse_expression("_.los_days * 1.0").check(ibis.schema({"los_days": "int64"}),
        ...                                            boolean=True)
        Traceback (most recent call last):
            ...
        hospital_sdk.errors.ExpressionError: expression "_.los_days * 1.0": must be a boolean \
condition, got float64
        """
        value = self.resolve(ibis.table(schema, name="fact"), value_sets)
        if boolean and not value.type().is_boolean():
            raise _error(self.text, f"must be a boolean condition, got {value.type()}")


def parse_expression(text: str) -> Expression:
    """Parse ``text`` against the allow-list of the module's grammar (cached: same text, same
    object).

    >>> e = parse_expression("_.wait_minutes.notnull() & (_.wait_minutes >= 0)")
    >>> e.columns, e is parse_expression(e.text)
    (frozenset({'wait_minutes'}), True)
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expression {text!r}: must be a string, got {type(text).__name__}")
    return _parse(text)


@lru_cache(maxsize=1024)
def _parse(text: str) -> Expression:
    if len(text) > MAX_LENGTH:
        raise _error(text, f"too long: {len(text)} characters, at most {MAX_LENGTH}")
    if not text.strip():
        raise _error(text, "empty; write a value or a condition, e.g. _.age_years >= 18")
    reader = _Reader(text)
    tree = reader.expression(reader.syntax_tree(), 0)
    nodes = tree.walk()
    return Expression(text, frozenset(n.name for n in nodes if n.kind == "column"),
                      frozenset(n.name for n in nodes if n.kind == "value_set"), tree)


def _error(text: str, problem: str) -> ExpressionError:
    shown = text if len(text) <= 200 else text[:200] + "..."
    return ExpressionError(f'expression "{shown}": {problem}')


def _is_underscore(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "_"


class _Reader:
    """Turns the syntax tree of one expression into :class:`_Node`, accepting only the grammar.

    Positions from :mod:`ast` are lines and UTF-8 byte columns of the stripped text; messages
    give character columns of the original text.
    """

    def __init__(self, text: str) -> None:
        self.text, self.source = text, text.strip()
        self.shift = len(text) - len(text.lstrip())
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.source)]

    def fail(self, problem: str) -> ExpressionError:
        return _error(self.text, problem)

    def where(self, index: int) -> str:
        """``"at column c"`` (or ``"at line l, column c"``) of a character index in the source."""
        index += self.shift
        line, column = self.text.count("\n", 0, index), index - self.text.rfind("\n", 0, index) - 1
        return f"at column {column}" if line == 0 else f"at line {line + 1}, column {column}"

    def index(self, lineno: int, byte_offset: int) -> int:
        start = self.line_starts[lineno - 1]
        return start + len(self.source[start:].encode()[:byte_offset].decode(errors="ignore"))

    def at(self, node: ast.AST) -> str:
        return self.where(self.index(node.lineno, node.col_offset))  # type: ignore[attr-defined]

    def after(self, node: ast.expr, symbol: str) -> str:
        """Where ``symbol`` (an operator or keyword) first occurs after ``node``."""
        end = self.index(node.end_lineno or node.lineno, node.end_col_offset or 0)
        return self.where(self.source.find(symbol, end))

    def name_at(self, node: ast.Attribute) -> str:
        end = self.index(node.end_lineno or node.lineno, node.end_col_offset or 0)
        return self.where(end - len(node.attr))

    def segment(self, node: ast.expr) -> str:
        return ast.get_source_segment(self.source, node) or type(node).__name__

    def syntax_tree(self) -> ast.expr:
        try:
            return ast.parse(self.source, mode="eval").body
        except SyntaxError as error:
            place = ""
            if error.lineno and error.offset is not None:
                start = self.line_starts[min(error.lineno, len(self.line_starts)) - 1]
                line_end = self.source.find("\n", start)
                line_end = len(self.source) if line_end < 0 else line_end
                index = start + error.offset - 1 if error.offset > 0 else line_end  # 0: at the end
                place = f" ({self.where(min(index, line_end))})"
            raise self.fail(f"not a valid expression: {error.msg}{place}") from None
        except (RecursionError, MemoryError, ValueError) as error:
            raise self.fail(f"not a valid expression: {error}") from None

    def expression(self, node: ast.expr, depth: int) -> _Node:
        if depth >= MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels ({self.at(node)})")
        depth += 1
        if (value := self.scalar(node)) is not _NOT_LITERAL:
            return _Node("literal", value=value)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.BinOp | ast.UnaryOp):
            return self.operation(node, depth)
        if isinstance(node, ast.Compare):
            return self.compare(node, depth)
        if isinstance(node, ast.BoolOp):
            word = "and" if isinstance(node.op, ast.And) else "or"
            raise self.fail(f"'{word}' is not allowed ({self.after(node.values[0], word)}); "
                            "use & for and, | for or, ~ for not")
        if _is_underscore(node):
            raise self.fail(f"'_' alone is not allowed ({self.at(node)}); "
                            "a column is written _.name")
        if isinstance(node, ast.Name):
            raise self.fail(f"name '{node.id}' is not allowed ({self.at(node)}); "
                            f"a column is written _.{node.id}")
        if isinstance(node, ast.List | ast.Tuple):
            raise self.fail("a list is only allowed as the argument of isin() or notin() "
                            f"({self.at(node)})")
        description = _DESCRIPTIONS.get(type(node), type(node).__name__)
        raise self.fail(f"{description} is not allowed ({self.at(node)})")

    def scalar(self, node: ast.expr) -> Any:
        """The literal's value (``-`` folded into numbers), or ``_NOT_LITERAL``."""
        if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
                and isinstance(node.operand, ast.Constant)
                and type(node.operand.value) in (int, float)):
            value = -node.operand.value
        elif isinstance(node, ast.Constant):
            value = node.value
        else:
            return _NOT_LITERAL
        if (type(value) not in (str, int, float, bool, type(None))
                or (type(value) is int and not -(2**63) <= value < 2**63)):
            raise self.fail(f"literal {self.segment(node)} is not allowed ({self.at(node)}); "
                            "literals are strings, 64-bit numbers, True, False and None")
        return value

    def check_name(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            raise self.fail(f"'{node.attr}' is not allowed ({self.name_at(node)}); "
                            "names starting with _ are never allowed")

    def method_not_allowed(self, node: ast.Attribute) -> ExpressionError:
        return self.fail(f"method '{node.attr}' is not allowed ({self.name_at(node)}); "
                         f"allowed: {', '.join(sorted(_METHODS))}")

    def receiver(self, node: ast.expr, depth: int) -> _Node:
        if self.scalar(node) is not _NOT_LITERAL:
            raise self.fail(f"a literal has no methods ({self.at(node)})")
        return self.expression(node, depth)

    def attribute(self, node: ast.Attribute, depth: int) -> _Node:
        """``_.name``, or a method named without being called."""
        if _is_underscore(node.value):
            self.check_name(node)
            return _Node("column", node.attr, at=self.at(node))
        self.receiver(node.value, depth)
        self.check_name(node)
        if node.attr in _METHODS:
            raise self.fail(f"method '{node.attr}' must be called ({self.name_at(node)}); "
                            f"write {_METHODS[node.attr].usage}")
        raise self.method_not_allowed(node)

    def call(self, node: ast.Call, depth: int) -> _Node:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "in_value_set":
            return self.in_value_set(node, depth)
        if not isinstance(func, ast.Attribute):
            raise self.fail(f"calling '{self.segment(func)}' is not allowed ({self.at(func)}); "
                            + _FUNCTION_HINT)
        if _is_underscore(func.value):
            self.check_name(func)
            raise self.fail(f"'_.{func.attr}' is a column and cannot be called ({self.at(func)});"
                            f" call a method on it, e.g. _.{func.attr}.notnull()")
        receiver = self.receiver(func.value, depth)
        self.check_name(func)
        if (method := _METHODS.get(func.attr)) is None:
            raise self.method_not_allowed(func)
        wrong = f"wrong arguments for {func.attr}() ({{}}); write {method.usage}"
        given = list(node.args)
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg != method.keyword:
                label = "'**'" if keyword.arg is None else f"'{keyword.arg}'"
                raise self.fail(f"keyword argument {label} is not allowed in {func.attr}() "
                                f"({self.at(keyword)}); allowed: {method.keyword or 'none'}")
            given.append(keyword.value)
        kinds = method.kinds
        required = len(method.kinds) if method.required is None else method.required
        if not required <= len(given) <= len(kinds):
            raise self.fail(wrong.format(self.name_at(func)))
        args = tuple(self.argument(arg, kind, func.attr, wrong, depth)
                     for arg, kind in zip(given, kinds, strict=False))
        return _Node("method", func.attr, (receiver, *args), at=self.name_at(func))

    def argument(self, node: ast.expr, kind: str, method: str, wrong: str, depth: int) -> _Node:
        if kind == "value":
            return self.expression(node, depth)
        if kind == "list" and isinstance(node, ast.List | ast.Tuple):
            values = tuple(self.scalar(element) for element in node.elts)
            if _NOT_LITERAL in values:
                raise self.fail(wrong.format(self.at(node)))
            if None in values:
                raise self.fail(f"comparing with None is not allowed ({self.at(node)}); "
                                + _KEYWORD_HINTS["is"])
            return _Node("literal", value=values)
        value = self.scalar(node)
        fits = {"literal": value is not _NOT_LITERAL, "int": type(value) is int,
                "list": False}.get(kind, isinstance(value, str))
        if not fits:
            raise self.fail(wrong.format(self.at(node)))
        choices = {"type": CAST_TYPES, "unit": UNITS}.get(kind)
        if choices and value not in choices:
            raise self.fail(f"'{value}' is not allowed in {method}() ({self.at(node)}); "
                            f"allowed: {', '.join(choices)}")
        return _Node("literal", value=value)

    def in_value_set(self, node: ast.Call, depth: int) -> _Node:
        wrong = f"wrong arguments for in_value_set() ({{}}); write {_VALUE_SET_USAGE}"
        if node.keywords or len(node.args) != 2:
            raise self.fail(wrong.format(self.at(node)))
        value = self.expression(node.args[0], depth)
        ident = self.scalar(node.args[1])
        if not isinstance(ident, str):
            raise self.fail(wrong.format(self.at(node.args[1])))
        if not re.fullmatch(_VALUE_SET_ID, ident):
            raise self.fail(f"'{ident}' is not a valid value-set id ({self.at(node.args[1])}); "
                            "write 'name' or 'name@version'")
        return _Node("value_set", ident, (value,), at=self.at(node))

    def operation(self, node: ast.BinOp | ast.UnaryOp, depth: int) -> _Node:
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                raise self.fail(f"'not' is not allowed ({self.at(node)}); "
                                "use & for and, | for or, ~ for not")
            symbol = {ast.USub: "-", ast.Invert: "~", ast.UAdd: "+"}[type(node.op)]
            operands: tuple[ast.expr, ...] = (node.operand,)
            where, allowed = self.at(node), symbol in ("-", "~")
        else:
            symbol, operands = _BINARY[type(node.op)], (node.left, node.right)
            where, allowed = self.after(node.left, symbol), symbol in _OPERATORS
        if not allowed:
            raise self.fail(f"operator '{symbol}' is not allowed ({where}); "
                            f"allowed: {_ALLOWED_OPERATORS}")
        args = tuple(self.expression(operand, depth) for operand in operands)
        return _Node("operator", symbol, args, at=where)

    def compare(self, node: ast.Compare, depth: int) -> _Node:
        operands = [node.left, *node.comparators]
        symbols = [_COMPARE[type(op)] for op in node.ops]
        for left, symbol in zip(operands, symbols, strict=False):
            if symbol in ("is", "is not", "in", "not in"):
                hint = _KEYWORD_HINTS["is" if "is" in symbol.split() else "in"]
                raise self.fail(f"'{symbol}' is not allowed "
                                f"({self.after(left, symbol.split()[0])}); {hint}")
        if len(symbols) > 1:
            pieces = [f"({self.segment(a)} {s} {self.segment(b)})"
                      for a, s, b in zip(operands, symbols, operands[1:], strict=False)]
            raise self.fail(f"chained comparison is not allowed "
                            f"({self.after(operands[1], symbols[1])}); write {' & '.join(pieces)}")
        where = self.after(node.left, symbols[0])
        if any(isinstance(side, ast.Constant) and side.value is None for side in operands):
            raise self.fail(f"comparing with None is not allowed ({where}); "
                            + _KEYWORD_HINTS["is"])
        args = tuple(self.expression(operand, depth) for operand in operands)
        return _Node("operator", symbols[0], args, at=where)


def _type_name(value: Any) -> str:
    try:
        return str(value.type() if isinstance(value, ir.Value) else ibis.literal(value).type())
    except _IBIS_ERRORS:
        return type(value).__name__


def _build(node: _Node, table: ir.Table, value_sets: Mapping[str, ValueSetLike],
           text: str) -> Any:
    """The Ibis expression of ``node``; a literal stays a Python value (Ibis types it in place)."""
    if node.kind == "literal":
        return list(node.value) if isinstance(node.value, tuple) else node.value
    if node.kind == "column":
        if node.name not in table.columns:
            raise _error(text, f"unknown column '{node.name}'{suggest(node.name, table.columns)}")
        return table[node.name]
    args = [_build(arg, table, value_sets, text) for arg in node.args]
    if not any(isinstance(arg, ir.Value) for arg in args):
        args[0] = ibis.literal(args[0])  # never compute on two Python values
    types = [_type_name(arg) for arg in args]
    if node.kind == "value_set":
        if not args[0].type().is_string():
            raise _error(text, f"in_value_set() cannot be applied to {types[0]} ({node.at})")
        if node.name not in value_sets:
            raise _error(text, f"unknown value set '{node.name}'{suggest(node.name, value_sets)}")
        return value_sets[node.name].predicate(args[0])
    if node.kind == "operator":
        what = f"operator '{node.name}' cannot be applied to {' and '.join(types)}"
        if node.name in ("&", "|", "~") and any(t.lstrip("!") != "boolean" for t in types):
            raise _error(text, f"{what} ({node.at})")
    else:
        what = f"method '{node.name}' cannot be applied to {types[0]}"
        what += f" with arguments ({', '.join(types[1:])})" if len(args) > 1 else ""
    try:
        return _apply(node, args)
    except _IBIS_ERRORS:
        raise _error(text, f"{what} ({node.at})") from None


def _apply(node: _Node, args: list[Any]) -> Any:
    """Apply an operator or an allowed method of Ibis to built arguments."""
    if node.kind == "operator" and len(args) == 2:
        return _OPERATORS[node.name](*args)
    if node.kind == "operator":
        return operator.neg(args[0]) if node.name == "-" else operator.invert(args[0])
    receiver, *rest = args
    if node.name in ("isin", "notin"):
        for option in rest[0]:
            operator.eq(receiver, option)  # raises if the types cannot be compared
    if node.name == "delta":
        return receiver.delta(rest[0], unit=rest[1])
    return getattr(receiver, node.name)(*rest)
