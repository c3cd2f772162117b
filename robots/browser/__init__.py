"""The browser layer: drivers, locators, waits and evidence. Selenium is imported lazily, only here."""
