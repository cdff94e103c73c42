import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def test_the_four_roles_exist_as_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {"clerk", "auditor", "finance", "manager"}


def test_only_managers_may_change_the_catalog():
    changers = Group.objects.filter(permissions__codename="change_product").values_list("name", flat=True)
    assert list(changers) == ["manager"]
