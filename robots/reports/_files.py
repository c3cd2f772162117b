"""Writing a report file whole: readers (CI, dashboards) never see half of one (robots.output_files)."""

from __future__ import annotations

from robots.output_files import write_atomically

__all__ = ["write_atomically"]
