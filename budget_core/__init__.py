"""budget_core: French local authorities' budget documents as one canonical table."""
