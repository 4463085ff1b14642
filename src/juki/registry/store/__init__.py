"""The registry's SQL: records and their history, seals, the municipality and its resident-code
allotments, and the journal it shares with its CS (typed events out, 転出証明書情報 and 附票
entries in)."""
