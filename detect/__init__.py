"""Rules -> Matches -> Developments. Pure and deterministic: no I/O, no database, no clock."""
