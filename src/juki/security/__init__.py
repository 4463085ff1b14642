"""Who acts, what they may do, and the record of what they did."""
