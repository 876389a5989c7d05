"""The data-quality scorecard: check results of every layer as a workbook and an HTML page.

Input: one row per check result, as the asset graph's application layer collects them from the
asset checks (:data:`QUALITY_COLUMNS`; extra columns are ignored; ``protects`` may be a
comma-separated string or the tuple :func:`hospital_sdk.quality.run_checks` returns).

Output, in ``out_dir``:

``quality_scorecard.xlsx``
    ``summary`` (layer × Kahn category: checks per status, blocking failures, violating,
    quarantined and leaked rows, then a total row), ``failed_or_error`` (those checks first,
    blocking ones on top, with their reasons), ``all_results`` and ``README`` (what each status
    and count means, in Chinese and English);
``quality_scorecard.html``
    the same summary, a Plotly heat map of failed checks by table × partition, the failed and
    error checks, and the explanations, with bilingual headings;
``quality_scorecard_manifest.json``
    the files with their SHA-256, written last.

Examples
--------
>>> import tempfile
>>> import pandas as pd
>>> from hospital_sdk.reports import write_quality_report
>>> results = pd.DataFrame([{
...     "layer": "raw", "asset": "raw/inpatient_stay", "check_id": "stay.los.range",
...     "check_type": "in_range", "table_name": "inpatient_stay", "partition": "2025-01",
...     "status": "failed", "violating_rows": 3, "applicable_rows": 100, "rate": 0.03,
...     "threshold": 0.0, "severity": "blocking", "kahn_category": "plausibility",
...     "protects": "los_mean", "reason": None, "quarantined_rows": 0, "leaked_rows": 3}])
>>> with tempfile.TemporaryDirectory() as tmp:
...     written = write_quality_report(results, tmp)
>>> [p.name for p in written]
['quality_scorecard.xlsx', 'quality_scorecard.html', 'quality_scorecard_manifest.json']
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hospital_sdk.errors import ReportError
from hospital_sdk.quality.declarations import KAHN_CATEGORIES, SEVERITIES
from hospital_sdk.reports.files import write_manifest
from hospital_sdk.reports.html import Figure, Section, Table, write_page
from hospital_sdk.reports.inputs import require_columns, require_values
from hospital_sdk.reports.workbook import Sheet, glossary_sheet, write_workbook

REPORT = "quality_scorecard"
QUALITY_COLUMNS: tuple[str, ...] = (
    "layer", "asset", "check_id", "check_type", "table_name", "partition", "status",
    "violating_rows", "applicable_rows", "rate", "threshold", "severity", "kahn_category",
    "protects", "reason", "quarantined_rows", "leaked_rows",
)
"""The columns of the input, one row per check result (in the order of the ``all_results``
sheet)."""
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "not_applicable")
STATUS_ZH: dict[str, str] = {"passed": "通过", "failed": "失败", "error": "出错",
                             "not_applicable": "不适用"}
LAYERS: tuple[str, ...] = ("raw", "cleaned", "aggregated", "application")
"""Display order of layers; any other layer follows, alphabetically."""
COUNT_COLUMNS: tuple[str, ...] = ("violating_rows", "applicable_rows", "quarantined_rows",
                                  "leaked_rows")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "layer", "kahn_category", "checks", *STATUSES, "blocking_failures", "violating_rows",
    "quarantined_rows", "leaked_rows",
)
ISSUE_COLUMNS: tuple[str, ...] = (
    "status", "severity", "layer", "asset", "table_name", "partition", "check_id", "check_type",
    "kahn_category", "violating_rows", "applicable_rows", "rate", "threshold",
    "quarantined_rows", "leaked_rows", "protects", "reason",
)
WHOLE_TABLE = "全表 / whole table"
"""The heat-map column of checks that have no partition."""
_PARTITION = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_RATE_FORMATS = {"rate": "0.00%", "threshold": "0.00%"}

README_ROWS: tuple[tuple[str, str, str], ...] = (
    ("passed", "通过：违规率不高于阈值（低于阈值的违规行仍计入违规行数）",
     "the violation rate is at most the threshold (violations under the threshold are still "
     "counted in violating_rows)"),
    ("failed", "失败：违规率高于阈值；violating_rows 给出违规行数，而不仅是比例",
     "the violation rate is above the threshold; violating_rows says how many rows, not only "
     "the rate"),
    ("error", "出错：检查本身未能运行（查询报错），reason 为错误信息。"
     "出错不等于失败：数据可能没有问题，需修复检查后重跑",
     "the check itself could not run (its query raised); reason holds the message. An error is "
     "not a failure: the data may be fine, the check must be fixed and run again"),
    ("not_applicable",
     "不适用：检查不适用于该数据，reason 说明原因（如缺表、缺列或没有可检查的行）",
     "the check does not apply; reason says why (e.g. the table or column is missing, or there "
     "is no row to check)"),
    ("violating_rows", "违规行数：违反规则的行数；汇总表中按检查相加（同一行违反两项检查计两次）",
     "rows breaking the rule; in the summary, summed over checks (a row breaking two checks "
     "counts twice)"),
    ("applicable_rows", "适用行数：该检查检查的行数", "rows the check looked at"),
    ("rate", "违规率 = violating_rows ÷ applicable_rows", "violating_rows / applicable_rows"),
    ("threshold", "阈值：允许的最高违规率", "the highest violation rate that still passes"),
    ("severity", "严重程度：blocking 阻断下游计算；warning 仅提示",
     "blocking stops downstream assets; warning only reports"),
    ("blocking_failures", "阻断问题数：severity 为 blocking 且状态为 failed 或 error 的检查数",
     "checks with severity blocking whose status is failed or error"),
    ("quarantined_rows", "隔离行数：在加载关口被拦截的行（记入 raw.load_rejects），未进入数据湖",
     "rows stopped at the load gate (kept in raw.load_rejects); they never reached the lake"),
    ("leaked_rows", "漏过行数：带有该问题、已进入数据湖的行",
     "rows with the problem that reached the lake (passed the load gate)"),
    ("conformance", "一致性（Kahn 框架）：值符合格式、编码集与关联规则",
     "Kahn framework: values follow formats, code sets and relations"),
    ("completeness", "完整性（Kahn 框架）：应有的值存在",
     "Kahn framework: expected values are present"),
    ("plausibility", "合理性（Kahn 框架）：值在可信范围内、前后一致",
     "Kahn framework: values are believable and consistent"),
    ("protects", "保护的指标：依赖该检查的指标编号",
     "ids of the indicators that rely on the check"),
    ("partition", "分区：月份 YYYY-MM；空白表示全表", "month YYYY-MM; blank means the whole table"),
)


def _layer_rank(layer: str) -> tuple[int, str]:
    return (LAYERS.index(layer), "") if layer in LAYERS else (len(LAYERS), layer)


def _protects_text(value: Any) -> str:
    """Indicator ids as ``"a, b"``: from text, or from a sequence (a tuple from ``run_checks``,
    a numpy array after a Parquet round trip)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in (sorted(value) if isinstance(value, set | frozenset)
                                          else value))
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _text_or_none(values: pd.Series) -> pd.Series:
    """Text, with ``None`` (not NaN) for missing values: an object column, on pandas 2 and 3."""
    return pd.Series([None if v is None or pd.isna(v) else str(v) for v in values],
                     index=values.index, dtype="object")


def prepare_quality_results(results: pd.DataFrame) -> pd.DataFrame:
    """Check and normalise the input: :data:`QUALITY_COLUMNS` only, in a stable row order.

    Counts become nullable integers, ``rate``/``threshold`` floats, ``partition`` a
    ``'YYYY-MM'`` string or ``None``, ``protects`` text. Rows are ordered by layer (raw,
    cleaned, aggregated, application, then others), table, partition, check and asset, so the
    report does not depend on the input's row order.

    Raises
    ------
    ReportError
        A column is missing; a column identifies a patient; a status, severity or Kahn category
        is unknown or null; a key field is null; a partition is not ``YYYY-MM``; a count is not
        a whole number; or one check has two results for the same partition.

    Examples
    --------
    >>> bad = pd.DataFrame({c: ["x"] for c in QUALITY_COLUMNS})
    >>> prepare_quality_results(bad)
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.ReportError: quality results: column 'status' has value(s) outside ...: 'x' ×1
    """
    require_columns(results, QUALITY_COLUMNS, where="quality results")
    df = results.loc[:, list(QUALITY_COLUMNS)].copy().reset_index(drop=True)
    for col, allowed in (("status", STATUSES), ("severity", SEVERITIES),
                         ("kahn_category", KAHN_CATEGORIES)):
        require_values(df[col], allowed, where=f"quality results: column {col!r}")
    for col in ("layer", "check_id", "check_type", "table_name"):
        nulls = int(df[col].isna().sum())
        if nulls:
            raise ReportError(f"quality results: column {col!r} is null in {nulls} row(s)")
        df[col] = df[col].astype(str)
    for col in ("asset", "partition", "reason"):
        df[col] = _text_or_none(df[col])
    bad = sorted({p for p in df["partition"] if p is not None and not _PARTITION.match(p)})
    if bad:
        raise ReportError(f"quality results: partition(s) {bad[:5]} are not 'YYYY-MM' "
                          "(use None for checks of a whole table)")
    for col in COUNT_COLUMNS:
        try:
            df[col] = pd.array(pd.to_numeric(df[col]), dtype="Int64")
        except (TypeError, ValueError) as exc:
            raise ReportError(f"quality results: column {col!r} must hold whole numbers or "
                              f"nulls: {exc}") from exc
    for col in ("rate", "threshold"):
        try:
            df[col] = pd.to_numeric(df[col]).astype("float64")
        except (TypeError, ValueError) as exc:
            raise ReportError(f"quality results: column {col!r} must be numeric: {exc}") from exc
    df["protects"] = pd.Series([_protects_text(v) for v in df["protects"]], index=df.index,
                               dtype="object")
    key = ["layer", "asset", "table_name", "check_id", "partition"]
    dupes = df[df.duplicated(key, keep=False)]
    if not dupes.empty:
        first = dupes.iloc[0]
        raise ReportError(f"quality results: {len(dupes)} rows repeat a (layer, asset, table, "
                          f"check, partition), e.g. check {first.check_id!r} on "
                          f"{first.table_name!r} partition {first.partition!r}: each check has "
                          "one result per partition")
    order = sorted(range(len(df)), key=lambda i: (
        _layer_rank(df.at[i, "layer"]), df.at[i, "table_name"], df.at[i, "partition"] or "",
        df.at[i, "check_id"], df.at[i, "asset"] or ""))
    return df.iloc[order].reset_index(drop=True)


def quality_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Checks per status and row counts by layer × Kahn category, then a total row ``all``.

    Counts of rows are sums over the checks that report one (blank when none does).

    Examples
    --------
    >>> rows = [dict(layer="raw", asset=None, check_id=f"c{i}", check_type="not_null",
    ...              table_name="t", partition=None, status=s, violating_rows=v,
    ...              applicable_rows=10, rate=None, threshold=0.0, severity="blocking",
    ...              kahn_category="conformance", protects="", reason=None,
    ...              quarantined_rows=None, leaked_rows=None)
    ...         for i, (s, v) in enumerate([("failed", 2), ("failed", 1), ("passed", 0)])]
    >>> first = quality_summary(pd.DataFrame(rows)).iloc[0]
    >>> first.layer, first.kahn_category, int(first.checks), int(first.failed)
    ('raw', 'conformance', 3, 2)
    >>> int(first.violating_rows)
    3
    """
    df = prepare_quality_results(results)
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in SUMMARY_COLUMNS})

    def summarise(g: pd.DataFrame) -> dict[str, Any]:
        row: dict[str, Any] = {"checks": len(g)}
        row.update({s: int((g["status"] == s).sum()) for s in STATUSES})
        row["blocking_failures"] = int(((g["severity"] == "blocking")
                                        & g["status"].isin(["failed", "error"])).sum())
        for col in ("violating_rows", "quarantined_rows", "leaked_rows"):
            row[col] = g[col].sum(min_count=1)
        return row

    rows = []
    groups = df.groupby(["layer", "kahn_category"], sort=False)
    keys = sorted(groups.groups, key=lambda k: (_layer_rank(k[0]), KAHN_CATEGORIES.index(k[1])))
    for layer, category in keys:
        rows.append({"layer": layer, "kahn_category": category,
                     **summarise(groups.get_group((layer, category)))})
    rows.append({"layer": "all", "kahn_category": "all", **summarise(df)})
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    for col in ("violating_rows", "quarantined_rows", "leaked_rows"):
        out[col] = pd.array(out[col], dtype="Int64")
    return out


def quality_issues(results: pd.DataFrame) -> pd.DataFrame:
    """Failed and error checks: blocking before warning, failed before error, then by layer,
    table, partition and check.

    Examples
    --------
    >>> quality_issues(pd.DataFrame(columns=list(QUALITY_COLUMNS))).empty
    True
    """
    df = prepare_quality_results(results)
    issues = df[df["status"].isin(["failed", "error"])]
    order = sorted(issues.index, key=lambda i: (
        SEVERITIES.index(df.at[i, "severity"]), STATUSES.index(df.at[i, "status"]), i))
    return issues.loc[order, list(ISSUE_COLUMNS)].reset_index(drop=True)


def failed_heatmap(results: pd.DataFrame) -> go.Figure | None:
    """A heat map of failed checks per table (rows) and partition (columns), ``None`` when no
    check failed. Checks of a whole table have the column :data:`WHOLE_TABLE`; hovering shows
    the failed check ids.

    Examples
    --------
    >>> failed_heatmap(pd.DataFrame(columns=list(QUALITY_COLUMNS))) is None
    True
    """
    df = prepare_quality_results(results)
    failed = df[df["status"] == "failed"]
    if failed.empty:
        return None
    tables = sorted(df["table_name"].unique())
    parts = sorted({p for p in df["partition"] if p is not None})
    columns = ([None] if df["partition"].isna().any() else []) + parts
    labels = [WHOLE_TABLE if p is None else p for p in columns]
    z = [[0] * len(columns) for _ in tables]
    ids: list[list[list[str]]] = [[[] for _ in columns] for _ in tables]
    for row in failed.itertuples(index=False):
        r, c = tables.index(row.table_name), columns.index(row.partition)
        z[r][c] += 1
        ids[r][c].append(row.check_id)
    hover = [["<br>".join(cell[:10] + (["…"] if len(cell) > 10 else [])) for cell in line]
             for line in ids]
    fig = go.Figure(go.Heatmap(
        z=z, x=labels, y=tables, customdata=hover, zmin=0,
        colorscale=[[0.0, "#f7f9fb"], [0.001, "#fde0c5"], [1.0, "#c0392b"]],
        texttemplate="%{z}", colorbar={"title": {"text": "失败 / failed"}},
        hovertemplate=("表 table: %{y}<br>分区 partition: %{x}<br>失败检查 failed checks: %{z}"
                       "<br>%{customdata}<extra></extra>"),
    ))
    fig.update_layout(template="plotly_white", margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"type": "category", "title": {"text": "分区 / partition"}},
                      yaxis={"type": "category", "autorange": "reversed",
                             "title": {"text": "表 / table"}})
    return fig


def quality_sheets(results: pd.DataFrame, *, generated_at: datetime | None = None) -> list[Sheet]:
    """The scorecard workbook's sheets: ``summary``, ``failed_or_error``, ``all_results``,
    ``README``.

    Examples
    --------
    >>> [s.name for s in quality_sheets(pd.DataFrame(columns=list(QUALITY_COLUMNS)))]
    ['summary', 'failed_or_error', 'all_results', 'README']
    """
    df = prepare_quality_results(results)
    readme = list(README_ROWS)
    readme.append(("input_rows", "检查结果行数", str(len(df))))
    if generated_at is not None:
        readme.append(("generated_at", "生成时间", generated_at.isoformat(sep=" ")))
    return [
        Sheet("summary", quality_summary(df)),
        Sheet("failed_or_error", quality_issues(df), formats=_RATE_FORMATS,
              empty_message="no failed or error checks / 无失败或出错的检查"),
        Sheet("all_results", df, formats=_RATE_FORMATS),
        glossary_sheet(readme),
    ]


def _issue_table(issues: pd.DataFrame) -> Table:
    return Table(issues, formats={"rate": "{:.2%}", "threshold": "{:.2%}"},
                 empty_message="无失败或出错的检查 / no failed or error checks")


def quality_sections(results: pd.DataFrame) -> list[Section]:
    """The HTML page's sections: summary, heat map, failed and error checks, explanations.

    Examples
    --------
    >>> for s in quality_sections(pd.DataFrame(columns=list(QUALITY_COLUMNS))):
    ...     print(s.zh, "/", s.en)
    汇总：层 × Kahn 类别 / Summary by layer × Kahn category
    失败检查热图：表 × 分区 / Failed checks by table × partition
    失败与出错的检查 / Failed and error checks
    状态与计数说明 / How to read the statuses and counts
    """
    df = prepare_quality_results(results)
    heat = failed_heatmap(df)
    if heat is not None:
        n_tables = df["table_name"].nunique()
        heat_blocks: list[Any] = [Figure(heat, height=min(160 + 32 * n_tables, 900))]
    elif df.empty:
        heat_blocks = ["无数据 / no data"]
    else:
        heat_blocks = ["没有失败的检查 / no failed checks"]
    glossary = pd.DataFrame(list(README_ROWS), columns=["term", "中文", "English"])
    return [
        Section("汇总：层 × Kahn 类别", "Summary by layer × Kahn category",
                [Table(quality_summary(df))]),
        Section("失败检查热图：表 × 分区", "Failed checks by table × partition", heat_blocks),
        Section("失败与出错的检查", "Failed and error checks", [_issue_table(quality_issues(df))]),
        Section("状态与计数说明", "How to read the statuses and counts", [Table(glossary)]),
    ]


def write_quality_report(results: pd.DataFrame, out_dir: str | os.PathLike[str], *,
                         generated_at: datetime | None = None) -> list[Path]:
    """Write the data-quality scorecard (xlsx, HTML, manifest) into ``out_dir``.

    Parameters
    ----------
    results
        One row per check result with :data:`QUALITY_COLUMNS`.
    out_dir
        Folder for the files (created if missing); files of the same name are replaced
        atomically.
    generated_at
        Shown in the files when given; nothing in them depends on the clock otherwise, so the
        same results give the same files.

    Returns
    -------
    list of Path
        ``quality_scorecard.xlsx``, ``quality_scorecard.html``, and the manifest (written last).

    Raises
    ------
    ReportError
        See :func:`prepare_quality_results`; or a file cannot be written.
    """
    df = prepare_quality_results(results)
    out = Path(out_dir)
    counts = {s: int((df["status"] == s).sum()) for s in STATUSES}
    xlsx = write_workbook(out / f"{REPORT}.xlsx", quality_sheets(df, generated_at=generated_at),
                          title="数据质量记分卡 / Data-quality scorecard", created=generated_at)
    facts = {"检查结果 / check results": f"{len(df):,}",
             **{f"{STATUS_ZH[s]} / {s}": f"{n:,}" for s, n in counts.items()}}
    if generated_at is not None:
        facts["生成时间 / generated at"] = generated_at.isoformat(sep=" ")
    page = write_page(out / f"{REPORT}.html", "数据质量记分卡", "Data-quality scorecard",
                      quality_sections(df), facts=facts,
                      footer="hospital_sdk · error ≠ failed · quarantined = stopped at the load "
                             "gate · leaked = reached the lake")
    manifest_facts: dict[str, Any] = {"input_rows": len(df), "statuses": counts,
                                      "generated_at": None if generated_at is None
                                      else generated_at.isoformat()}
    manifest = write_manifest(out, REPORT, [xlsx, page], facts=manifest_facts)
    return [xlsx.path, page.path, manifest.path]


__all__ = [
    "QUALITY_COLUMNS", "REPORT", "STATUSES", "failed_heatmap", "prepare_quality_results",
    "quality_issues", "quality_sections", "quality_sheets", "quality_summary",
    "write_quality_report",
]
