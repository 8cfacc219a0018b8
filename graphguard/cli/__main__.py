"""``python -m graphguard.cli``: the ``graphguard`` command."""

from graphguard.cli import main

main()
