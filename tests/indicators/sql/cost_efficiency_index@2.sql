-- cost_efficiency_index@2 费用消耗指数 (Cost-efficiency index): mean
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: drg_cost_ratio = sum((_.drg_expected_cost > 0).ifelse(_.total_cost / _.drg_expected_cost, 0)) where _.drg_expected_cost > 0
--   t1: discharges = count(*) where _.drg_expected_cost > 0
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  CAST(SUM(
    CASE
      WHEN COALESCE("t1"."drg_expected_cost" > 0, FALSE)
      THEN CAST(CASE
        WHEN "t1"."drg_expected_cost" > 0
        THEN "t1"."total_cost" / "t1"."drg_expected_cost"
        ELSE 0
      END AS DECIMAL(38, 9))
      ELSE CAST(NULL AS DECIMAL(38, 9))
    END
  ) AS DOUBLE) AS "t0",
  SUM(CASE WHEN COALESCE("t1"."drg_expected_cost" > 0, FALSE) THEN 1 ELSE 0 END) AS "t1"
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
