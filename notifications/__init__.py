"""How to tell people: one module per channel behind one small interface (to come)."""
