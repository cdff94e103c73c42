"""Master-data history (history/, django-pghistory)."""

# When a change was made, as the triggers record it: the statement's moment on PostgreSQL (NOW()
# is the transaction's start, the same for every change in it; SQLite's triggers take the moment).
PGHISTORY_CREATED_AT_FUNCTION = "CLOCK_TIMESTAMP()"
