"""Chorus rewards domain: the pure rules of the non-monetary reward catalogue and of
redemptions (balance checks, per-person limits, the redemption state machine).

Plain Python only. Frameworks, databases and queues live in ``app/``; a test parses
these imports and keeps it so.
"""
