-- antibiotic_use_density@1 抗菌药物使用强度（DDDs） (Antibiotic use density (DDDs per 100 patient-days)): rate
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: antibiotic_ddds = sum(_.antibiotic_ddds)
--   t1: bed_days = sum(_.los_days)
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  CAST(SUM(CAST("t1"."antibiotic_ddds" AS DECIMAL(38, 9))) AS DOUBLE) AS "t0",
  SUM("t1"."los_days") AS "t1"
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
-- value = numerator / denominator * 100; not computable when the denominator is 0 or empty
