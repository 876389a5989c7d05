-- case_mix_index@1 病例组合指数（CMI） (Case-mix index (CMI)): mean
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: drg_weight = sum(_.relative_weight) where _.relative_weight.notnull()
--   t1: discharges = count(*) where _.relative_weight.notnull()
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  CAST(SUM(
    CASE
      WHEN COALESCE("t1"."relative_weight" IS NOT NULL, FALSE)
      THEN CAST("t1"."relative_weight" AS DECIMAL(38, 9))
      ELSE CAST(NULL AS DECIMAL(38, 9))
    END
  ) AS DOUBLE) AS "t0",
  SUM(CASE WHEN COALESCE("t1"."relative_weight" IS NOT NULL, FALSE) THEN 1 ELSE 0 END) AS "t1"
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
