pytest_plugins = ["robots.packs.sera.fixtures"]
