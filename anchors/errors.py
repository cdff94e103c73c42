"""The anchors' refusals: a stable ``code``, a sentence, the data to act on."""
from common.errors import DomainError


class NothingToAnchor(DomainError):
    """The ledger holds no event yet: there is no head to attest."""

    status = 409
    code = "nothing_to_anchor"
    MESSAGE = "The ledger is empty: there is no head to anchor yet."

    def __init__(self):
        super().__init__(self.MESSAGE)


class SigningKeyNotSet(DomainError):
    """No ``WMS_ANCHOR_SIGNING_KEY``: anchors are unsigned and there is no public key to publish."""

    status = 404
    code = "signing_key_not_set"
    MESSAGE = "Anchors are not signed here: no signing key is set (WMS_ANCHOR_SIGNING_KEY)."

    def __init__(self):
        super().__init__(self.MESSAGE)
