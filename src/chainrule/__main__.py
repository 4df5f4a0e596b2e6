import sys

from .cli import run_main

sys.exit(run_main())
