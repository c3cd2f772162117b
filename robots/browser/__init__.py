"""The browser layer: launching (launch, local, undetected, remote, start), the page facade (page/), diagnosis,
locators, the portal HTTP client (http) and process tracking. Selenium is imported lazily, only here."""
