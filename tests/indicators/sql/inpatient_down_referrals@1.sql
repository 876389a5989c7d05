-- inpatient_down_referrals@1 住院下转患者人次数 (Down-referred discharges): derived
-- fact stay_fact, discharge_time in [2024-01-01, 2025-01-01), by institution, department and month
--   t0: discharges = count(*) where (_.discharge_disposition == '3') | ((_.discharge_disposition == '2') & _.transfer_facility_level.isin(['1', '2']))
SELECT
  "t1"."institution_id" AS "institution",
  "t1"."discharge_dept_id" AS "department",
  EXTRACT(year FROM "t1"."discharge_time") AS "_y",
  EXTRACT(month FROM "t1"."discharge_time") AS "_m",
  SUM(
    CASE
      WHEN COALESCE(
        (
          "t1"."discharge_disposition" = '3'
        )
        OR (
          (
            "t1"."discharge_disposition" = '2'
          )
          AND "t1"."transfer_facility_level" IN ('1', '2')
        ),
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
