"""仮登録 → 本登録: an operator's change waits as a provisional change until a supervisor other
than its clerk approves it (then it is applied, through the same service, and only then reaches
certificates and the CS) or rejects it with a reason; an exclusive edit lock keeps two operators
off one resident meanwhile. docs/adr/0007-provisional-changes.md says why it is shaped so."""
