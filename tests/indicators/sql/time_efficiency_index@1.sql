-- time_efficiency_index@1 时间消耗指数 (Time-efficiency index): standardized_ratio
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: bed_days = sum(_.los_days) where _.drg_expected_los.notnull()
--   t1: expected_bed_days = sum(_.drg_expected_los)
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  SUM(
    CASE
      WHEN COALESCE("t1"."drg_expected_los" IS NOT NULL, FALSE)
      THEN "t1"."los_days"
      ELSE CAST(NULL AS INT)
    END
  ) AS "t0",
  CAST(SUM(CAST("t1"."drg_expected_los" AS DECIMAL(38, 9))) AS DOUBLE) AS "t1"
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
