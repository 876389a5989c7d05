-- outpatient_essential_drug_prescription_rate@1 门诊患者基本药物处方占比 (Share of outpatient visits prescribed an essential medicine): proportion
-- fact visit_fact, visit_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: visits = count(*) where _.visit_type == 'outpatient' and _.n_prescribed_drugs > 0 and _.has_essential_drug_prescription and not excluded by cancelled: _.is_cancelled
--   t1: visits = count(*) where _.visit_type == 'outpatient' and _.n_prescribed_drugs > 0 and not excluded by cancelled: _.is_cancelled
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."dept_id" AS "department",
  EXTRACT(year FROM "t1"."visit_time") AS "_y",
  EXTRACT(month FROM "t1"."visit_time") AS "_m",
  SUM(
    CASE
      WHEN COALESCE("t1"."visit_type" = 'outpatient', FALSE)
      AND COALESCE("t1"."n_prescribed_drugs" > 0, FALSE)
      AND COALESCE("t1"."has_essential_drug_prescription", FALSE)
      AND NOT (
        COALESCE("t1"."is_cancelled", FALSE)
      )
      THEN 1
      ELSE 0
    END
  ) AS "t0",
  SUM(
    CASE
      WHEN COALESCE("t1"."visit_type" = 'outpatient', FALSE)
      AND COALESCE("t1"."n_prescribed_drugs" > 0, FALSE)
      AND NOT (
        COALESCE("t1"."is_cancelled", FALSE)
      )
      THEN 1
      ELSE 0
    END
  ) AS "t1"
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
-- value = numerator / denominator * 100; not computable when the denominator is 0 or empty
