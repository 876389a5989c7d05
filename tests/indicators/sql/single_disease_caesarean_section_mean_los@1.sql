-- single_disease_caesarean_section_mean_los@1 单病种（剖宫产）平均住院日 (Single disease (caesarean section): mean length of stay): mean
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: bed_days = sum(_.los_days) where (_.principal_procedure_code.startswith('74.0') | _.principal_procedure_code.startswith('74.1') | _.principal_procedure_code.startswith('74.2'))
--   t1: discharges = count(*) where (_.principal_procedure_code.startswith('74.0') | _.principal_procedure_code.startswith('74.1') | _.principal_procedure_code.startswith('74.2'))
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  SUM(
    CASE
      WHEN COALESCE(
        STARTS_WITH("t1"."principal_procedure_code", '74.0')
        OR STARTS_WITH("t1"."principal_procedure_code", '74.1')
        OR STARTS_WITH("t1"."principal_procedure_code", '74.2'),
        FALSE
      )
      THEN "t1"."los_days"
      ELSE CAST(NULL AS INT)
    END
  ) AS "t0",
  SUM(
    CASE
      WHEN COALESCE(
        STARTS_WITH("t1"."principal_procedure_code", '74.0')
        OR STARTS_WITH("t1"."principal_procedure_code", '74.1')
        OR STARTS_WITH("t1"."principal_procedure_code", '74.2'),
        FALSE
      )
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
