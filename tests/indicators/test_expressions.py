"""Expression strings: every rule of the allow-list with its exact message, hostile inputs, and
values computed on DuckDB compared with lists worked out by hand."""

from __future__ import annotations

import inspect
from datetime import datetime as dt

import ibis
import ibis.expr.types as ir
import pytest

from hospital_sdk.aggregated.value_sets import surgical_complications
from hospital_sdk.errors import ExpressionError, SpecError
from hospital_sdk.indicators import expressions
from hospital_sdk.indicators.expressions import Expression, parse_expression

# Four stays; the comment under each column says what its values are there to prove.
ROWS = {
    "row": [1, 2, 3, 4],
    "age_years": [17, 18, 70, None],            # 18 is the boundary; None propagates
    "age_days": [6300, 3, 25600, None],
    "visit_type": ["outpatient", "emergency", "health_check", None],
    "has_surgery": [True, True, False, None],
    "is_newborn": [False, True, False, False],
    "principal_diagnosis_code": ["O80.000", "P07.300", "T81.400", "I65.x00"],
    "wait_minutes": [10, -5, None, 0],          # a negative wait is a data error
    "los_days": [3, 0, 12, None],
    "total_cost": [100.0, 250.5, None, 80.0],
    "drug_cost": [40.0, 50.5, 10.0, None],
    "discharge_disposition": ["1", "5", "5", None],
    "admitted_at": [dt(2024, 3, 1, 8), dt(2024, 3, 2, 23), dt(2023, 12, 31, 10), None],
    "discharged_at": [dt(2024, 3, 4, 8), dt(2024, 3, 3, 1), dt(2024, 1, 12, 9, 30), None],
}


class Prefixes:
    """A value set of code prefixes: anything with a ``predicate`` will do."""

    def __init__(self, *prefixes: str) -> None:
        self.prefixes = prefixes

    def predicate(self, codes: ir.StringValue) -> ir.BooleanValue:
        test = ibis.literal(False)
        for prefix in self.prefixes:
            test = test | codes.startswith(prefix)
        return test


VALUE_SETS = {"surgical_complications": surgical_complications(),
              "obstetric_perinatal@2019": Prefixes("O", "P")}


@pytest.fixture(scope="module")
def stays() -> ir.Table:
    return ibis.memtable(ROWS)


def values(table: ir.Table, text: str) -> list[object]:
    """The expression's value on each row, executed by DuckDB, in row order."""
    value = parse_expression(text).resolve(table, VALUE_SETS)
    result = table.select("row", value=value).order_by("row").to_pyarrow()
    return result.column("value").to_pylist()


# ---------------------------------------------------------------------------------------------
# every rule has a failing example with its exact message
# ---------------------------------------------------------------------------------------------

OPERATORS = "allowed: == != < <= > >= & | ~ + - * /"
METHODS = ("allowed: abs, between, cast, coalesce, date, day, delta, endswith, fill_null, hour, "
           "ifelse, isin, isnull, length, lower, month, notin, notnull, round, startswith, "
           "substr, upper, year")
LITERALS = "literals are strings, 64-bit numbers, True, False and None"
FUNCTION = "the only function is in_value_set(value, 'value-set id')"
BOOLEAN = "use & for and, | for or, ~ for not"

PARSE_RULES = [
    # the text as a whole
    ("", "empty; write a value or a condition, e.g. _.age_years >= 18"),
    ("_.los_days >", "not a valid expression: invalid syntax (at column 12)"),
    ("_.x.isin(['a')", ("not a valid expression: closing parenthesis ')' does not match opening "
                       "parenthesis '[' (at column 13)")),
    ("~" * 51 + "_.flag", "nested deeper than 50 levels (at column 50)"),
    # Python's boolean keywords
    ("_.a and _.b", f"'and' is not allowed (at column 4); {BOOLEAN}"),
    ("(_.a) or _.b", f"'or' is not allowed (at column 6); {BOOLEAN}"),
    ("not _.a", f"'not' is not allowed (at column 0); {BOOLEAN}"),
    # comparisons
    ("_.a is None", "'is' is not allowed (at column 4); use .isnull() or .notnull()"),
    ("_.a is not None", "'is not' is not allowed (at column 4); use .isnull() or .notnull()"),
    ("_.a in ['x']", "'in' is not allowed (at column 4); use .isin([...]) or .notin([...])"),
    ("_.a not in ['x']",
     "'not in' is not allowed (at column 4); use .isin([...]) or .notin([...])"),
    ("0 < _.x <= 5", ("chained comparison is not allowed (at column 8); "
                     "write (0 < _.x) & (_.x <= 5)")),
    ("_.x == None", ("comparing with None is not allowed (at column 4); "
                    "use .isnull() or .notnull()")),
    ("_.x.notin(['a', None])", ("comparing with None is not allowed (at column 10); "
                               "use .isnull() or .notnull()")),
    # operators
    ("_.x ** 2", f"operator '**' is not allowed (at column 4); {OPERATORS}"),
    ("_.x % 7", f"operator '%' is not allowed (at column 4); {OPERATORS}"),
    ("+_.x", f"operator '+' is not allowed (at column 0); {OPERATORS}"),
    # names and attributes
    ("los_days > 3",
     "name 'los_days' is not allowed (at column 0); a column is written _.los_days"),
    ("_ == 1", "'_' alone is not allowed (at column 0); a column is written _.name"),
    ("_._private", ("'_private' is not allowed (at column 2); names starting with _ are never "
                   "allowed")),
    ("_.x.__class__", ("'__class__' is not allowed (at column 4); names starting with _ are never "
                      "allowed")),
    ("_.x.year", "method 'year' must be called (at column 4); write year()"),
    ("_.x.frobnicate()", f"method 'frobnicate' is not allowed (at column 4); {METHODS}"),
    ("_.x.values", f"method 'values' is not allowed (at column 4); {METHODS}"),
    ("'a'.join(_.x)", "a literal has no methods (at column 0)"),
    ("_.los_days()", ("'_.los_days' is a column and cannot be called (at column 0); call a "
                     "method on it, e.g. _.los_days.notnull()")),
    # functions
    ("eval('1')", f"calling 'eval' is not allowed (at column 0); {FUNCTION}"),
    ("in_value_set(_.code)", ("wrong arguments for in_value_set() (at column 0); "
                             "write in_value_set(value, 'value-set id')")),
    ("in_value_set(_.code, _.other)", ("wrong arguments for in_value_set() (at column 21); "
                                      "write in_value_set(value, 'value-set id')")),
    ("in_value_set(_.code, 'two words')", ("'two words' is not a valid value-set id "
                                          "(at column 21); write 'name' or 'name@version'")),
    # method arguments
    ("_.x.between(1)", "wrong arguments for between() (at column 4); write between(low, high)"),
    ("_.x.isin('a')", "wrong arguments for isin() (at column 9); write isin([literal, ...])"),
    ("_.x.isin([_.y])", "wrong arguments for isin() (at column 9); write isin([literal, ...])"),
    ("_.x.startswith(1)",
     "wrong arguments for startswith() (at column 15); write startswith('text')"),
    ("_.x.fill_null(_.y)",
     "wrong arguments for fill_null() (at column 14); write fill_null(literal)"),
    ("_.x.round(2.5)", "wrong arguments for round() (at column 10); write round(digits)"),
    ("_.x.round(digits=2)", ("keyword argument 'digits' is not allowed in round() (at column 10); "
                            "allowed: none")),
    ("_.a.delta(_.b, units='day')", ("keyword argument 'units' is not allowed in delta() "
                                    "(at column 15); allowed: unit")),
    ("_.a.delta(_.b, unit='week')",
     "'week' is not allowed in delta() (at column 20); allowed: day, hour, minute"),
    ("_.x.cast('object')", ("'object' is not allowed in cast() (at column 9); allowed: boolean, "
                           "date, decimal(18,2), float64, int32, int64, string, timestamp")),
    # literals and other constructs
    ("_.x == b'5'", f"literal b'5' is not allowed (at column 7); {LITERALS}"),
    ("_.x < 99999999999999999999", ("literal 99999999999999999999 is not allowed (at column 6); "
                                   f"{LITERALS}")),
    ("_.x == ['5']", "a list is only allowed as the argument of isin() or notin() (at column 7)"),
    ("(lambda: 1)()", f"calling 'lambda: 1' is not allowed (at column 1); {FUNCTION}"),
    ("_['los_days']", "subscript [...] is not allowed (at column 0)"),
    ("[c for c in _.x]", "a comprehension is not allowed (at column 0)"),
    ("f'{_.x}' == 'a'", "an f-string is not allowed (at column 0)"),
    ("(y := _.x) > 1", "':=' is not allowed (at column 1)"),
    ("_.x.coalesce(*_.y)", "'*' is not allowed (at column 13)"),
    ("{'a': _.x}", "a dict is not allowed (at column 0)"),
    ("_.a if _.b else _.c", "'... if ... else ...' is not allowed (at column 0)"),
]


@pytest.mark.parametrize(("text", "problem"), PARSE_RULES)
def test_each_parse_rule_fails_with_its_exact_message(text: str, problem: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert str(info.value) == f'expression "{text}": {problem}'


SCHEMA = ibis.schema({"los_days": "int64", "visit_type": "string", "has_surgery": "boolean",
                     "code": "string", "admitted_at": "timestamp"})

RESOLVE_RULES = [
    ("_.los_dyas > 3", "unknown column 'los_dyas' (did you mean 'los_days'?)"),
    ("_.ward > 3", "unknown column 'ward'"),
    ("in_value_set(_.code, 'surgical_complication')",
     "unknown value set 'surgical_complication' (did you mean 'surgical_complications'?)"),
    ("_.visit_type > 3", "operator '>' cannot be applied to string and int8 (at column 13)"),
    ("_.visit_type == _.los_days", ("operator '==' cannot be applied to string and int64 "
                                   "(at column 13)")),
    ("_.los_days & _.has_surgery", ("operator '&' cannot be applied to int64 and boolean "
                                   "(at column 11)")),
    ("~_.los_days", "operator '~' cannot be applied to int64 (at column 0)"),
    ("-_.code", "operator '-' cannot be applied to string (at column 0)"),
    ("_.code.year()", "method 'year' cannot be applied to string (at column 7)"),
    ("_.los_days.startswith('1')", ("method 'startswith' cannot be applied to int64 with "
                                   "arguments (string) (at column 11)")),
    ("_.los_days.between('a', 5)", ("method 'between' cannot be applied to int64 with "
                                   "arguments (string, int8) (at column 11)")),
    ("_.visit_type.isin([1, 2])", ("method 'isin' cannot be applied to string with arguments "
                                  "(array<int8>) (at column 13)")),
    ("_.los_days.ifelse(1, 0)", ("method 'ifelse' cannot be applied to int64 with arguments "
                                "(int8, int8) (at column 11)")),
    ("in_value_set(_.los_days, 'surgical_complications')",
     "in_value_set() cannot be applied to int64 (at column 0)"),
]


@pytest.mark.parametrize(("text", "problem"), RESOLVE_RULES)
def test_each_resolve_rule_fails_with_its_exact_message(text: str, problem: str) -> None:
    expression = parse_expression(text)  # the text itself is fine; the table does not fit it
    with pytest.raises(ExpressionError) as info:
        expression.check(SCHEMA, VALUE_SETS)
    assert str(info.value) == f'expression "{text}": {problem}'


def test_check_can_require_a_boolean_condition() -> None:
    parse_expression("_.los_days * 1.0").check(SCHEMA)  # fine as a derived column
    parse_expression("_.has_surgery & (_.los_days > 1)").check(SCHEMA, boolean=True)
    with pytest.raises(ExpressionError) as info:
        parse_expression("_.los_days * 1.0").check(SCHEMA, boolean=True)
    assert str(info.value) == ('expression "_.los_days * 1.0": must be a boolean condition, '
                               "got float64")


def test_an_unknown_value_set_fails_when_none_are_given() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression("in_value_set(_.code, 'surgical_complications')").check(SCHEMA)
    assert str(info.value) == ("expression \"in_value_set(_.code, 'surgical_complications')\": "
                               "unknown value set 'surgical_complications'")


def test_a_non_string_and_a_too_long_text_fail() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(5)  # type: ignore[arg-type]
    assert str(info.value) == "expression 5: must be a string, got int"
    text = "_.a & " * 400 + "_.a"
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert str(info.value) == (f'expression "{text[:200]}...": too long: 2403 characters, '
                               "at most 2000")


@pytest.mark.parametrize(("text", "place"), [
    ("(_.a &\n _.b ** 2)", "at line 2, column 5"),     # a second line has its own columns
    ("'é' ** 2", "at column 4"),                       # characters, not UTF-8 bytes
    ("  _.a ** 2", "at column 6"),                     # leading blanks are skipped, but counted
])
def test_positions_are_characters_of_the_original_text(text: str, place: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    problem = f"operator '**' is not allowed ({place}); {OPERATORS}"
    assert str(info.value) == f'expression "{text}": {problem}'


def test_expression_errors_are_spec_errors() -> None:
    assert issubclass(ExpressionError, SpecError)


# ---------------------------------------------------------------------------------------------
# hostile inputs are refused before anything runs
# ---------------------------------------------------------------------------------------------

HOSTILE = [
    "__import__('os').system('touch {marker}')",
    "open('{marker}', 'w')",
    "_.__class__.__mro__",
    "_.x.__globals__",
    "_.x.__getattribute__('y')",
    "_.x.isin.__self__",
    "(lambda: open('{marker}', 'w'))()",
    "[c for c in _]",
    "getattr(_, '__class__')",
    "_.x.cast('int64').__class__.__subclasses__()",
    "in_value_set(__import__('os'), 'x')",
    "_.x.isin([__import__('os')])",
    "_.x.fill_null(open('{marker}', 'w'))",
    "_.x.delta(_.y, unit=__import__('os').system('touch {marker}'))",
    "''.join",
    "(1).__class__",
    "_.x + ...",
    "1 if open('{marker}', 'w') else 0",
    "_.x[0]",
    "*_.x",
    "breakpoint()",
    "_.x\x00",
    "(" * 300 + ")" * 300,
    "-" * 1999 + "1",
    "_.x " + "+ _.x " * 400,
]


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_inputs_fail_and_run_nothing(template: str, tmp_path: object) -> None:
    marker = f"{tmp_path}/ran"
    with pytest.raises(ExpressionError):
        parse_expression(template.format(marker=marker) if "{marker}" in template else template)
    assert not (tmp_path / "ran").exists()  # type: ignore[operator]


def test_the_module_never_evaluates_or_compiles_code() -> None:
    source = inspect.getsource(expressions)
    for banned in ("eval(", "exec(", "compile("):
        assert banned not in source


def test_arithmetic_on_literals_is_left_to_the_database(stays: ir.Table) -> None:
    # Python would build a 100-gigabyte string here; Ibis only records the operation.
    value = parse_expression("'a' * 100000000000").resolve(stays)
    assert isinstance(value, ir.StringScalar)


# ---------------------------------------------------------------------------------------------
# what valid expressions compute, on DuckDB
# ---------------------------------------------------------------------------------------------

VALUES = [
    ("_.has_surgery & ~_.is_newborn", [True, False, False, None]),
    ("(_.age_years >= 18) & _.visit_type.isin(['outpatient', 'health_check'])",
     [False, False, True, None]),
    ("in_value_set(_.principal_diagnosis_code, 'obstetric_perinatal@2019')",
     [True, True, False, False]),
    ("in_value_set(_.principal_diagnosis_code, 'surgical_complications')",
     [False, False, True, False]),                  # T81.400 on the list, I65.x00 not
    ("_.wait_minutes.notnull() & (_.wait_minutes >= 0)", [True, False, False, True]),
    ("_.principal_diagnosis_code.startswith('O') | _.principal_diagnosis_code.startswith('P')",
     [True, True, False, False]),
    ("_.los_days * 1.0", [3.0, 0.0, 12.0, None]),
    ("_.total_cost - _.drug_cost", [60.0, 200.0, None, None]),
    ("_.discharge_disposition == '5'", [False, True, True, None]),
    ("_.age_days <= 28", [False, True, False, None]),
    ("-1 < _.wait_minutes", [True, False, None, True]),
    ("_.los_days + 1 > 3", [True, False, True, None]),
    ("-_.wait_minutes", [-10, 5, None, 0]),
    ("_.wait_minutes.abs()", [10, 5, None, 0]),
    ("_.age_years.between(18, 70)", [False, True, True, None]),
    ("_.age_years.isin([-1, 17])", [True, False, False, None]),
    ("_.visit_type.notin(['emergency'])", [True, False, True, None]),
    ("_.visit_type.isnull()", [False, False, False, True]),
    ("_.visit_type.fill_null('unknown')", ["outpatient", "emergency", "health_check", "unknown"]),
    ("_.total_cost.coalesce(_.drug_cost, 0.0)", [100.0, 250.5, 10.0, 80.0]),
    ("_.los_days.cast('float64') / 2", [1.5, 0.0, 6.0, None]),
    ("(_.total_cost / 3).round(1)", [33.3, 83.5, None, 26.7]),
    ("_.principal_diagnosis_code.substr(0, 3)", ["O80", "P07", "T81", "I65"]),
    ("_.visit_type.upper().endswith('CHECK')", [False, False, True, None]),
    ("_.visit_type.length()", [10, 9, 12, None]),
    ("_.admitted_at.year() * 100 + _.admitted_at.month()", [202403, 202403, 202312, None]),
    ("_.discharged_at.delta(_.admitted_at, unit='day')", [3, 1, 12, None]),
    ("_.discharged_at.delta(_.admitted_at, unit='hour')", [72, 2, 287, None]),
    ("(_.los_days > 5).ifelse('long', 'short')", ["short", "short", "long", "short"]),
    ("True", [True, True, True, True]),
]


@pytest.mark.parametrize(("text", "expected"), VALUES)
def test_valid_expressions_compute_the_expected_values(stays: ir.Table, text: str,
                                                       expected: list[object]) -> None:
    assert values(stays, text) == expected


def test_a_null_compared_gives_null_and_a_filter_counts_it_as_false(stays: ir.Table) -> None:
    longer = parse_expression("_.los_days > 1")
    assert values(stays, "_.los_days > 1") == [True, False, True, None]  # no fill_null added
    kept = stays.filter(longer.resolve(stays)).row.to_pyarrow().to_pylist()
    dropped = stays.filter(~longer.resolve(stays)).row.to_pyarrow().to_pylist()
    assert sorted(kept) == [1, 3]
    assert dropped == [2]  # row 4 (null) is in neither: negating does not select the rest
    complement = stays.filter(~longer.resolve(stays).fill_null(False)).row.to_pyarrow()
    assert sorted(complement.to_pylist()) == [2, 4]  # the caller fills nulls where it matters


def test_an_expression_knows_its_columns_and_value_sets() -> None:
    e = parse_expression("in_value_set(_.code, 'obstetric_perinatal@2019') & (_.x.abs() > _.y)"
                         " & _.z.isin(['w'])")
    assert e.columns == frozenset({"code", "x", "y", "z"})
    assert e.value_sets == frozenset({"obstetric_perinatal@2019"})
    assert parse_expression("1 + 2").columns == frozenset()


def test_parsing_is_pure_and_cached() -> None:
    text = "(_.age_days <= 28) & _.is_newborn"
    e = parse_expression(text)
    assert e is parse_expression(text)
    assert str(e) == text
    assert e == Expression(text, e.columns, e.value_sets, e._tree)
    assert hash(e) == hash(parse_expression(text))
    assert "_tree" not in repr(e)
