"""`python -m teamlore.cli`: the same as the `teamlore` script."""

from . import main

main()
