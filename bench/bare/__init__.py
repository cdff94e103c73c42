"""The bare DRF ceiling: a minimal serializer and the two SQL statements any posting needs
(check-and-change a balance, insert an event), served like the product but never in its URLs."""
