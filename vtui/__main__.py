from vtui.cli.main import main

raise SystemExit(main())
