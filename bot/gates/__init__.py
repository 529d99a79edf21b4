"""Gates a candidate must pass before mendbot keeps it."""
