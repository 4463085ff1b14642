"""本人確認情報の提供: the register of recipient agencies and permitted tasks (issue 13, point 1).

`model` and `rules` (pure: who may receive which items of identity_info, for which task, on a
day), `register_file` (the shipped register's file format, validated), `commands`, `ports`,
`services` (through `juki.security.actions.perform`), `tables` and `store` (SQL). The commands
`juki agency …` and `juki task load` are in `juki.nodes.agency_cli` (they need the national node).
docs/provision.md describes it for operators and auditors.
"""
