import pytest
from django.core.exceptions import ValidationError

from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_admin_validation_refuses_a_loop_in_the_category_tree():
    root = CategoryFactory()
    grandchild = CategoryFactory(parent=CategoryFactory(parent=root))
    root.parent = grandchild
    with pytest.raises(ValidationError, match="its own ancestor"):
        root.full_clean()
    root.parent = None
    root.full_clean()
