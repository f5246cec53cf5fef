"""The exceptions of jiuzhu. Every one carries ``.errors``: a list of ``{"path", "message"}``."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

__all__ = [
    "JiuzhuError",
    "ValidationError",
    "ParameterError",
    "RuleError",
    "PackError",
    "UsageError",
]


class JiuzhuError(Exception):
    """Base class of every jiuzhu error.

    ``str(error)`` is the whole message (for a household: every problem, one per line);
    ``error.errors`` the same problems as a list of ``{"path": ..., "message": ...}``.
    """

    def __init__(self, message: str, errors: Optional[List[Dict[str, Any]]] = None) -> None:
        super().__init__(message)
        self.errors: List[Dict[str, Any]] = list(errors or [])

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):  # exceptions cross process boundaries (dask, multiprocessing)
        return (type(self), (self.message, self.errors))


class ValidationError(JiuzhuError, ValueError):
    """The household is not valid. ``.errors`` lists every problem with its JSON path,
    e.g. ``{"path": "members[0].incomes[0].monthly", "message": 'negative amount "-5"'}``."""


class ParameterError(JiuzhuError, ValueError):
    """A parameter did not resolve (names parameter, region and date), or an override
    given to ``with_parameters`` is not valid for the pack."""


class RuleError(JiuzhuError):
    """A program's script failed (names program, file and line), including the
    sandbox's limits."""


class PackError(JiuzhuError):
    """A rule pack could not be loaded or compiled; ``.errors`` has one entry per
    problem, its ``path`` the file."""


class UsageError(JiuzhuError, ValueError):
    """A bad argument: an unknown language, a malformed date, a negative thread count."""
