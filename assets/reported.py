"""The reported indicators' entry forms of the landing folder, in the raw layer.

``raw/reported_value`` reads every form in ``<landing folder>/reported/`` (``.csv``/``.xlsx``,
filled from :func:`hospital_sdk.indicators.reported.write_template`) with
:func:`hospital_sdk.indicators.reported_folder.load_reported_folder`: accepted rows are appended
to ``lake.raw.reported_value`` once per file content (an unchanged file adds nothing), rejected
rows are kept with file, row, field, value and reason in ``lake.raw.reported_value_rejects``,
blank rows are counted. Institutions are checked against ``raw.institution`` (hence the
dependency). Unpartitioned: the forms are per year, not per month; the indicator engine reads
the latest value of each institution, period and indicator
(:func:`hospital_sdk.indicators.reported_values`).
"""

import dagster as dg

from assets.raw import KEYS as RAW
from assets.resources import POOL, LakeResource
from hospital_sdk.indicators.reported import REPORTED_TABLE
from hospital_sdk.indicators.reported_folder import (
    REJECTS_TABLE, REPORTED_FOLDER, load_reported_folder,
)

GROUP = "raw"
KEY = dg.AssetKey([GROUP, REPORTED_TABLE])


@dg.asset(key=KEY, group_name=GROUP, pool=POOL, kinds={"duckdb", "csv", "xlsx"},
          deps=[RAW["institution"]],
          metadata={"table": f"lake.raw.{REPORTED_TABLE}", "rejects": f"lake.raw.{REJECTS_TABLE}",
                    "folder": f"<landing folder>/{REPORTED_FOLDER}/"})
def reported_value(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Reported indicator values (EMR level, satisfaction, finance and HR ratios...) as entered
    in the landing folder's forms: every submission, rows in = accepted + rejected + blank per
    file, rejected rows in lake.raw.reported_value_rejects."""
    result = load_reported_folder(lake.lake, lake.source_folder / REPORTED_FOLDER)
    context.log.info(result.summary())
    return dg.MaterializeResult(metadata={**result.metadata(),
                                          "by_file": dg.MetadataValue.md(result.markdown())})
