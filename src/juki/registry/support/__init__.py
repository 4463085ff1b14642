"""支援措置 (事務処理要領 第5-10): the measure as its own record — model and rules (pure),
commands, services, store, HTTP routes and commands of `juki registry support`."""
