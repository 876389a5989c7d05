"""Reported inputs of each institution and year, consistent with the generated patient records.

Values no patient record holds are generated near the national figures (reference catalog §5,
addendum Gap 4), so the whole national indicator set computes in a demo:

* **finance_statement** (``YYYY``; ``YYYY-MM`` too for :data:`MONTHLY_LINES`): revenue lines are
  sums of the institution's charge lines (outpatient = every setting but inpatient; drug = western,
  Chinese patent and herbal; insurance = ``insurance_paid``), reconciling to the fen; without
  charges, visit and stay totals. Statement-only lines: medical expense 95–100 % of medical
  revenue, personnel 37–41 % of it, energy 80–120 yuan per 10,000 yuan of revenue, debt ratio
  35–55 %, key-monitored drugs 1–3 % of drug revenue, key-monitored consumables 20–35 % of
  material revenue, training 0.5–1.5 % of total expense, essential and VBP drugs 30–50 % and
  20–30 % of procurement; ``medical_surplus = medical_revenue + fiscal_subsidy - medical_expense``.
* **hr_snapshot** (31 December): counts of the staff active that day; exam takers, trainees and
  teaching counts drawn around them (first-attempt pass 70–90 %).
* **satisfaction_score**: outpatient ≈ 88–95, inpatient ≈ 92–96, staff ≈ 83–88, improving yearly.
* **eqa_result**: 60–120 items per laboratory (100+ at headquarters), national and provincial
  schemes; ≈ 95 % of performed items take part, 95–98 % of those pass.
* **emr_assessment**: EMR level 5–6 at headquarters, 4–5 elsewhere; smart-hospital levels 2–4.
* **research_funding**: grants of 300–800 ten-thousand yuan per 100 health technicians at
  headquarters, 10–30 % of that elsewhere, as projects by funder level; a few commercialisations.
* **qualitative_item**: every item, graded on its own scale.
* **drug_procurement**: per institution, month and dispensed local drug code (medication orders,
  else drug charges): quantity 1.0–1.1 × dispensed (whole units), amounts at the dispensing price
  scaled so a year's purchases are 90–100 % of its drug revenue; the statement's
  ``drug_procurement_amount`` is their yearly sum.

Table ``t`` draws only from ``rng_factory("reported.t")``.

Examples
--------
>>> from types import SimpleNamespace
>>> from hospital_sdk.synth.rng import rng_factory
>>> staff = pd.DataFrame({"institution_id": ["HQ"] * 3, "role": ["physician", "nurse", "admin"],
...     "is_licensed": True, "is_resident": False, "title_level": ["1", "3", "9"],
...     "specialty_code": ["26", None, None], "dept_id": "D1",
...     "employed_from": pd.Timestamp("2020-01-01"), "employed_to": pd.NaT})
>>> world = SimpleNamespace(years=(2024,), staff=staff, institutions=pd.DataFrame(
...     {"institution_id": ["HQ"], "role": ["headquarters"]}))
>>> out = generate_reported(world, {}, rng_factory(1))
>>> hr = out["hr_snapshot"].to_pandas().set_index("metric_code")["value"]
>>> hr[["health_technicians", "registered_physicians", "physicians_anaesthesia"]].tolist()
[2.0, 1.0, 1.0]
>>> out["finance_statement"].num_rows  # no activity, no revenue: nothing to report
0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from hospital_sdk.model import CONTRACT
from hospital_sdk.synth.schema import build_table, empty_table

RngFactory = Callable[[str], np.random.Generator]
REPORTED_TABLES: tuple[str, ...] = ("finance_statement", "hr_snapshot", "satisfaction_score",
                                    "eqa_result", "emr_assessment", "research_funding",
                                    "qualitative_item", "drug_procurement")
REPORTED_BY = "合成数据"
FINANCE_LINES: tuple[str, ...] = CONTRACT.code_set("finance_line").values
HR_METRICS: tuple[str, ...] = CONTRACT.code_set("hr_metric").values
_DRUG = "revenue_category IN ('drug_western', 'drug_chinese_patent', 'drug_herbal')"
_OUT, _IN = "setting <> 'inpatient'", "setting = 'inpatient'"
_CHARGE_LINES: dict[str, tuple[str, str]] = {  # revenue line -> (charge_line column, filter)
    "outpatient_revenue": ("amount", _OUT),
    "outpatient_revenue_insurance": ("insurance_paid", _OUT),
    "inpatient_revenue": ("amount", _IN), "inpatient_revenue_insurance": ("insurance_paid", _IN),
    "drug_revenue": ("amount", _DRUG), "outpatient_drug_revenue": ("amount", f"{_OUT} AND {_DRUG}"),
    "inpatient_drug_revenue": ("amount", f"{_IN} AND {_DRUG}"),
    "material_revenue": ("amount", "revenue_category = 'material'"),
    "examination_revenue": ("amount", "revenue_category = 'examination'"),
    "laboratory_revenue": ("amount", "revenue_category = 'laboratory'"),
}
MONTHLY_LINES: tuple[str, ...] = ("medical_revenue", *_CHARGE_LINES)
"""Lines also reported per month (they come from charges, so the months add up to the year)."""
_SPECIALTIES = {"physicians_anaesthesia": "26", "physicians_paediatrics": "07",
                "physicians_critical_care": "28", "physicians_pathology": "31",
                "physicians_tcm": "50", "physicians_infectious": "16"}
_TITLES = {"senior_title_technicians": ("1",), "associate_senior_title_technicians": ("2",),
           "intermediate_title_technicians": ("3",), "junior_title_technicians": ("4", "5")}
_TECHNICIANS = ("physician", "nurse", "pharmacist", "technician")
EQA_ITEMS: tuple[str, ...] = tuple("""
钾 钠 氯 钙 磷 镁 铁 葡萄糖 尿素 肌酐 尿酸 总蛋白 白蛋白 丙氨酸氨基转移酶 天门冬氨酸氨基转移酶
碱性磷酸酶 γ-谷氨酰基转移酶 总胆红素 直接胆红素 总胆固醇 甘油三酯 高密度脂蛋白胆固醇
低密度脂蛋白胆固醇 淀粉酶 肌酸激酶 乳酸脱氢酶 胆碱酯酶 总胆汁酸 胱抑素C β2微球蛋白 同型半胱氨酸
血氨 乳酸 白细胞计数 红细胞计数 血红蛋白 红细胞压积 平均红细胞体积 血小板计数 网织红细胞计数
红细胞沉降率 凝血酶原时间 活化部分凝血活酶时间 纤维蛋白原 凝血酶时间 D-二聚体 糖化血红蛋白
促甲状腺激素 游离三碘甲状腺原氨酸 游离甲状腺素 三碘甲状腺原氨酸 甲状腺素 甲胎蛋白 癌胚抗原
CA125 CA19-9 CA15-3 总前列腺特异性抗原 铁蛋白 叶酸 维生素B12 心肌肌钙蛋白I 肌酸激酶同工酶MB
B型钠尿肽 N端B型钠尿肽前体 C反应蛋白 降钙素原 免疫球蛋白G 免疫球蛋白A 免疫球蛋白M 补体C3
补体C4 类风湿因子 抗链球菌溶血素O 乙肝表面抗原 乙肝表面抗体 乙肝e抗原 乙肝e抗体 乙肝核心抗体
丙肝抗体 HIV抗体 梅毒螺旋体抗体 尿蛋白 尿葡萄糖 尿比重 尿酸碱度 尿沉渣红细胞 尿沉渣白细胞
粪便隐血 ABO血型 RhD血型 不规则抗体筛查 细菌鉴定 药物敏感试验 血气酸碱度 血氧分压
血二氧化碳分压 皮质醇 胰岛素 C肽 睾酮 雌二醇 孕酮 黄体生成素 卵泡刺激素 催乳素
人绒毛膜促性腺激素 地高辛 丙戊酸 卡马西平 他克莫司 环孢素A 万古霉素 脑脊液蛋白 脑脊液葡萄糖
血清蛋白电泳 乙肝病毒DNA 丙肝病毒RNA 新型冠状病毒核酸 结核分枝杆菌核酸 EB病毒DNA
人乳头瘤病毒核酸 抗核抗体 抗双链DNA抗体 抗环瓜氨酸肽抗体 25-羟基维生素D 甲状旁腺激素 骨钙素
降钙素 铜蓝蛋白 淋巴细胞亚群""".split())
"""Names of the clinical laboratory EQA items (codes ``EQA001`` ... in this order)."""
_GRADES = {"equipment_maintenance_qc": (("A", "B", "C"), (0.55, 0.38, 0.07)),
           "budget_management": (("A", "B", "C"), (0.60, 0.35, 0.05)),
           "chief_accountant": (("yes", "no"), (0.92, 0.08)),
           "public_credit_rating": (("A", "B"), (0.85, 0.15)),
           "party_building": (("A", "B"), (0.70, 0.30))}


def generate_reported(world: Any, activity: Mapping[str, pa.Table],
                      rng_factory: RngFactory) -> dict[str, pa.Table]:
    """The eight reported tables for every member institution and year of ``world``.

    Parameters
    ----------
    world
        The group: ``years`` and the master tables ``institutions`` (members are rows with
        ``member`` true, or else every role but ``partner``), ``staff`` and ``departments``
        (pandas or Arrow, contract columns); ``staff``/``department`` in ``activity`` win.
    activity
        Patient-level tables of all years by contract name. Used when present: ``charge_line``,
        ``outpatient_visit``, ``inpatient_stay``, ``medication_order``; aggregated in DuckDB.
    rng_factory
        Named random streams; table ``t`` draws from ``"reported.t"`` only.

    Returns
    -------
    dict of str to pyarrow.Table
        :data:`REPORTED_TABLES`, each with the contract's columns and types. Finance lines are
        left out for an institution-year without revenue.
    """
    years = sorted(int(y) for y in world.years)
    inst = _frame(world, activity, "institution")
    members = inst["member"].astype(bool) if "member" in inst else inst["role"] != "partner"
    inst = inst.loc[members, ["institution_id", "role"]].sort_values("institution_id",
                                                                     ignore_index=True)
    con = duckdb.connect()
    try:
        for name, table in activity.items():
            con.register(name, table)
        revenue = _monthly_revenue(con, activity, inst, years)
        drugs = drug_procurement(con, activity, revenue, rng_factory("reported.drug_procurement"))
        counts = _hr_counts(_staff(world, activity), inst, years,
                            rng_factory("reported.hr_snapshot"))
        tech = counts["health_technicians"].unstack().reindex(columns=years).to_numpy()
        return {
            "finance_statement": finance_statement(con, activity, revenue, drugs,
                                                   rng_factory("reported.finance_statement")),
            "hr_snapshot": hr_snapshot(counts),
            "satisfaction_score": satisfaction_score(inst, years, tech,
                                                     rng_factory("reported.satisfaction_score")),
            "eqa_result": eqa_result(inst, years, rng_factory("reported.eqa_result")),
            "emr_assessment": emr_assessment(inst, years, rng_factory("reported.emr_assessment")),
            "research_funding": research_funding(inst, years, tech,
                                                 rng_factory("reported.research_funding")),
            "qualitative_item": qualitative_item(inst, years,
                                                 rng_factory("reported.qualitative_item")),
            "drug_procurement": drugs,
        }
    finally:
        con.close()


def _frame(world: Any, activity: Mapping[str, pa.Table], name: str) -> pd.DataFrame:
    """A master table from ``activity``, else the World's attribute ``<name>s`` or ``<name>``."""
    value = activity.get(name)
    if value is None:
        value = getattr(world, f"{name}s", None)
    if value is None:
        value = getattr(world, name)
    return value.to_pandas() if isinstance(value, pa.Table) else pd.DataFrame(value)


def _staff(world: Any, activity: Mapping[str, pa.Table]) -> pd.DataFrame:
    """Staff, with the department's specialty where the person's is missing."""
    staff = _frame(world, activity, "staff").copy()
    try:
        dept = _frame(world, activity, "department").set_index("dept_id")["specialty_code"]
    except AttributeError:
        return staff
    staff["specialty_code"] = staff["specialty_code"].fillna(staff["dept_id"].map(dept))
    return staff


def _cents(values: np.ndarray) -> np.ndarray:
    return np.rint(values).astype(np.int64)


def _days(dates: pd.Series) -> np.ndarray:
    return (pd.to_datetime(dates) - pd.Timestamp(1970, 1, 1)).dt.days.to_numpy(np.int64)


def _sum_cents(column: str, where: str = "TRUE") -> str:
    return f"CAST(COALESCE(SUM({column}) FILTER (WHERE {where}), 0) * 100 AS BIGINT)"


def _grid(inst: pd.DataFrame, years: list[int], per: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Institution id and year of every institution-year (each repeated ``per`` times)."""
    ids = np.repeat(inst["institution_id"].to_numpy(dtype=object), len(years) * per)
    return ids, np.tile(np.repeat(np.array(years, dtype=np.int64), per), len(inst))


# --- finance and procurement -------------------------------------------------------------------

def _monthly_revenue(con: duckdb.DuckDBPyConnection, activity: Mapping[str, pa.Table],
                     inst: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """:data:`MONTHLY_LINES` in cents per institution and month, from charges or visits/stays.

    Rows are first summed per institution, month and kind (exact decimals), then split into lines.
    """
    def monthly(table: str, at: str, columns: str, lines: str, where: str = "TRUE") -> pd.DataFrame:
        return con.sql(f"""SELECT institution_id, strftime(m, '%Y-%m') AS period, {lines} FROM (
            SELECT institution_id, date_trunc('month', {at}) AS m, {columns} FROM {table}
            WHERE {where} GROUP BY ALL) GROUP BY 1, 2""").df()

    charges = "charge_line" in activity
    parts = [monthly(
        "charge_line", "charge_time", "setting, revenue_category, SUM(amount) AS amount, "
        "SUM(insurance_paid) AS insurance_paid", ", ".join(
            f"{_sum_cents(c, w)} AS {line}" for line, (c, w) in _CHARGE_LINES.items()))
    ] if charges else []
    if not charges and "outpatient_visit" in activity:
        parts.append(monthly(
            "outpatient_visit", "visit_time", "SUM(total_fee) AS fee, SUM(drug_fee) AS drug, "
            "SUM(insurance_paid) AS ins", f"""{_sum_cents('fee')} AS outpatient_revenue,
              {_sum_cents('ins')} AS outpatient_revenue_insurance,
              {_sum_cents('drug')} AS outpatient_drug_revenue,
              {_sum_cents('(fee - drug) * 0.08')} AS material_revenue,
              {_sum_cents('(fee - drug) * 0.18')} AS examination_revenue,
              {_sum_cents('(fee - drug) * 0.20')} AS laboratory_revenue""", "NOT is_cancelled"))
    if not charges and "inpatient_stay" in activity:
        parts.append(monthly(
            "inpatient_stay", "discharge_time",
            "SUM(total_cost) AS fee, SUM(insurance_paid) AS ins, "
            "SUM(cost_drug_western + cost_drug_chinese) AS drug, SUM(cost_material) AS material, "
            "SUM(cost_imaging) AS exam, SUM(cost_lab + cost_pathology) AS lab",
            f"""{_sum_cents('fee')} AS inpatient_revenue,
              {_sum_cents('ins')} AS inpatient_revenue_insurance,
              {_sum_cents('drug')} AS inpatient_drug_revenue,
              {_sum_cents('material')} AS material_revenue,
              {_sum_cents('exam')} AS examination_revenue, {_sum_cents('lab')} AS laboratory_revenue
            """))
    frame = pd.concat([pd.DataFrame(columns=["institution_id", "period"]), *parts])
    frame = frame.reindex(columns=["institution_id", "period", *_CHARGE_LINES]).fillna(0)
    frame = frame.groupby(["institution_id", "period"], as_index=False).sum()
    if not charges:
        frame["drug_revenue"] = frame["outpatient_drug_revenue"] + frame["inpatient_drug_revenue"]
    frame["medical_revenue"] = frame["outpatient_revenue"] + frame["inpatient_revenue"]
    keep = frame["institution_id"].isin(inst["institution_id"]) & \
        frame["period"].str[:4].astype(int).isin(years)
    return frame[keep].astype({line: np.int64 for line in MONTHLY_LINES}).sort_values(
        ["institution_id", "period"], ignore_index=True)[["institution_id", "period",
                                                          *MONTHLY_LINES]]


def _by_year(frame: pd.DataFrame, column: str, keys: pd.DataFrame) -> np.ndarray:
    """Yearly sums of ``column`` (``period`` starting YYYY) aligned to ``keys``; 0 when absent."""
    sums = frame.groupby([frame["institution_id"], frame["period"].str[:4]])[column].sum()
    return sums.reindex(pd.MultiIndex.from_frame(keys), fill_value=0).to_numpy(np.int64)


def drug_procurement(con: duckdb.DuckDBPyConnection, activity: Mapping[str, pa.Table],
                     revenue: pd.DataFrame, rng: np.random.Generator) -> pa.Table:
    """Goods received per institution, month and dispensed drug (see the module docstring)."""
    if "medication_order" in activity:
        table, at, code, qty = "medication_order", "order_time", "drug_code", "dispensed_quantity"
    elif "charge_line" in activity:
        table, at, code, qty = ("charge_line WHERE item_type = 'drug'", "charge_time",
                                "item_code", "quantity")
    else:
        return empty_table("drug_procurement")
    frame = con.sql(f"""SELECT institution_id, strftime(m, '%Y-%m') AS period, drug_code,
          CAST(dispensed AS DOUBLE) AS dispensed, CAST(money * 100 AS BIGINT) AS cents FROM (
        SELECT institution_id, date_trunc('month', {at}) AS m, {code} AS drug_code,
          SUM(CAST(COALESCE({qty}, 0) AS DECIMAL(18, 4))) AS dispensed, SUM(amount) AS money
        FROM {table} GROUP BY 1, 2, 3) WHERE dispensed > 0 AND money > 0""").df()
    keys = revenue[["institution_id", "period"]].drop_duplicates()
    frame = frame.merge(keys, on=["institution_id", "period"]).sort_values(
        ["institution_id", "period", "drug_code"], ignore_index=True)
    received = np.ceil(frame["dispensed"].to_numpy() * rng.uniform(1.0, 1.1, len(frame)))
    raw = received * frame["cents"].to_numpy() / frame["dispensed"].to_numpy()
    years = frame[["institution_id"]].assign(period=frame["period"].str[:4])
    year_keys = years.drop_duplicates()
    target = _by_year(revenue, "drug_revenue", year_keys) * rng.uniform(0.9, 1.0, len(year_keys))
    spent = pd.Series(raw).groupby([years["institution_id"], years["period"]]).sum()
    scale = pd.Series(np.where(target > 0, target / spent.reindex(
        pd.MultiIndex.from_frame(year_keys)).to_numpy(), 1.0),
        index=pd.MultiIndex.from_frame(year_keys)).reindex(pd.MultiIndex.from_frame(years))
    return build_table("drug_procurement", {
        "institution_id": frame["institution_id"].to_numpy(dtype=object),
        "month": _days(frame["period"] + "-01"), "drug_code": frame["drug_code"].to_numpy(object),
        "quantity": received, "amount": _cents(raw * scale.to_numpy())}, n=len(frame))


def finance_statement(con: duckdb.DuckDBPyConnection, activity: Mapping[str, pa.Table],
                      revenue: pd.DataFrame, drugs: pa.Table,
                      rng: np.random.Generator) -> pa.Table:
    """Annual lines of every institution-year with revenue, and monthly revenue lines."""
    annual = revenue.assign(period=revenue["period"].str[:4]).groupby(
        ["institution_id", "period"], as_index=False)[list(MONTHLY_LINES)].sum()
    annual = annual[annual["medical_revenue"] > 0].reset_index(drop=True)
    keys = annual[["institution_id", "period"]]
    u = {k: rng.uniform(lo, hi, len(annual)) for k, (lo, hi) in {
        "expense": (0.95, 1.0), "personnel": (0.37, 0.41), "fiscal": (0.03, 0.08),
        "other_rev": (0.01, 0.03), "other_exp": (0.01, 0.03), "energy": (80, 120),
        "training": (0.005, 0.015), "assets": (1.0, 1.6), "debt": (0.35, 0.55),
        "key_drug": (0.01, 0.03), "adjuvant": (0.02, 0.05), "key_cons": (0.20, 0.35),
        "special": (0.003, 0.015), "procure": (0.9, 1.0), "essential": (0.30, 0.50),
        "vbp": (0.20, 0.30)}.items()}
    a = {line: annual[line].to_numpy(np.int64) for line in MONTHLY_LINES}
    mr, drug = a["medical_revenue"], a["drug_revenue"]
    a["medical_expense"] = _cents(mr * u["expense"])
    a["personnel_expense"] = _cents(a["medical_expense"] * u["personnel"])
    a["fiscal_subsidy_revenue"] = _cents(mr * u["fiscal"])
    a["total_revenue"] = mr + a["fiscal_subsidy_revenue"] + _cents(mr * u["other_rev"])
    a["total_expense"] = a["medical_expense"] + _cents(mr * u["other_exp"])
    a["energy_expense"] = _cents(a["total_revenue"] * u["energy"] / 10_000)
    a["training_expense"] = _cents(a["total_expense"] * u["training"])
    a["medical_surplus"] = mr + a["fiscal_subsidy_revenue"] - a["medical_expense"]
    a["total_assets"] = _cents(mr * u["assets"])
    a["total_liabilities"] = _cents(a["total_assets"] * u["debt"])
    a["key_monitored_drug_revenue"] = _cents(drug * u["key_drug"])
    a["adjuvant_drug_revenue"] = _cents(drug * u["adjuvant"])
    a["key_monitored_consumable_revenue"] = _cents(a["material_revenue"] * u["key_cons"])
    special = _by_year(_special_needs(con, activity), "cents", keys)
    a["special_needs_revenue"] = np.where(special > 0, special, _cents(mr * u["special"]))
    con.register("_procured", drugs)
    procured = _by_year(con.sql("SELECT institution_id, strftime(month, '%Y') AS period, "
                                "CAST(SUM(amount) * 100 AS BIGINT) AS cents FROM _procured "
                                "GROUP BY 1, 2").df(), "cents", keys)
    a["drug_procurement_amount"] = np.where(procured > 0, procured, _cents(drug * u["procure"]))
    a["essential_drug_procurement_amount"] = _cents(a["drug_procurement_amount"] * u["essential"])
    a["vbp_drug_procurement_amount"] = _cents(a["drug_procurement_amount"] * u["vbp"])
    wide = pd.concat([keys, pd.DataFrame({line: a[line] for line in FINANCE_LINES})], axis=1)
    long = pd.concat([wide.melt(["institution_id", "period"], list(FINANCE_LINES), "line_code",
                                "amount"),
                      revenue.melt(["institution_id", "period"], list(MONTHLY_LINES),
                                   "line_code", "amount")])
    order = {line: i for i, line in enumerate(FINANCE_LINES)}
    long = long.assign(_o=long["line_code"].map(order)).sort_values(
        ["institution_id", "period", "_o"], ignore_index=True)
    return build_table("finance_statement", {
        "institution_id": long["institution_id"].to_numpy(object),
        "period": long["period"].to_numpy(object), "line_code": long["line_code"].to_numpy(object),
        "amount": long["amount"].to_numpy(np.int64), "reported_by": REPORTED_BY}, n=len(long))


def _special_needs(con: duckdb.DuckDBPyConnection,
                   activity: Mapping[str, pa.Table]) -> pd.DataFrame:
    """Fees of special-needs visits and stays per institution and year (``cents``)."""
    parts = []
    if "outpatient_visit" in activity:
        parts.append("SELECT institution_id, strftime(visit_time, '%Y') AS period, total_fee fee "
                     "FROM outpatient_visit WHERE is_special_needs AND NOT is_cancelled")
    if "inpatient_stay" in activity:
        parts.append("SELECT institution_id, strftime(discharge_time, '%Y'), total_cost "
                     "FROM inpatient_stay WHERE is_special_needs")
    if not parts:
        return pd.DataFrame({"institution_id": [], "period": pd.Series([], dtype=str), "cents": []})
    return con.sql(f"SELECT institution_id, period, CAST(SUM(fee) * 100 AS BIGINT) AS cents "
                   f"FROM ({' UNION ALL '.join(parts)}) GROUP BY 1, 2").df()


# --- staff, satisfaction, EQA, EMR, research, qualitative ---------------------------------------

def _hr_counts(staff: pd.DataFrame, inst: pd.DataFrame, years: list[int],
               rng: np.random.Generator) -> pd.DataFrame:
    """Every HR metric, indexed by institution and year (31 December of the year).

    Counts come from the staff active that day; senior = 正高 (title 1), associate senior = 副高
    (2), intermediate = 中级 (3), junior = 师/士 (4, 5); specialty physicians are licensed
    physicians whose specialty (or department's) falls under 26, 07, 28, 31, 50 or 16.
    """
    hq = (inst["role"] == "headquarters").to_numpy()
    start, end = pd.to_datetime(staff["employed_from"]), pd.to_datetime(staff["employed_to"])
    frames = []
    for year in years:
        day = pd.Timestamp(year, 12, 31)
        s = staff[((start <= day) & (end.isna() | (end >= day))).to_numpy()]
        tech, licensed = s["role"].isin(_TECHNICIANS), s["is_licensed"].fillna(False).astype(bool)
        phys = (s["role"] == "physician") & licensed
        top = s["specialty_code"].fillna("").astype(str).str.split(".").str[0]
        c = pd.DataFrame({
            "health_technicians": tech, "registered_physicians": phys, "licensed_physicians": phys,
            "registered_nurses": (s["role"] == "nurse") & licensed,
            "pharmacists": s["role"] == "pharmacist",
            **{m: phys & (top == code) for m, code in _SPECIALTIES.items()},
            **{m: tech & s["title_level"].isin(levels) for m, levels in _TITLES.items()},
            "_residents": (s["role"] == "physician") & s["is_resident"].fillna(False).astype(bool),
        }).groupby(s["institution_id"].to_numpy()).sum().reindex(inst["institution_id"],
                                                                 fill_value=0)
        doctors, n = c["registered_physicians"].to_numpy(), len(inst)
        takers = rng.poisson(np.where(c["_residents"] > 0, c["_residents"] * 0.4, doctors * 0.03))
        admitted = rng.poisson(c["health_technicians"].to_numpy() * np.where(hq, 0.04, 0.01))
        c = c.assign(
            residents_first_exam_takers=takers,
            residents_first_exam_passed=rng.binomial(takers, rng.uniform(0.70, 0.90, n)),
            trainees_admitted=admitted,
            trainees_returned_independent=rng.binomial(admitted, rng.uniform(0.6, 0.9, n)),
            teaching_staff_trained=rng.poisson(doctors * np.where(hq, 0.30, 0.10)),
            medical_students_taught=rng.poisson(doctors * np.where(hq, 0.60, 0.15)),
            teaching_papers=rng.poisson(doctors * np.where(hq, 0.03, 0.008)), year=year)
        frames.append(c.rename_axis("institution_id").reset_index())
    columns = ["institution_id", "year", *HR_METRICS]
    return pd.concat([pd.DataFrame(columns=columns), *frames])[columns].astype(
        {m: np.float64 for m in HR_METRICS}).set_index(["institution_id", "year"]).sort_index()


def hr_snapshot(counts: pd.DataFrame) -> pa.Table:
    """The ``hr_snapshot`` table of :func:`_hr_counts`, one row per metric, on 31 December."""
    long = counts.reset_index().melt(["institution_id", "year"], list(HR_METRICS), "metric_code",
                                     "value")
    order = {m: i for i, m in enumerate(HR_METRICS)}
    long = long.assign(_o=long["metric_code"].map(order)).sort_values(
        ["institution_id", "year", "_o"], ignore_index=True)
    return build_table("hr_snapshot", {
        "institution_id": long["institution_id"].to_numpy(object),
        "snapshot_date": _days(long["year"].astype(int).astype(str) + "-12-31"),
        "metric_code": long["metric_code"].to_numpy(object),
        "value": long["value"].to_numpy(np.float64), "reported_by": REPORTED_BY}, n=len(long))


def satisfaction_score(inst: pd.DataFrame, years: list[int], tech: np.ndarray,
                       rng: np.random.Generator) -> pa.Table:
    """Outpatient, inpatient and staff scores, improving a little each year."""
    n, k = len(inst), len(years)
    hq = (inst["role"] == "headquarters").to_numpy()[:, None]
    surveys = {  # base range, yearly step range, clip range, respondents at HQ / elsewhere
        "outpatient": ((88.0, 91.0), (0.4, 1.2), (85.0, 95.0), (800, 400)),
        "inpatient": ((92.0, 94.0), (0.2, 0.6), (90.0, 96.0), (500, 250)),
        "staff": ((83.0, 85.0), (0.4, 1.0), (80.0, 88.0), None)}
    scores, counts = [], []
    for base, step, clip, respondents in surveys.values():
        score = (rng.uniform(*base, (n, 1)) + rng.uniform(*step, (n, 1)) * np.arange(k)
                 + rng.normal(0, 0.3, (n, k)))
        scores.append(np.round(np.clip(score, *clip), 2).ravel())
        counts.append(rng.binomial(tech.astype(np.int64), 0.35).ravel() if respondents is None
                      else rng.poisson(np.where(hq, *respondents), (n, k)).ravel())
    ids, year = _grid(inst, years, 3)
    return build_table("satisfaction_score", {
        "institution_id": ids, "year": year,
        "survey_type": np.tile(np.array(list(surveys), dtype=object), n * k),
        "score": np.stack(scores, axis=1).ravel(), "respondents": np.stack(counts, axis=1).ravel()},
        n=len(ids))


def eqa_result(inst: pd.DataFrame, years: list[int], rng: np.random.Generator) -> pa.Table:
    """Provincial EQA for every item of the laboratory's menu, national for most of them."""
    parts = []
    for inst_id, role in zip(inst["institution_id"], inst["role"], strict=True):
        hq = role == "headquarters"
        size = int(rng.integers(*(100, 121) if hq else (60, 91)))
        menu = np.sort(rng.choice(len(EQA_ITEMS), size, replace=False))
        national = menu[rng.random(len(menu)) < (0.85 if hq else 0.6)]
        for year in years:
            rate = rng.uniform(0.95, 0.98)
            for scheme, items in (("national", national), ("provincial", menu)):
                m = len(items)
                performed = rng.random(m) < 0.97
                took_part = performed & (rng.random(m) < 0.98)
                parts.append(pd.DataFrame({
                    "institution_id": inst_id, "year": year, "scheme": scheme, "item": items,
                    "is_performed": performed, "participated": took_part,
                    "passed": rng.random(m) < rate}))
    f = pd.concat([pd.DataFrame({"item": pd.Series([], dtype=np.int64)}), *parts],
                  ignore_index=True)
    item, took_part = f["item"].to_numpy(np.int64), f["participated"].to_numpy(bool)
    return build_table("eqa_result", {
        "institution_id": f["institution_id"].to_numpy(object), "year": f["year"].to_numpy(),
        "scheme": f["scheme"].to_numpy(object),
        "item_code": np.array([f"EQA{i + 1:03d}" for i in range(len(EQA_ITEMS))], object)[item],
        "item_name": np.array(EQA_ITEMS, dtype=object)[item],
        "is_performed": f["is_performed"].to_numpy(bool), "participated": took_part,
        "passed": np.ma.masked_array(f["passed"].to_numpy(bool), mask=~took_part)}, n=len(f))


def emr_assessment(inst: pd.DataFrame, years: list[int], rng: np.random.Generator) -> pa.Table:
    """EMR level 5–6 at headquarters and 4–5 elsewhere; smart levels 2–4; never decreasing."""
    n, k = len(inst), len(years)
    hq = (inst["role"] == "headquarters").to_numpy()

    def levels(low: np.ndarray, cap: np.ndarray, p_up: float) -> np.ndarray:
        steps = rng.random((n, k)) < p_up
        steps[:, :1] = False
        start = low + (rng.random(n) < 0.5)
        return np.minimum(start[:, None] + np.cumsum(steps, axis=1), cap[:, None]).ravel()

    ids, year = _grid(inst, years)
    return build_table("emr_assessment", {
        "institution_id": ids, "year": year,
        "emr_level": levels(np.where(hq, 5, 4), np.where(hq, 6, 5), 0.25),
        "smart_service_level": levels(np.where(hq, 3, 2), np.full(n, 4), 0.2),
        "smart_management_level": levels(np.where(hq, 3, 2), np.full(n, 4), 0.2)}, n=len(ids))


# funder level -> (expected share of the grant money, mean project size in yuan)
_FUNDERS = {"national": (0.35, 800_000), "provincial": (0.30, 300_000),
            "municipal": (0.20, 100_000), "institutional": (0.15, 50_000)}


def research_funding(inst: pd.DataFrame, years: list[int], tech: np.ndarray,
                     rng: np.random.Generator) -> pa.Table:
    """Grant projects by funder level, and a few commercialisation rows."""
    parts = []
    for i, (inst_id, role) in enumerate(zip(inst["institution_id"], inst["role"], strict=True)):
        hq = role == "headquarters"
        for j, year in enumerate(years):
            per100 = rng.uniform(300, 800) * (1.0 if hq else rng.uniform(0.1, 0.3))
            total = tech[i, j] / 100 * per100 * 1_000_000  # cents (per100 is in 10,000 yuan)
            split = rng.dirichlet([40 * share for share, _ in _FUNDERS.values()])
            for (level, (_, mean)), money in zip(_FUNDERS.items(), total * split, strict=True):
                count = int(np.clip(round(money / (mean * 100)), 1 if money >= 100 else 0, 500))
                parts.append(pd.DataFrame({
                    "institution_id": inst_id, "year": year, "kind": "grant",
                    "project_id": [f"G{year}{level[0].upper()}{p + 1:04d}" for p in range(count)],
                    "funder_level": level, "amount": _cents(money * rng.dirichlet(np.ones(
                        count))) if count else np.zeros(0, np.int64)}))
            deals = int(rng.poisson(2.0 if hq else 0.3))
            parts.append(pd.DataFrame({
                "institution_id": inst_id, "year": year, "kind": "commercialisation",
                "project_id": [f"C{year}{p + 1:03d}" for p in range(deals)],
                "funder_level": "institutional",
                "amount": _cents(rng.uniform(10, 200, deals) * 1_000_000)}))
    f = pd.concat([pd.DataFrame({"amount": pd.Series([], dtype=np.int64)}), *parts],
                  ignore_index=True)
    return build_table("research_funding", {
        **{c: f[c].to_numpy(object) for c in ("institution_id", "project_id", "kind",
                                               "funder_level")},
        "year": f["year"].to_numpy(np.int64), "amount": f["amount"].to_numpy(np.int64)}, n=len(f))


def qualitative_item(inst: pd.DataFrame, years: list[int], rng: np.random.Generator) -> pa.Table:
    """Every qualitative item of every institution-year, graded on its own scale."""
    items = CONTRACT.code_set("qualitative_item").codes
    ids, year = _grid(inst, years, len(items))
    rows = len(ids) // len(items)
    grades = np.stack([np.array(_GRADES[c.code][0], dtype=object)[
        rng.choice(len(_GRADES[c.code][0]), rows, p=_GRADES[c.code][1])] for c in items], axis=1)
    return build_table("qualitative_item", {
        "institution_id": ids, "year": year,
        "item_code": np.tile(np.array([c.code for c in items], dtype=object), rows),
        "grade": grades.ravel(),
        "evidence": np.tile(np.array([f"{c.zh}自评及佐证材料" for c in items], object), rows),
        "reported_by": REPORTED_BY}, n=len(ids))
