"""Demo data for the embedded default: one user per role, an admin, a small catalog, and a
first day of movements posted through the ledger's own service.

Safe to run again: what exists is kept. Prints the credentials and API tokens. Refuses to run in
production mode: demo users have passwords anyone can read here.
"""
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.roles import AUDITOR, MANAGER, ROLE_DESCRIPTIONS, ROLES
from catalog.models import Category, Location, Product, Warehouse
from ledger.models import Movement
from ledger.parsing import parse_movement
from ledger.services import movements_post

DEMO_PASSWORD_SUFFIX = "-demo-pass"
REFUSED_IN_PRODUCTION = (
    "seed_demo creates users with published passwords and refuses to run in production mode "
    "(DATABASE_URL and CELERY_BROKER_URL are set)."
)


class Command(BaseCommand):
    help = "Create demo users (one per role, plus an admin) and a small demo catalog."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(REFUSED_IN_PRODUCTION)
        with transaction.atomic():
            users = self._users()
            self._catalog()
            if not Movement.objects.exists():
                self._movements(User.objects.get(username="clerk"))
        self.stdout.write(self.style.SUCCESS("Demo users (username / password / API token):"))
        for user, description in users:
            token, _ = Token.objects.get_or_create(user=user)
            self.stdout.write(
                f"  {user.username:<8} {user.username + DEMO_PASSWORD_SUFFIX:<18} {token.key}  ({description})"
            )

    def _users(self) -> list[tuple[User, str]]:
        created = []
        admin, made = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if made:
            admin.set_password("admin" + DEMO_PASSWORD_SUFFIX)
            admin.save()
        created.append((admin, "superuser: Django admin, users and groups"))
        for role in ROLES:
            # Admin for those who work in it: managers keep the catalog there, auditors read the
            # ledger, the closes, the anchors and the master-data history there.
            user, made = User.objects.get_or_create(username=role, defaults={"is_staff": role in (MANAGER, AUDITOR)})
            if made:
                user.set_password(role + DEMO_PASSWORD_SUFFIX)
                user.save()
                user.groups.add(Group.objects.get(name=role))
            created.append((user, ROLE_DESCRIPTIONS[role]))
        return created

    def _catalog(self) -> None:
        hardware, _ = Category.objects.get_or_create(name="Hardware", parent=None)
        fasteners, _ = Category.objects.get_or_create(name="Fasteners", parent=hardware)
        paint, _ = Category.objects.get_or_create(name="Paint", parent=None)
        products = [
            ("BOLT-M8", "Hex bolt M8x40", fasteners, "ea", "4006381333931", "0.1200", "500"),
            ("NUT-M8", "Hex nut M8", fasteners, "ea", "4006381333948", "0.0400", "500"),
            ("DRILL-18V", "Cordless drill 18V", hardware, "ea", "4006381333955", "89.9000", "5"),
            ("PAINT-W10", "White wall paint 10 l", paint, "l", "4006381333962", "3.5000", "40"),
            ("CABLE-3x1.5", "Cable 3x1.5 mm2", hardware, "m", None, "0.8500", "100"),
        ]
        for sku, name, category, unit, barcode, price, reorder in products:
            Product.objects.get_or_create(
                sku=sku,
                defaults={
                    "name": name, "category": category, "unit": unit, "barcode": barcode,
                    "unit_price": Decimal(price), "reorder_point": Decimal(reorder),
                },
            )
        for code, name in [("MAIN", "Main warehouse"), ("EAST", "East depot")]:
            warehouse, _ = Warehouse.objects.get_or_create(code=code, defaults={"name": name})
            for bin_code in ("RECV", "A-01", "A-02", "B-01"):
                Location.objects.get_or_create(warehouse=warehouse, code=bin_code)

    def _movements(self, clerk: User) -> None:
        product = {p.sku: p.pk for p in Product.objects.all()}
        location = {f"{l.warehouse.code}/{l.code}": l.pk for l in Location.objects.select_related("warehouse")}
        items = [
            {"kind": "receipt", "product": product["BOLT-M8"], "location": location["MAIN/RECV"], "quantity": "2000", "unit_cost": "0.0800", "reference": "PO-1001"},
            {"kind": "receipt", "product": product["NUT-M8"], "location": location["MAIN/RECV"], "quantity": "2000", "unit_cost": "0.0250", "reference": "PO-1001"},
            {"kind": "receipt", "product": product["DRILL-18V"], "location": location["MAIN/RECV"], "quantity": "12", "unit_cost": "61.5000", "reference": "PO-1002"},
            {"kind": "receipt", "product": product["PAINT-W10"], "location": location["EAST/RECV"], "quantity": "300", "unit_cost": "2.1000", "reference": "PO-1003"},
            {"kind": "transfer", "product": product["BOLT-M8"], "from_location": location["MAIN/RECV"], "to_location": location["MAIN/A-01"], "quantity": "1500", "reference": "PUT-1"},
            {"kind": "transfer", "product": product["NUT-M8"], "from_location": location["MAIN/RECV"], "to_location": location["MAIN/A-02"], "quantity": "1500", "reference": "PUT-1"},
            {"kind": "issue", "product": product["BOLT-M8"], "location": location["MAIN/A-01"], "quantity": "120", "reference": "SO-77"},
            {"kind": "issue", "product": product["DRILL-18V"], "location": location["MAIN/RECV"], "quantity": "2", "reference": "SO-78"},
            {"kind": "count", "product": product["PAINT-W10"], "location": location["EAST/RECV"], "counted_quantity": "297", "reason": "cycle count"},
        ]
        movements_post(user=clerk, movements=[parse_movement(item) for item in items])
