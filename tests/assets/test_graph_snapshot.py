"""A snapshot of the asset graph: a lost dependency, check, partition or schedule shows as a diff.

After an intended change, regenerate with ``UPDATE_GRAPH_SNAPSHOT=1 make test`` (or run this file
with that variable) and review the diff of ``graph_snapshot.json`` like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from assets.definitions import build_definitions
from hospital_sdk.config import Settings

SNAPSHOT = Path(__file__).with_name("graph_snapshot.json")


def describe(defs: dg.Definitions) -> dict[str, object]:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "step": node.assets_def.node_def.name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": type(partitions).__name__ if partitions else None,
            "pools": sorted(node.pools or []),
            "checks": sorted(f"{spec.name}{' (blocking)' if spec.blocking else ''}"
                             for spec in (graph.get_check_spec(k) for k in node.check_keys)),
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.jobs or []),
        "schedules": {s.name: s.cron_schedule for s in defs.schedules or []},
        "sensors": sorted(s.name for s in defs.sensors or []),
    }


def test_the_asset_graph_matches_its_snapshot(tmp_path: Path) -> None:
    defs = build_definitions(Settings(home=tmp_path, first_month="2024-01"))
    current = describe(defs)
    if os.environ.get("UPDATE_GRAPH_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=1, ensure_ascii=False, sort_keys=True)
                            + "\n", encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == expected, "asset graph changed: see the module docstring to update"


def test_the_definitions_load_and_every_layer_is_a_group(tmp_path: Path) -> None:
    defs = build_definitions(Settings(home=tmp_path, first_month="2024-01"))
    dg.Definitions.validate_loadable(defs)
    groups = {k.path[0]: defs.resolve_asset_graph().get(k).group_name
              for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert set(groups.values()) == {"raw", "cleaned", "aggregated", "application"}
    assert all(prefix == group for prefix, group in groups.items())
