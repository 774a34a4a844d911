"""``python -m newstrace`` runs the command line."""

from newstrace.cli import main

main()
