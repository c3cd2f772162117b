"""robots: YAML flows that drive a real Chrome through web portals without an API.

The public API is what this module exports; nothing else is promised."""

from robots.errors import (
    BusinessFailure,
    FlowError,
    InputError,
    RobotsError,
    TechnicalError,
)

__version__ = "0.1.0"


def load_flow(path):  # noqa: ANN001, ANN201 - re-exported lazily so that `import robots` stays light
    """Load and validate a flow file (see robots.flow.loader.load_flow)."""
    from robots.flow.loader import load_flow as _load

    return _load(path)


def __getattr__(name: str):  # noqa: ANN202
    if name == "Runner":
        from robots.run import Runner

        return Runner
    if name == "step":
        from robots.steps import step

        return step
    raise AttributeError(name)


__all__ = ["BusinessFailure", "FlowError", "InputError", "RobotsError", "Runner", "TechnicalError", "load_flow",
           "step", "__version__"]
