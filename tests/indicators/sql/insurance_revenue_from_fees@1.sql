-- insurance_revenue_from_fees@1 医疗收入中来自医保基金的收入（按就诊费用与出院费用） (Insurance-fund revenue from visit fees and discharge costs): sum
-- fact visit_fact, visit_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: outpatient_insurance_paid = sum(_.insurance_paid) where not excluded by cancelled: _.is_cancelled
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."dept_id" AS "department",
  EXTRACT(year FROM "t1"."visit_time") AS "_y",
  EXTRACT(month FROM "t1"."visit_time") AS "_m",
  CAST(SUM(
    CASE
      WHEN NOT (
        COALESCE("t1"."is_cancelled", FALSE)
      )
      THEN "t1"."insurance_paid"
      ELSE CAST(NULL AS DECIMAL(18, 2))
    END
  ) AS DOUBLE) AS "t0"
FROM (
  SELECT
    *
  FROM "visit_fact" AS "t0"
  WHERE
    "t0"."visit_time" >= MAKE_TIMESTAMP(2024, 1, 1, 0, 0, 0.0)
    AND "t0"."visit_time" < MAKE_TIMESTAMP(2025, 1, 1, 0, 0, 0.0)
) AS "t1"
GROUP BY
  1,
  2,
  3,
  4;
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: inpatient_insurance_paid = sum(_.insurance_paid)
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  CAST(SUM("t1"."insurance_paid") AS DOUBLE) AS "t0"
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
-- value = left + right
