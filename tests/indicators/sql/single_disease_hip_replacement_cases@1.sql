-- single_disease_hip_replacement_cases@1 单病种（髋关节置换术）例数 (Single disease (hip replacement): cases): derived
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: discharges = count(*) where ((_.principal_procedure_code.startswith('81.51') | _.principal_procedure_code.startswith('81.52')))
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  SUM(
    CASE
      WHEN COALESCE(
        STARTS_WITH("t1"."principal_procedure_code", '81.51')
        OR STARTS_WITH("t1"."principal_procedure_code", '81.52'),
        FALSE
      )
      THEN 1
      ELSE 0
    END
  ) AS "t0"
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
-- value = the measure
