import sys

from casetrack.cli import main

sys.exit(main())
