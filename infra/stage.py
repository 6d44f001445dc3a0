"""What one build targets: a Chalice stage in an AWS partition, and that stage's settings.

Resource names come from the stage's environment variables in
``.chalice/config.json`` -- the very values the functions will read at run
time -- pushed through ``Settings.from_env`` so that defaults are derived the
same way the application derives them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.settings import Settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
APP_NAME = "kepuscreen"

# The region ``chalice package`` is told about for each partition.  The
# template itself is region-independent (``${AWS::Partition}``,
# ``${AWS::Region}``, ``${AWS::URLSuffix}``); the region only selects the
# partition's conventions (service principals) and the cfn-lint region.
PARTITION_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1"}


@dataclass(frozen=True)
class Target:
    """One build: stage x partition (x region, for linting and deploying)."""

    stage: str
    partition: str = "aws-cn"
    region: str = ""
    project_dir: Path = field(default=PROJECT_DIR)

    def __post_init__(self) -> None:
        if self.partition not in PARTITION_REGIONS:
            raise ValueError(f"unknown partition {self.partition!r}; one of {sorted(PARTITION_REGIONS)}")
        if not self.region:
            object.__setattr__(self, "region", PARTITION_REGIONS[self.partition])
        if self.region.startswith("cn-") != (self.partition == "aws-cn"):
            raise ValueError(f"region {self.region} is not in partition {self.partition}")

    @property
    def china(self) -> bool:
        return self.partition == "aws-cn"

    @property
    def chalice_config(self) -> dict[str, Any]:
        return load_chalice_config(self.project_dir)

    @property
    def settings(self) -> Settings:
        return stage_settings(self.chalice_config, self.stage)

    @property
    def environment(self) -> dict[str, str]:
        return stage_environment(self.chalice_config, self.stage)


def load_chalice_config(project_dir: Path) -> dict[str, Any]:
    return json.loads((project_dir / ".chalice" / "config.json").read_text())


def stage_environment(config: dict[str, Any], stage: str) -> dict[str, str]:
    """The environment variables Chalice gives every function of ``stage``."""
    if stage not in config.get("stages", {}):
        raise ValueError(f"stage {stage!r} is not in .chalice/config.json (stages: {sorted(config.get('stages', {}))})")
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def stage_settings(config: dict[str, Any], stage: str) -> Settings:
    """``Settings`` exactly as a function of ``stage`` resolves them (without touching the process cache)."""
    env = stage_environment(config, stage)
    every_stage_var = {"STAGE"}
    for stage_config in config.get("stages", {}).values():
        every_stage_var.update(stage_config.get("environment_variables", {}))
    with _environ(remove=every_stage_var, set_={"STAGE": stage, **env}):
        return Settings.from_env()


@contextmanager
def _environ(remove: set[str], set_: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    try:
        for name in remove:
            os.environ.pop(name, None)
        os.environ.update(set_)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
