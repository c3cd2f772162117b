"""Selector catalogs: `selectors/<portal>/<page>.yaml`, each mapping a name to one selector or to
an ordered list of fallback candidates. Flows refer to them as `<page>.<name>`."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from robots.browser.locators import Selector, looks_like_locator, parse_locator
from robots.errors import FlowIssue
from robots.flow.yamlsrc import load_located


def _stamp(f: Path) -> tuple[int, int]:
    st = f.stat()
    return st.st_mtime_ns, st.st_size


_CACHE: dict[tuple, tuple[SelectorCatalog, list[FlowIssue]]] = {}


@dataclass
class SelectorCatalog:
    root: Path | None
    selectors: dict[str, Selector] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path | None) -> tuple[SelectorCatalog, list[FlowIssue]]:
        """The catalog in `root`, read once per process while its files stay unchanged."""
        if root is None or not root.is_dir():
            return cls(root), []
        files = sorted(root.glob("*.yaml"))
        key = (str(root.resolve()), str(root), tuple((f.name, *_stamp(f)) for f in files))
        if key not in _CACHE:
            if len(_CACHE) > 64:
                _CACHE.clear()
            _CACHE[key] = cls._read(root, files)
        catalog, issues = _CACHE[key]
        return catalog, list(issues)

    @classmethod
    def load_file(cls, path: Path) -> tuple[SelectorCatalog, list[FlowIssue]]:
        """One catalog file on its own (names are `<file stem>.<name>`)."""
        return cls._read(path.parent, [path])

    @classmethod
    def _read(cls, root: Path, files: list[Path]) -> tuple[SelectorCatalog, list[FlowIssue]]:
        catalog = cls(root)
        issues: list[FlowIssue] = []
        for path in files:
            text = path.read_text(encoding="utf-8")
            located, found = load_located(text, str(path))
            issues += found
            if located is None:
                continue
            if not isinstance(located.data, dict):
                issues.append(located.issue((), "", "a selector catalog must be a mapping of names to selectors"))
                continue
            for name, value in located.data.items():
                raw = value if isinstance(value, list) else [value]
                candidates = []
                for i, cand in enumerate(raw):
                    sub = (name, i) if isinstance(value, list) else (name,)
                    if not isinstance(cand, str):
                        issues.append(located.issue(sub, name, "expected a selector string like 'css:#id'"))
                        continue
                    try:
                        candidates.append(parse_locator(cand))
                    except ValueError as e:
                        issues.append(located.issue(sub, name, str(e)))
                if candidates:
                    full = f"{path.stem}.{name}"
                    catalog.selectors[full] = Selector(full, tuple(candidates))
        return catalog, issues

    def resolve(self, ref: str) -> Selector:
        """A catalog name or a raw `strategy:value` selector. Raises KeyError/ValueError with a message."""
        if looks_like_locator(ref):
            return Selector(ref, (parse_locator(ref),))
        if ref in self.selectors:
            return self.selectors[ref]
        raise KeyError(self.unknown_message(ref))

    def unknown_message(self, ref: str) -> str:
        if ":" in ref and "." not in ref.partition(":")[0]:
            try:
                parse_locator(ref)
            except ValueError as e:
                return str(e)
        msg = f"unknown selector '{ref}'"
        close = difflib.get_close_matches(ref, list(self.selectors), n=1, cutoff=0.6)
        if close:
            msg += f" (did you mean '{close[0]}'?)"
        elif self.root is None:
            msg += " (no selector catalog found for this flow)"
        else:
            msg += f" (not in the catalog {self.root})"
        return msg
