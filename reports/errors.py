"""What a report's request can name that is not there: 404 ``not_found``, naming the parameter."""
from ledger import errors as ledger_errors


class RecordNotFound(ledger_errors.RecordNotFound):
    NO_WAREHOUSE = "No warehouse with id {warehouse}."
    NO_LOT_ID = "No lot with id {lot}."
