"""`python -m juki`: the same command line as `juki` (how `juki network up` starts nodes)."""

from juki.cli import main

raise SystemExit(main())
