"""mendbot: a Git-native repair bot for Python repositories."""

__version__ = "0.1.0"
