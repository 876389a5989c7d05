-- single_disease_cabg_mean_cost@1 单病种（冠状动脉旁路移植术）次均费用 (Single disease (coronary artery bypass grafting (CABG)): mean cost per case): mean
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: inpatient_cost = sum(_.total_cost) where _.principal_procedure_code.startswith('36.1')
--   t1: discharges = count(*) where _.principal_procedure_code.startswith('36.1')
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  CAST(SUM(
    CASE
      WHEN COALESCE(STARTS_WITH("t1"."principal_procedure_code", '36.1'), FALSE)
      THEN "t1"."total_cost"
      ELSE CAST(NULL AS DECIMAL(18, 2))
    END
  ) AS DOUBLE) AS "t0",
  SUM(
    CASE
      WHEN COALESCE(STARTS_WITH("t1"."principal_procedure_code", '36.1'), FALSE)
      THEN 1
      ELSE 0
    END
  ) AS "t1"
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
