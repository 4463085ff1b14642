"""The governance ledgers (issue 14 point 3): 入退室管理簿, 構成管理簿 (様式第1号), the operator
cards ledger, outsourcing contracts and their audits, and incidents (docs/ledgers.md).

`model`, `rules`, `commands`, `ports` and `services` are pure; `tables` and `store` are their
SQL (with `open_incidents` and `ledger_summary`, the reads a transparency report calls);
`api` the JSON routes, `cli` `juki ledger …`; the terminal's screens are
`juki.nodes.ledger_screens`, drawn by `templates/terminal/`.
"""
