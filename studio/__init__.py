"""The programme: studios, sessions, their lifecycle, access rules and the store."""
