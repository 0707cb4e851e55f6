"""Security pillar: who is calling (credentials), what they may do (policy), and proof of who did what (audit).

Every other pillar relies on it instead of inventing its own: routes are decided by :mod:`.policy`, callers are
resolved by :mod:`.authn`, and every write lands in the hash-chained audit trail of :mod:`.audit`.
"""
