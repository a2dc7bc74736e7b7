"""Exceptions raised by storyclust.

Every error caused by input data is an :class:`InputError`; its message names
where the problem is (file, line or record id) and which field, so that a user
can find and fix the record. The command line prints these without a traceback.
"""


class StoryclustError(Exception):
    """Base class of all storyclust errors."""


class InputError(StoryclustError, ValueError):
    """A record, file or argument that storyclust cannot use.

    Attributes
    ----------
    where : str or None
        The file and line, or the record id, that the problem is in.
    field : str or None
        The field that is wrong (``"id"``, ``"text"``, ``"date"`` ...).
    """

    def __init__(self, message, *, where=None, field=None):
        self.where = where
        self.field = field
        prefix = ""
        if where:
            prefix += f"{where}: "
        if field:
            prefix += f"field '{field}': "
        super().__init__(prefix + message)
        self.reason = message


class ModelMismatchError(StoryclustError):
    """Vectors from one embedding model were mixed with another's."""
