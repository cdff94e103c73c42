"""What every app shares in the database: the generation counters (see ``common.generations``)."""
from django.db import models


class Generation(models.Model):
    """A counter that database triggers move on whenever what it names changes (``auth``: users,
    groups, permissions, tokens; ``catalog``: products, warehouses, locations), whoever changes it:
    admin, the API, the shell, ``QuerySet.update()`` or raw SQL. It moves in the changing
    transaction, so other processes see it move only once the change is committed."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"
