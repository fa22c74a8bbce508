"""The package's error for bad input: a value a user wrote (in a study, a notebook parameter, a
command line), named by its field path. The command line turns it into exit code 2 and one line."""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(ValueError):
    """A configuration value is wrong; the message starts with the field path."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)
