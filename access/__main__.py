"""``python -m access`` runs the ``archive`` command (the supervisor starts its children so)."""

from access.cli import main

main(prog_name="archive")
