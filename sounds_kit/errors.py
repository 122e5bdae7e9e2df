"""Errors whose message is written for the person at the keyboard."""


class UserFacingError(Exception):
    """Raised for bad input; the CLI prints the message without a traceback."""


class AudioError(UserFacingError):
    """Audio that cannot be used: unreadable, empty, silent, NaN..."""


class ModelFileError(UserFacingError):
    """A model directory that is missing files or does not match the kit."""
