"""Governance: what a municipality shows its auditors and its privacy council.

`topology` is the network topology audit of the Nagano report (seed 000 §2.4): a municipality
describes its network in a YAML file and the audit finds every way from the Internet, a vendor
line, a dial-up line or a free hub port into the core segment, the juki segment and the CS.
"""
