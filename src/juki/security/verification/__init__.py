"""Operator verification (seed 002 第10条-第13条, seed 001 第7条・第16条): 照合情報 (a WebAuthn
credential), the operator card with its PIN, terminals, sessions, lockout, and the ledger."""
