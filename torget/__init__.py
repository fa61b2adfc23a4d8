"""Torget: self-hosted event streaming and hybrid broadcast backend."""

__version__ = "0.1.0"
