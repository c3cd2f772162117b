"""The step library. Each module registers its steps with `@step`; adding a family means adding a module
and one import line below (registration is explicit, never discovered by magic)."""

from robots.steps.base import REGISTRY, StepArgs, StepDef, step

from robots.steps import checks, control, extract, files, forms, http, navigation, outputs, records, signin, waits  # noqa: E402,F401  isort: skip
from robots.steps import scripting  # noqa: E402,F401  isort: skip

__all__ = ["REGISTRY", "StepArgs", "StepDef", "step"]
