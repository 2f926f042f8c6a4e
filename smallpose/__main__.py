import sys

from smallpose.cli import main

sys.exit(main())
