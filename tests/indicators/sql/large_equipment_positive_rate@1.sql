-- large_equipment_positive_rate@1 大型医用设备检查阳性率 (Positive rate of large-equipment examinations): proportion
-- fact exam_fact, order_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: examinations = count(*) where _.is_large_equipment and _.is_positive and not excluded by no_result: _.is_positive.isnull()
--   t1: examinations = count(*) where _.is_large_equipment and not excluded by no_result: _.is_positive.isnull()
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."ordering_dept_id" AS "department",
  EXTRACT(year FROM "t1"."order_time") AS "_y",
  EXTRACT(month FROM "t1"."order_time") AS "_m",
  SUM(
    CASE
      WHEN COALESCE("t1"."is_large_equipment", FALSE)
      AND COALESCE("t1"."is_positive", FALSE)
      AND NOT (
        COALESCE("t1"."is_positive" IS NULL, FALSE)
      )
      THEN 1
      ELSE 0
    END
  ) AS "t0",
  SUM(
    CASE
      WHEN COALESCE("t1"."is_large_equipment", FALSE)
      AND NOT (
        COALESCE("t1"."is_positive" IS NULL, FALSE)
      )
      THEN 1
      ELSE 0
    END
  ) AS "t1"
FROM (
  SELECT
    *
  FROM "exam_fact" AS "t0"
  WHERE
    "t0"."order_time" >= MAKE_TIMESTAMP(2024, 1, 1, 0, 0, 0.0)
    AND "t0"."order_time" < MAKE_TIMESTAMP(2025, 1, 1, 0, 0, 0.0)
) AS "t1"
GROUP BY
  1,
  2,
  3,
  4;
-- value = numerator / denominator * 100; not computable when the denominator is 0 or empty
