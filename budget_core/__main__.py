import sys

from budget_core.cli import main

sys.exit(main())
