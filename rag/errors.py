"""One error type for everything a user can fix: `str()` is one Danish line saying what to do.

The CLI and the web app catch `RagError` once each and show its text; nothing a user types or
sets should ever surface as a traceback. The subclasses say where the problem lies, for callers
that want to react differently (the indexer skips an `UnreadableFile` and goes on).
"""

from __future__ import annotations


class RagError(Exception):
    """Base of every error meant for the user. `str()` is one line of Danish."""

    def __str__(self) -> str:
        return " ".join(super().__str__().split())


class InputError(RagError, ValueError):
    """A question, filter or option that cannot be used as given."""


class SettingError(RagError, ValueError):
    """A setting (command-line option, environment variable, `Settings` field) with a bad value."""


class IndexProblem(RagError):
    """An index that cannot be read, written or locked."""


class UnreadableFile(RagError):
    """A source file that cannot be turned into text; `str()` is the reason (\"tom fil\", ...)."""


class ModelError(RagError):
    """The embedding model is missing, damaged or cannot run here."""


class FetchError(RagError):
    """The Folketing's open data service cannot be reached or answers with an error."""
