-- vbp_drug_use_share@1 国家组织药品集中采购中标药品使用比例 (Share of nationally volume-procured (VBP) winning drugs in the use of their generic names): proportion
-- fact procurement_fact, month in [2024-01-01, 2025-01-01), by institution and month
--   t0: procurement_quantity = sum(_.quantity) where _.generic_has_vbp and _.is_vbp
--   t1: procurement_quantity = sum(_.quantity) where _.generic_has_vbp
SELECT
  "t1"."institution_id" AS "institution",
  EXTRACT(year FROM "t1"."month") AS "_y",
  EXTRACT(month FROM "t1"."month") AS "_m",
  CAST(SUM(
    CASE
      WHEN COALESCE("t1"."generic_has_vbp", FALSE) AND COALESCE("t1"."is_vbp", FALSE)
      THEN CAST("t1"."quantity" AS DECIMAL(38, 9))
      ELSE CAST(NULL AS DECIMAL(38, 9))
    END
  ) AS DOUBLE) AS "t0",
  CAST(SUM(
    CASE
      WHEN COALESCE("t1"."generic_has_vbp", FALSE)
      THEN CAST("t1"."quantity" AS DECIMAL(38, 9))
      ELSE CAST(NULL AS DECIMAL(38, 9))
    END
  ) AS DOUBLE) AS "t1"
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
