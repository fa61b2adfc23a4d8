"""Programme import benchmark: how a node answers while it reads the largest accepted file."""
