-- single_disease_copd_mean_cost@1 单病种（慢性阻塞性肺疾病急性加重）次均费用 (Single disease (chronic obstructive pulmonary disease): mean cost per case): mean
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: inpatient_cost = sum(_.total_cost) where in_value_set(_.principal_diagnosis_code, 'single_disease_copd')
--   t1: discharges = count(*) where in_value_set(_.principal_diagnosis_code, 'single_disease_copd')
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  CAST(SUM(
    CASE
      WHEN COALESCE(
        (
          "t1"."principal_diagnosis_code" IS NOT NULL
        )
        AND COALESCE(
          FALSE
          OR STARTS_WITH("t1"."principal_diagnosis_code", 'J44.0')
          OR STARTS_WITH("t1"."principal_diagnosis_code", 'J44.1')
          OR STARTS_WITH("t1"."principal_diagnosis_code", 'J44.9'),
          FALSE
        ),
        FALSE
      )
      THEN "t1"."total_cost"
      ELSE CAST(NULL AS DECIMAL(18, 2))
    END
  ) AS DOUBLE) AS "t0",
  SUM(
    CASE
      WHEN COALESCE(
        (
          "t1"."principal_diagnosis_code" IS NOT NULL
        )
        AND COALESCE(
          FALSE
          OR STARTS_WITH("t1"."principal_diagnosis_code", 'J44.0')
          OR STARTS_WITH("t1"."principal_diagnosis_code", 'J44.1')
          OR STARTS_WITH("t1"."principal_diagnosis_code", 'J44.9'),
          FALSE
        ),
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
