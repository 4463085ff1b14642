"""The ledgers' use cases: each runs through `juki.security.actions.perform`, so it is
authorised, and it and its oplog entry commit together (a refusal is logged on its own)."""
