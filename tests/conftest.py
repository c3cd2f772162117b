pytest_plugins = ["robots.testing.fixtures"]
