"""Sub-commands of `mendbot` that live in their own modules (registered by bot.cli)."""
