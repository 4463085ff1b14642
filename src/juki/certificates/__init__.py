"""Certificates: 住民票の写し, 住民票記載事項証明書 and 印鑑登録証明書.

`model` names what a certificate is made of, `content` decides what it says (pure rules),
`document` gives it one canonical JSON spelling and digest, `render` draws it as an A4 PDF,
`signing` signs it with the municipality's certificate-issuing key, `verify` checks a PDF,
`services` issue, void and register certificates through `perform`, and `web`/`terminal`/`cli`
only translate. See docs/certificates.md.
"""
