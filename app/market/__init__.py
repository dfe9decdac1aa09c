"""转让与租赁: the register of 股权转让、土地/厂房转让 and 出租 in renewal blocks, with its flags (docs/market.md)."""
