-- unplanned_readmission_rate_2_15d@1 住院患者出院后2–15天非预期再住院率 (Unplanned readmission rate, 2-15 days after discharge): ratio
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: discharges = count(*) where _.is_unplanned_readmission and _.readmission_gap_days.between(2, 15)
--   t1: discharges = count(*) where not excluded by death: _.is_death
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  SUM(
    CASE
      WHEN COALESCE("t1"."is_unplanned_readmission", FALSE)
      AND COALESCE("t1"."readmission_gap_days" BETWEEN 2 AND 15, FALSE)
      THEN 1
      ELSE 0
    END
  ) AS "t0",
  SUM(CASE WHEN NOT (
    COALESCE("t1"."is_death", FALSE)
  ) THEN 1 ELSE 0 END) AS "t1"
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
