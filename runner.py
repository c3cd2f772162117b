"""`python runner.py FLOW.yaml [options]` is `robots run FLOW.yaml [options]`."""

import sys

from robots.cli import main

if __name__ == "__main__":
    main(["run", *sys.argv[1:]])
