-- essential_drug_procurement_item_share@1 基本药物采购品种数占比 (Essential medicines as a share of drug items procured): proportion
-- fact procurement_fact, month in [2024-01-01, 2025-01-01), by institution and month
--   t0: procured_items = count_distinct(_.generic_item) where _.quantity > 0 and _.is_essential
--   t1: procured_items = count_distinct(_.generic_item) where _.quantity > 0
SELECT
  "t1"."institution_id" AS "institution",
  EXTRACT(year FROM "t1"."month") AS "_y",
  EXTRACT(month FROM "t1"."month") AS "_m",
  COUNT(
    DISTINCT CASE
      WHEN COALESCE("t1"."quantity" > 0, FALSE) AND COALESCE("t1"."is_essential", FALSE)
      THEN "t1"."generic_item"
      ELSE CAST(NULL AS TEXT)
    END
  ) AS "t0",
  COUNT(
    DISTINCT CASE
      WHEN COALESCE("t1"."quantity" > 0, FALSE)
      THEN "t1"."generic_item"
      ELSE CAST(NULL AS TEXT)
    END
  ) AS "t1"
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
