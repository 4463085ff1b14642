"""How each kind of node is wired: municipality (registry + CS), prefecture, national."""
