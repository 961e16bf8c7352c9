"""Import of a Factory Pulse web backup set (ORIGIN.md section 8): parsed, never executed."""
