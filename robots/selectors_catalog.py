"""Selector catalogs: `selectors/<portal>/<page>.yaml`, each mapping a name to one selector or to
an ordered list of fallback candidates. Flows refer to them as `<page>.<name>`."""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robots.errors import FlowError, FlowIssue
from robots.flow.yamlsrc import load_located, read_source
from robots.locators import Selector, looks_like_locator, parse_locator

CATALOG_FILE = "a selector catalog"


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
        # name -> (its candidates, {"within"/"frame": (referenced name, issue maker)})
        scopes: dict[str, dict[str, tuple[str, Any]]] = {}
        for path in files:
            try:
                text = read_source(path, str(path), CATALOG_FILE)
            except FlowError as e:  # over the size limit
                issues += e.issues
                continue
            located, found = load_located(text, str(path), CATALOG_FILE)
            issues += found
            if located is None:
                continue
            if not isinstance(located.data, dict):
                issues.append(located.issue((), "", "a selector catalog must be a mapping of names to selectors"))
                continue
            for name, value in located.data.items():
                full = f"{path.stem}.{name}"
                base: tuple = (name,)
                if isinstance(value, dict):
                    unknown = sorted(set(value) - {"candidates", "within", "frame"})
                    if unknown or "candidates" not in value:
                        issues.append(located.issue(base, name, "a selector with a scope is a mapping of "
                                                                "'candidates' and optional 'within' and 'frame'"
                                                    + (f"; unknown key {', '.join(map(repr, unknown))}"
                                                       if unknown else "")))
                        continue
                    for key in ("within", "frame"):
                        ref = value.get(key)
                        if ref is None:
                            continue
                        if not isinstance(ref, str):
                            issues.append(located.issue(base + (key,), f"{name}.{key}", "expected a selector name"))
                            continue
                        target = ref if "." in ref else f"{path.stem}.{ref}"
                        scopes.setdefault(full, {})[key] = (
                            target, lambda m, loc=located, b=base + (key,), w=f"{name}.{key}": loc.issue(b, w, m))
                    value, base = value["candidates"], (name, "candidates")
                raw = value if isinstance(value, list) else [value]
                candidates = []
                for i, cand in enumerate(raw):
                    sub = base + (i,) if isinstance(value, list) else base
                    if not isinstance(cand, str):
                        issues.append(located.issue(sub, name, "expected a selector string like 'css:#id'"))
                        continue
                    try:
                        candidates.append(parse_locator(cand))
                    except ValueError as e:
                        issues.append(located.issue(sub, name, str(e)))
                if candidates:
                    catalog.selectors[full] = Selector(full, tuple(candidates))
        issues += catalog._link_scopes(scopes)
        return catalog, sorted(issues, key=lambda i: (i.file, i.line or 0, i.column or 0))

    def _link_scopes(self, scopes: dict[str, dict[str, tuple[str, Any]]]) -> list[FlowIssue]:
        """Give each selector its `within` and `frame` selectors (scopes of scopes included)."""
        issues: list[FlowIssue] = []
        done: dict[str, Selector] = {}

        def linked(name: str, trail: tuple[str, ...]) -> Selector:
            if name in done:
                return done[name]
            sel = self.selectors[name]
            extra: dict[str, Selector] = {}
            for key, (target, issue) in scopes.get(name, {}).items():
                if target in trail:
                    issues.append(issue(f"'{target}' is inside itself ({' → '.join((*trail, target))})"))
                elif target not in self.selectors:
                    issues.append(issue(self.unknown_message(target)))
                else:
                    extra[key] = linked(target, (*trail, target))
            done[name] = (dataclasses.replace(sel, within=extra.get("within", sel.within),
                                              frame=extra.get("frame", sel.frame)) if extra else sel)
            return done[name]

        for name in list(self.selectors):
            self.selectors[name] = linked(name, (name,))
        return issues

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
