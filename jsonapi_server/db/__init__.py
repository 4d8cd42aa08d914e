"""Data access: connections, typecasters, prepared statements, cursor reads, records, listings
and pulls, kept apart from the services so that how rows are read never shapes a rule."""
