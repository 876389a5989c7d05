-- outpatient_mean_fee_growth@1 门诊次均费用增幅 (Growth in mean fee per outpatient visit): growth
-- fact visit_fact, visit_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: outpatient_fees = sum(_.total_fee) where _.visit_type.isin(['outpatient', 'emergency']) and not excluded by cancelled: _.is_cancelled
--   t1: visits = count(*) where _.visit_type.isin(['outpatient', 'emergency']) and not excluded by cancelled: _.is_cancelled
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."dept_id" AS "department",
  EXTRACT(year FROM "t1"."visit_time") AS "_y",
  EXTRACT(month FROM "t1"."visit_time") AS "_m",
  CAST(SUM(
    CASE
      WHEN COALESCE("t1"."visit_type" IN ('outpatient', 'emergency'), FALSE)
      AND NOT (
        COALESCE("t1"."is_cancelled", FALSE)
      )
      THEN "t1"."total_fee"
      ELSE CAST(NULL AS DECIMAL(18, 2))
    END
  ) AS DOUBLE) AS "t0",
  SUM(
    CASE
      WHEN COALESCE("t1"."visit_type" IN ('outpatient', 'emergency'), FALSE)
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
-- fact visit_fact, visit_time in [2023-01-01, 2024-01-01), by institution, department and month
--   t0: outpatient_fees = sum(_.total_fee) where _.visit_type.isin(['outpatient', 'emergency']) and not excluded by cancelled: _.is_cancelled
--   t1: visits = count(*) where _.visit_type.isin(['outpatient', 'emergency']) and not excluded by cancelled: _.is_cancelled
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."dept_id" AS "department",
  EXTRACT(year FROM "t1"."visit_time") AS "_y",
  EXTRACT(month FROM "t1"."visit_time") AS "_m",
  CAST(SUM(
    CASE
      WHEN COALESCE("t1"."visit_type" IN ('outpatient', 'emergency'), FALSE)
      AND NOT (
        COALESCE("t1"."is_cancelled", FALSE)
      )
      THEN "t1"."total_fee"
      ELSE CAST(NULL AS DECIMAL(18, 2))
    END
  ) AS DOUBLE) AS "t0",
  SUM(
    CASE
      WHEN COALESCE("t1"."visit_type" IN ('outpatient', 'emergency'), FALSE)
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
    "t0"."visit_time" >= MAKE_TIMESTAMP(2023, 1, 1, 0, 0, 0.0)
    AND "t0"."visit_time" < MAKE_TIMESTAMP(2024, 1, 1, 0, 0, 0.0)
) AS "t1"
GROUP BY
  1,
  2,
  3,
  4;
-- value = (this period - the year before) / the year before * 100; not computable when the earlier value is 0 or empty
