-- unplanned_reoperation_rate@1 非计划重返手术室再手术率 (Unplanned return to the operating room): proportion
-- fact procedure_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: procedures = count(*) where _.is_surgery and _.is_unplanned_reoperation
--   t1: procedures = count(*) where _.is_surgery
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  SUM(
    CASE
      WHEN COALESCE("t1"."is_surgery", FALSE)
      AND COALESCE("t1"."is_unplanned_reoperation", FALSE)
      THEN 1
      ELSE 0
    END
  ) AS "t0",
  SUM(CASE WHEN COALESCE("t1"."is_surgery", FALSE) THEN 1 ELSE 0 END) AS "t1"
FROM (
  SELECT
    *
  FROM "procedure_fact" AS "t0"
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
