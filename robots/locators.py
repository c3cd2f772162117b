"""Selectors as data: `strategy:value` strings, ordered fallback candidates, and their WebDriver form."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# WebDriver's locator strategy names (selenium.webdriver.common.by.By), spelt out so that this
# module does not import Selenium.
_CSS, _XPATH = "css selector", "xpath"

STRATEGIES = ("css", "xpath", "id", "name", "data-cy", "text", "link", "label")


def _xpath_literal(s: str) -> str:
    if "'" not in s:
        return f"'{s}'"
    if '"' not in s:
        return f'"{s}"'
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in s.split("'")) + ")"


@dataclass(frozen=True)
class Locator:
    """One candidate: a strategy prefix and its value, e.g. `data-cy:login-username`."""

    strategy: str
    value: str

    def __str__(self) -> str:
        return f"{self.strategy}:{self.value}"

    def webdriver(self) -> tuple[str, str]:
        """The (By, value) pair that Selenium's find_element takes."""
        s, v = self.strategy, self.value
        if s == "css":
            return _CSS, v
        if s == "xpath":
            return _XPATH, v
        if s == "id":
            return _CSS, f"[id={json.dumps(v)}]"
        if s == "name":
            return _CSS, f"[name={json.dumps(v)}]"
        if s == "data-cy":
            return _CSS, f"[data-cy={json.dumps(v)}]"
        if s == "text":
            return _XPATH, f"//*[normalize-space(text())={_xpath_literal(v)}]"
        if s == "label":  # the form control a <label> with this text names (for=, or nested in it)
            lit = _xpath_literal(v)
            return _XPATH, (f"//*[@id=//label[normalize-space(.)={lit}]/@for] | "
                            f"//label[normalize-space(.)={lit}]//*[self::input or self::select or self::textarea]")
        if s == "link":
            return _XPATH, f"//a[normalize-space(.)={_xpath_literal(v)}]"
        raise AssertionError(f"unknown strategy {s}")  # parse_locator admits only STRATEGIES


def parse_locator(text: str) -> Locator:
    """Parse `strategy:value`; raise ValueError with a readable reason when it is not one."""
    strategy, sep, value = text.partition(":")
    strategy = strategy.strip()
    if not sep or not value.strip():
        raise ValueError(
            f"selector {text!r} has no strategy prefix; write one of "
            + ", ".join(f"'{s}:'" for s in STRATEGIES)
        )
    if strategy not in STRATEGIES:
        raise ValueError(
            f"selector {text!r} has an unknown strategy '{strategy}:'; use one of "
            + ", ".join(f"'{s}:'" for s in STRATEGIES)
        )
    return Locator(strategy, value.strip())


_POSITION = re.compile(r",? at position (\d+),?")
_PSEUDO = re.compile(r"^'(:[^']*)' was detected as a pseudo-class")
_DIGIT_ID = re.compile(r"#-?\d")


def css_problem(css: str) -> str | None:
    """Why `css` is not a valid CSS selector, else None. Parsed by soupsieve (BeautifulSoup's selector engine,
    which reads the field maps' `css`), which knows the selectors of CSS level 4 as browsers do; a pseudo-element
    or a vendor's pseudo-class (`:-webkit-autofill`) it does not evaluate is accepted, as the browser does.
    soupsieve's first pseudo-class costs about 0.2 s (it builds its own), so a selector that cssselect's parser
    reads and that has no pseudo-class nor an id starting with a digit (which only soupsieve checks) is taken as
    it is."""
    import soupsieve

    if ":" not in css and not _DIGIT_ID.search(css):
        import cssselect

        try:
            cssselect.parse(css)
            return None
        except cssselect.SelectorError:
            pass  # maybe CSS that cssselect does not know: soupsieve decides
    try:
        soupsieve.compile(css)
    except soupsieve.SelectorSyntaxError as e:
        text = str(e.args[0]).split("\n", 1)[0]
        pseudo = _PSEUDO.match(text)
        if pseudo is not None:
            if pseudo.group(1).startswith((":-webkit-", ":-moz-", ":-ms-")):
                return None
            return f"unknown pseudo-class '{pseudo.group(1)}' at character {e.col}"
        text = _POSITION.sub(lambda m: f" at character {int(m.group(1)) + 1}", text)
        return text[:1].lower() + text[1:]
    except NotImplementedError:  # a pseudo-element (`::before`): valid, it matches no element
        return None
    return None


def xpath_problem(xpath: str) -> str | None:
    """Why `xpath` is not a valid XPath 1.0 expression (the XPath browsers evaluate, as lxml does), else None."""
    from lxml import etree

    try:
        etree.XPath(xpath)
    except etree.XPathSyntaxError as e:
        column = e.error_log[-1].column if len(e.error_log) else None
        text = str(e.args[0])
        return text[:1].lower() + text[1:] + (f" at character {column + 1}" if column is not None else "")
    return None


def syntax_problem(locator: Locator) -> str | None:
    """Why a `css:` or `xpath:` selector does not parse ("selector 'css:a[' is not valid CSS: ..."), else None.
    A selector holding a template is checked once rendered, by the browser."""
    if "{{" in locator.value or "{%" in locator.value:
        return None
    if locator.strategy == "css":
        problem, language = css_problem(locator.value), "CSS"
    elif locator.strategy == "xpath":
        problem, language = xpath_problem(locator.value), "XPath"
    else:
        return None
    return None if problem is None else f"selector {str(locator)!r} is not valid {language}: {problem}"


def looks_like_locator(text: str) -> bool:
    """True when `text` is a raw selector (has a known strategy prefix) rather than a catalog name."""
    return text.partition(":")[0].strip() in STRATEGIES and ":" in text


@dataclass(frozen=True)
class Selector:
    """A named element: its ordered candidates. The first that matches wins; a later one is drift.

    `within` scopes the search to inside the first element of another selector (a table, a dialog); `frame`
    names the iframe the element lives in (the browser enters it to find the element)."""

    name: str
    candidates: tuple[Locator, ...]
    within: Selector | None = None
    frame: Selector | None = None

    def __str__(self) -> str:
        return self.name

    def spec(self) -> list:
        """The JSON form the page scripts take: [candidates as (By, value) pairs, the scope's or None]."""
        scope = [list(c.webdriver()) for c in self.within.candidates] if self.within else None
        return [[list(c.webdriver()) for c in self.candidates], scope]
