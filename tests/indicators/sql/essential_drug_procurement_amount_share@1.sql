-- essential_drug_procurement_amount_share@1 基本药物采购金额占比 (Essential medicines as a share of drug procurement amount): proportion
-- fact procurement_fact, month in [2024-01-01, 2025-01-01), by institution and month
--   t0: procurement_amount = sum(_.amount) where _.is_essential
--   t1: procurement_amount = sum(_.amount)
SELECT
  "t1"."institution_id" AS "institution",
  EXTRACT(year FROM "t1"."month") AS "_y",
  EXTRACT(month FROM "t1"."month") AS "_m",
  CAST(SUM(
    CASE
      WHEN COALESCE("t1"."is_essential", FALSE)
      THEN "t1"."amount"
      ELSE CAST(NULL AS DECIMAL(18, 2))
    END
  ) AS DOUBLE) AS "t0",
  CAST(SUM("t1"."amount") AS DOUBLE) AS "t1"
FROM (
  SELECT
    *
  FROM "procurement_fact" AS "t0"
  WHERE
    "t0"."month" >= MAKE_TIMESTAMP(2024, 1, 1, 0, 0, 0.0)
    AND "t0"."month" < MAKE_TIMESTAMP(2025, 1, 1, 0, 0, 0.0)
) AS "t1"
GROUP BY
  1,
  2,
  3;
-- value = numerator / denominator * 100; not computable when the denominator is 0 or empty
