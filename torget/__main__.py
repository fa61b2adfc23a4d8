"""``python -m torget`` is the ``torget`` command."""

from torget.cli import main

raise SystemExit(main())
