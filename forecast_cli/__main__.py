"""`python -m forecast_cli` runs the command line."""

from .cli import main

if __name__ == "__main__":  # not when a worker process re-imports this module
    main()
