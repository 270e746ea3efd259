"""Chorus scoring domain: the pure rules that decide who takes part, how events become
points and how people rank.

Plain Python only. Frameworks, databases and queues live in ``app/``; a test parses
these imports and keeps it so.
"""
