"""Review: each entry's state, the missed-separator checks, and the operator's corrections."""
