-- inpatient_workload_per_physician@1 每名执业医师日均住院工作负担 (Daily inpatient workload per licensed physician): ratio
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution and month
--   t0: bed_days = sum(_.los_days)
SELECT
  "t1"."institution_id" AS "institution",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  SUM("t1"."los_days") AS "t0"
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
  3;
-- value = numerator / denominator * 0.00273973; not computable when the denominator is 0 or empty
