"""``python -m scheduler`` runs the command line, for hosts without the console script."""

from scheduler.cli.main import main

main()
