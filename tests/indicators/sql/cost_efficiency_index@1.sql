-- cost_efficiency_index@1 费用消耗指数 (Cost-efficiency index): standardized_ratio
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: inpatient_cost = sum(_.total_cost) where _.drg_expected_cost.notnull()
--   t1: expected_cost = sum(_.drg_expected_cost)
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  CAST(SUM(
    CASE
      WHEN COALESCE("t1"."drg_expected_cost" IS NOT NULL, FALSE)
      THEN "t1"."total_cost"
      ELSE CAST(NULL AS DECIMAL(18, 2))
    END
  ) AS DOUBLE) AS "t0",
  CAST(SUM(CAST("t1"."drg_expected_cost" AS DECIMAL(38, 9))) AS DOUBLE) AS "t1"
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
-- value = numerator / denominator * 1; not computable when the denominator is 0 or empty
