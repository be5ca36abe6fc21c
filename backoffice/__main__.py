"""``python -m backoffice`` runs the CLI (the demo starts its processes this way)."""

from backoffice.cli import main

main()
