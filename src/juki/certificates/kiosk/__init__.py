"""コンビニ交付 at the municipality's end: the certificate server that answers the kiosk relay.

The relay (証明書交付センター on the national node) authenticates the card and its PIN, finds
the municipality by the card serial, and hands this package one authenticated card holder and
one request. Everything here is the municipality's: the rules of who may be answered
(`rules`, pure), the per-municipality kiosk settings (`model`, pure), the request and answer
the relay carries encrypted (`messages`, versioned pydantic schemas), the services that answer
through the action runner (`services`), their SQL (`store`, `tables`), the settings routes
(`api`) and commands (`cli`). docs/certificates.md (section "Kiosk") is the contract.
"""
