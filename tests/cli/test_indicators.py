"""``hospital-sdk indicators``: validate, list, show, explain, compute / cases / diff on a small
lakehouse with hand-computed answers, the spec JSON Schemas and the committed data dictionary."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from hospital_sdk.cli.indicators import schema_files
from hospital_sdk.cli.main import app
from hospital_sdk.indicators import FACTS, fact_memtable, load_catalog, validate_catalog
from hospital_sdk.indicators.lineage import data_dictionary
from hospital_sdk.store import Lakehouse

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["indicators", *args])


def _stay(iid: str, sid: str, dept: str, when: str = "2024-03-10", **flags) -> dict:
    return {"institution_id": iid, "stay_id": sid, "discharge_dept_id": dept,
            "admission_time": "2024-03-01", "discharge_time": when, "los_days": 3,
            "has_surgery": False, "has_elective_surgery": False,
            "has_complication_not_poa": False, "is_newborn": False, **flags}


STAYS = [
    # H01: 4 stays in March, 2 with surgery (one elective with a complication); 1 in April
    _stay("H01", "S1", "D0101", has_surgery=True, has_elective_surgery=True,
          has_complication_not_poa=True, los_days=5),
    _stay("H01", "S2", "D0101", los_days=2),
    _stay("H01", "S3", "D0102", has_surgery=True, los_days=9),
    _stay("H01", "S4", "D0102", los_days=4),
    _stay("H01", "S9", "D0101", when="2024-04-02", has_surgery=True),
    # H02: one stay in March, with surgery
    _stay("H02", "S5", "D0201", has_surgery=True, los_days=6),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A lakehouse holding every fact of the aggregated layer (all but stays empty)."""
    path = tmp_path_factory.mktemp("lake")
    with Lakehouse.open(path) as lake:
        for name in FACTS:
            rows = STAYS if name == "stay_fact" else []
            lake.replace(name, fact_memtable(name, rows).to_pyarrow(), "aggregated")
    return path


@pytest.fixture
def broken(tmp_path) -> Path:
    (tmp_path / "measures").mkdir()
    (tmp_path / "indicators").mkdir()
    (tmp_path / "measures" / "stay_fact.yaml").write_text(yaml.safe_dump({
        "fact": "stay_fact", "measures": {"discharges": {
            "name_zh": "出院人次", "name_en": "Discharges", "agregation": "count", "unit": "人次",
            "counting_unit": "admission", "additive": True}}}, allow_unicode=True),
        encoding="utf-8")
    (tmp_path / "indicators" / "surgery_share.yaml").write_text(yaml.safe_dump({
        "id": "surgery_share", "name_zh": "出院患者手术占比", "name_en": "Surgical share",
        "tags": {"subject": "医院", "matter": "功能定位", "purpose": "test",
                 "responsible_department": "医务处", "domain": "surgery",
                 "source": {"document": "test", "confidence": "chosen"},
                 "direction": "higher_better", "unit": "%", "national_monitoring": True,
                 "owner": "质控办"},
        "versions": [{"version": "1", "kind": "proportion", "population": {
            "counting_unit": "admission", "denominator": {"measure": "discharge"},
            "numerator": {"where": "_.has_surgery and _.is_death"}}}]}, allow_unicode=True),
        encoding="utf-8")
    return tmp_path


BROKEN_LINES = (
    ("measures/stay_fact.yaml: discharges: measures.discharges.agregation: unknown key "
     "(did you mean 'aggregation'?)"),
    ("indicators/surgery_share.yaml: surgery_share: versions[0].population.numerator.where: "
     "expression \"_.has_surgery and _.is_death\": 'and' is not allowed (at column 14); use & "
     "for and, | for or, ~ for not"),
    ("indicators/surgery_share.yaml: surgery_share: "
     "versions[0].population.denominator.measure: unknown measure 'discharge'"),
)
"""Problems of the ``broken`` catalog, as ``validate`` prints them."""


# ---- validate, list, show, explain --------------------------------------------------------------

def test_validate_the_shipped_catalog():
    result = run("validate")
    assert result.exit_code == 0, result.output
    catalog = load_catalog()
    assert result.output.strip() == (f"{len(catalog.indicators)} indicators, "
                                     f"{len(catalog.measures)} measures, "
                                     f"{len(catalog.value_sets)} value sets: valid")


def test_validate_a_broken_catalog_prints_every_problem(broken):
    result = run("validate", "--catalog", str(broken))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    for expected in BROKEN_LINES:
        assert expected in lines
    problems = validate_catalog(broken)
    assert [str(p) for p in problems] == lines[:len(problems)]
    assert f"{len(problems)} problem(s) in the indicator catalog" in result.output


def test_a_broken_catalog_stops_other_commands_with_exit_1(broken):
    result = run("list", "--catalog", str(broken))
    assert result.exit_code == 1
    assert "unknown key (did you mean 'aggregation'?)" in result.output


def test_a_missing_catalog_folder_is_a_bad_request(tmp_path):
    result = run("validate", "--catalog", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "is not a folder" in result.output


def test_list_filters():
    result = run("list")
    assert result.exit_code == 0, result.output
    assert "surgery_share" in result.output and "average_length_of_stay" in result.output
    surgery = run("list", "--domain", "surgery", "--national-monitoring")
    assert "surgery_share" in surgery.output and "average_length_of_stay" not in surgery.output
    reported = run("list", "--kind", "reported")
    assert "surgery_share" not in reported.output and "reported" in reported.output
    typo = run("list", "--domain", "surgry")
    assert typo.exit_code == 2 and "did you mean 'surgery'?" in typo.output


def test_show_every_field():
    result = run("show", "surgical_complication_rate@2")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("surgical_complication_rate@2  手术患者并发症发生率 / ")
    for text in ("kind: proportion; unit: %; direction: lower_better", "versions:",
                 "  * 2 (2022–…): ", "counting unit: admission",
                 "denominator: discharges = count(*) over stay_fact",
                 "    where _.has_elective_surgery", "    where _.has_complication_not_poa",
                 "excluding newborn (新生儿 / Newborn): _.is_newborn",
                 "formula: value = numerator / denominator * 100",
                 "national monitoring ▲: yes", "source: 国家三级公立医院绩效考核操作手册",
                 "(confidence: ", "reads (lineage):",
                 "  cleaned.stay_procedure: procedure_code, surgery_type"):
        assert text in out, text
    unknown = run("show", "surgery_shar")
    assert unknown.exit_code == 2 and "did you mean 'surgery_share'?" in unknown.output


def test_explain_prints_the_sql():
    result = run("explain", "surgery_share", "--period", "2024-Q1", "--by",
                 "institution,department", "--dialect", "postgres")
    assert result.exit_code == 0, result.output
    assert "GROUP BY" in result.output and "surgery_share@1" in result.output
    assert "discharge_dept_id" in result.output
    bad = run("explain", "surgery_share", "--by", "departmnet")
    assert bad.exit_code == 2 and "did you mean 'department'?" in bad.output


# ---- compute, cases, diff on a lakehouse --------------------------------------------------------

def test_compute_writes_hand_computed_values(home, tmp_path):
    out = tmp_path / "result.csv"
    result = run("compute", "surgery_share", "average_length_of_stay", "--period", "2024-03",
                 "--by", "institution", "--home", str(home), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "4 rows, 2 indicators, 0 not computable" in result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the 中文
    frame = pd.read_csv(out, encoding="utf-8-sig")
    got = {(r.indicator_id, r.institution): (r.numerator, r.denominator, r.value)
           for r in frame.itertuples()}
    assert got == {
        ("surgery_share", "H01"): (2, 4, 50.0),            # S1, S3 of S1..S4 (S9 is April)
        ("surgery_share", "H02"): (1, 1, 100.0),
        ("average_length_of_stay", "H01"): (20, 4, 5.0),   # (5 + 2 + 9 + 4) / 4
        ("average_length_of_stay", "H02"): (6, 1, 6.0),
    }
    assert frame.loc[0, "name_zh"] in ("平均住院日", "出院患者手术占比")


def test_compute_every_indicator_by_default(home, tmp_path):
    out = tmp_path / "all.parquet"
    result = run("compute", "--period", "2024-03", "--home", str(home), "--out", str(out))
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    latest = load_catalog().latest()
    assert f"{len(latest)} indicators" in result.output
    assert set(frame.indicator_id) == {i.id for i in latest}
    failed = int((frame.status == "not_computable").sum())
    assert f"{failed:,} not computable" in result.output and failed > 0  # e.g. no visits


def test_compute_prints_a_table_without_out(home):
    result = run("compute", "surgery_share", "--period", "2024-03", "--by", "department",
                 "--home", str(home))
    assert result.exit_code == 0, result.output
    assert "D0102" in result.output and "50" in result.output


def test_compute_bad_requests(home, tmp_path):
    assert run("compute", "--period", "2024-03", "--home", str(home), "--out",
               str(tmp_path / "x.json")).exit_code == 2
    bad = run("compute", "surgery_share", "--period", "2024-13", "--home", str(home))
    assert bad.exit_code == 2 and "is not a year" in bad.output


def test_cases_lists_the_records(home, tmp_path):
    out = tmp_path / "cases.csv"
    result = run("cases", "surgery_share", "--period", "2024-03", "--where", "institution=H01",
                 "--home", str(home), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "4 records, 4 counted" in result.output
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert frame.stay_id.tolist() == ["S1", "S2", "S3", "S4"]
    assert frame.in_numerator.tolist() == [True, False, True, False]
    assert frame.in_denominator.all()
    assert frame.reason[1] == "in denominator only: not _.has_surgery"
    printed = run("cases", "surgery_share", "--period", "2024-03", "--where",
                  "department=D0102", "--limit", "1", "--home", str(home))
    assert printed.exit_code == 0, printed.output
    assert "S3" in printed.output and "S4" not in printed.output
    bad = run("cases", "surgery_share", "--period", "2024-03", "--where", "hospital=H01",
              "--home", str(home))
    assert bad.exit_code == 2 and "DIMENSION=VALUE" in bad.output


def test_diff_compares_versions(home, tmp_path):
    out = tmp_path / "diff.csv"
    result = run("diff", "surgical_complication_rate", "--period", "2024-03", "--by",
                 "institution", "--home", str(home), "--out", str(out))
    assert result.exit_code == 0, result.output
    row = pd.read_csv(out, encoding="utf-8-sig").set_index("institution").loc["H01"]
    # v1: complications among surgical stays (S1 of S1, S3); v2: among elective ones (S1)
    assert (row["value@1"], row["value@2"], row["difference"]) == (50.0, 100.0, 50.0)
    one = run("diff", "surgery_share", "--period", "2024-03", "--home", str(home))
    assert one.exit_code == 2 and "one version" in one.output


# ---- schemas and the data dictionary ------------------------------------------------------------

def _as_json(spec: Path) -> object:
    """A spec file as an editor's YAML language server sees it: dates are strings."""
    return json.loads(json.dumps(yaml.safe_load(spec.read_text(encoding="utf-8")), default=str))


def test_schema_writes_valid_json_schemas_that_accept_the_real_specs(tmp_path):
    result = run("schema", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    catalog = REPO / "national_assessments"
    specs = {"indicator": catalog / "indicators" / "surgery_share.yaml",
             "measures": catalog / "measures" / "stay_fact.yaml",
             "value_set": next((catalog / "value_sets").glob("*.yaml"))}
    for kind, spec in specs.items():
        schema = json.loads((tmp_path / f"{kind}.schema.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        doc = _as_json(spec)
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc)) == [], spec
    bad = {**_as_json(specs["indicator"]), "kind": "x"}
    indicator = json.loads((tmp_path / "indicator.schema.json").read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(indicator).iter_errors(bad))


def test_committed_schemas_are_current():
    """hospital_sdk/indicators/schemas/ holds the spec files' JSON Schemas for editors;
    regenerate with ``hospital-sdk indicators schema --out hospital_sdk/indicators/schemas``."""
    folder = REPO / "hospital_sdk" / "indicators" / "schemas"
    expected = schema_files()
    assert sorted(p.name for p in folder.glob("*.json")) == sorted(expected)
    for name, text in expected.items():
        assert (folder / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run hospital-sdk indicators schema --out "
            f"hospital_sdk/indicators/schemas")


def test_contract_markdown_is_the_data_dictionary(tmp_path):
    out = tmp_path / "dictionary.md"
    result = runner.invoke(app, ["contract", "--format", "markdown", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text == data_dictionary()
    assert "## inpatient_stay" in text and "## Indicators reading each column" in text


def test_cases_of_a_reported_indicator_lists_its_submissions(tmp_path):
    from hospital_sdk.indicators.reported import ReportedIndicator, ReportedRule
    from hospital_sdk.indicators.submissions import read_entries, store_entries

    form = tmp_path / "reported_2024.csv"
    form.write_text("institution_id,period,indicator_id,version,value\n"
                    "H01,2024,emr_level,1,5\nH02,2024,emr_level,1,\n", encoding="utf-8")
    emr = ReportedIndicator("emr_level", "1", "电子病历", "EMR level",
                            ReportedRule("level", "level", minimum=0, maximum=8))
    with Lakehouse.open(tmp_path / "lake") as lake:
        store_entries(lake, read_entries(form, {"emr_level": emr}))
    result = run("cases", "emr_level", "--period", "2024", "--home", str(tmp_path / "lake"))
    assert result.exit_code == 0, result.output
    assert "1 records, 1 in use" in result.output  # H02 left it blank: nothing stored
