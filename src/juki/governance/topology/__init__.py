"""The network topology audit (長野県本人確認情報保護審議会 第1次報告 §2.4, 稲城市基準 第11).

`model` holds the description of a network, `parse` validates a document into it, `reach`
computes who can send to whom through switches, VLANs, routers and firewall rules, `audit`
turns that into findings with the case of the report and its remedy (`remedies`), and
`diagram` draws it as SVG. All of these are pure; `loader` reads the YAML file and `cli` is
`juki audit network`. The format is documented in docs/topology.md.
"""
