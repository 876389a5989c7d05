-- inpatient_mean_drug_cost_growth@1 住院次均药品费用增幅 (Growth in mean drug cost per discharge): growth
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: inpatient_drug_cost = sum(_.drug_cost)
--   t1: discharges = count(*)
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  CAST(SUM("t1"."drug_cost") AS DOUBLE) AS "t0",
  COUNT(*) AS "t1"
FROM (
  SELECT
    *
  FROM "stay_fact" AS "t0"
  WHERE
    "t0"."discharge_time" >= MAKE_TIMESTAMP(2024, 1, 1, 0, 0, 0.0)
    AND "t0"."discharge_time" < MAKE_TIMESTAMP(2025, 1, 1, 0, 0, 0.0)
) AS "t1"
GROUP BY
  1,
  2,
  3,
  4;
-- fact stay_fact, discharge_time in [2023-01-01, 2024-01-01), by institution, department and month
--   t0: inpatient_drug_cost = sum(_.drug_cost)
--   t1: discharges = count(*)
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  CAST(SUM("t1"."drug_cost") AS DOUBLE) AS "t0",
  COUNT(*) AS "t1"
FROM (
  SELECT
    *
  FROM "stay_fact" AS "t0"
  WHERE
    "t0"."discharge_time" >= MAKE_TIMESTAMP(2023, 1, 1, 0, 0, 0.0)
    AND "t0"."discharge_time" < MAKE_TIMESTAMP(2024, 1, 1, 0, 0, 0.0)
) AS "t1"
GROUP BY
  1,
  2,
  3,
  4;
-- value = (this period - the year before) / the year before * 100; not computable when the earlier value is 0 or empty
