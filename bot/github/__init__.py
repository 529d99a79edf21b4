"""GitHub: event payloads, trust checks, the REST client, pushing with git, and the action run."""
