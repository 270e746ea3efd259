"""Write operations. Each validates against the domain, adds or changes rows and
flushes; the caller (a view, a job or a CLI command) commits once, or rolls back."""
