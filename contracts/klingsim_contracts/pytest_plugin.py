"""The klingsim pytest plugin (entry point `pytest11: klingsim`); imports only pytest at module level."""
