"""The simulator's behaviour, free of any web framework: clock, ids, jobs, ledger, outputs, validation."""
