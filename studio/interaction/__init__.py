"""Interaction rules for viewers and moderators: chat, Q&A, polls, rate limits. Pure, no I/O."""
