from stemnet.cli import main

raise SystemExit(main())
