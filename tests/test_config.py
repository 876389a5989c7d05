"""Settings: the memory limit read from the environment once and passed to the lakehouse."""

from __future__ import annotations

import pytest

from hospital_sdk.config import Settings
from hospital_sdk.errors import ConfigError
from hospital_sdk.store import Lakehouse


def test_memory_limit_defaults_to_none_and_reads_the_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("HOSPITAL_SDK_MEMORY_LIMIT", raising=False)
    assert Settings(home=tmp_path).memory_limit is None
    monkeypatch.setenv("HOSPITAL_SDK_MEMORY_LIMIT", " 3GB ")
    assert Settings(home=tmp_path).memory_limit == "3GB"
    # an explicit argument wins over the environment
    assert Settings(home=tmp_path, memory_limit="512MB").memory_limit == "512MB"


@pytest.mark.parametrize("bad", ["lots", "4", "-1GB", "4 parsecs", "40%"])
def test_a_limit_that_is_not_a_size_is_refused(bad: str, tmp_path) -> None:
    with pytest.raises(ConfigError, match="memory_limit .* is not a size"):
        Settings(home=tmp_path, memory_limit=bad)


def test_the_lakehouse_opened_from_settings_uses_their_limit(tmp_path) -> None:
    settings = Settings(home=tmp_path / "lake", memory_limit="1GB")
    with Lakehouse.open(settings=settings) as lake:
        shown = lake.duck.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    # DuckDB shows 1GB (10^9 bytes) in binary units: 10^9 / 2^20 = 953.6 MiB
    assert shown == "953.6 MiB"
    # an explicit argument wins over the settings
    with Lakehouse.open(settings=settings, memory_limit="2GB") as lake:
        shown = lake.duck.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert shown == "1.8 GiB"  # 2·10^9 / 2^30 = 1.86 GiB, as DuckDB rounds it


def test_the_asset_graph_resource_carries_the_limit(tmp_path) -> None:
    from assets.resources import LakeResource
    resource = LakeResource.from_settings(Settings(home=tmp_path / "lake", memory_limit="1GB"))
    assert resource.memory_limit == "1GB"
    try:
        shown = resource.lake.duck.execute(
            "SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        resource.lake.close()
    assert shown == "953.6 MiB"  # 10^9 bytes in MiB, as in the test above
