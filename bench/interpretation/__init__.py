"""The interpretation benchmark: what one interpretation track costs a live session."""
