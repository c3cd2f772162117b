"""`python -m robots.cli ...`, the same as the `robots` console script."""

from robots.cli import main

if __name__ == "__main__":
    main()
