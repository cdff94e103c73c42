"""What the ledger announces. Sent after the posting transaction commits, never inside it."""
from django.dispatch import Signal

# kwargs: last_position (int), the highest position the committed posting appended.
movements_committed = Signal()
