"""The console's first load stays within budget and keeps ECharts and the editor lazy (from the build)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.console import BUDGET, DIST, gz, initial_from_build


@pytest.fixture
def dist():
    if not (DIST / "index.html").is_file():
        pytest.fail("the console is not built: run `make console` first")
    return DIST


def test_initial_load_is_within_300_kb_gzipped(dist):
    initial = initial_from_build(dist)
    assert any(n.endswith(".js") for n in initial) and any(n.endswith(".css") for n in initial)
    assert sum(gz(dist / n) for n in initial) <= BUDGET


def test_echarts_and_the_editor_are_lazy(dist):
    initial = {Path(n).name for n in initial_from_build(dist)}
    assert not any(n.startswith(("echarts", "ContentEditor")) for n in initial)
    assets = {p.name for p in (dist / "assets").iterdir()}
    assert any(n.startswith("echarts") for n in assets) and any(n.startswith("ContentEditor") for n in assets)
