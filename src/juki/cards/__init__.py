"""個人番号カード (`card`): the card's lifecycle at the municipality, its PINs, its two key pairs
and certificates (利用者証明用 `auth`, 署名用 `signing`) issued by the national node's card CA,
and the verifier the kiosk relay calls. docs/cards.md describes the interface."""
