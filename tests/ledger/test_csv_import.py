import pytest
from django.core.management import CommandError, call_command

from ledger.models import Movement

from .helpers import guard_quantity

pytestmark = pytest.mark.django_db

HEADER = "kind,sku,location,from_location,to_location,quantity,counted_quantity,unit_cost,reference\n"


@pytest.fixture
def csv_file(tmp_path):
    def write(*rows):
        path = tmp_path / "movements.csv"
        path.write_text(HEADER + "".join(row + "\n" for row in rows))
        return str(path)

    return write


def run(path, user, *args):
    call_command("import_movements", path, "--user", user.username, *args)


def test_import_posts_every_row_in_order(csv_file, clerk, product, bins, capsys):
    path = csv_file(
        "receipt,BOLT-M8,MAIN/A-01,,,10,,1.25,PO-1",
        "transfer,BOLT-M8,,MAIN/A-01,MAIN/A-02,4,,,T-1",
        "count,BOLT-M8,MAIN/A-02,,,,3,,C-1",
    )
    run(path, clerk)
    assert "3 rows: 3 posted" in capsys.readouterr().out
    assert list(Movement.objects.values_list("kind", flat=True)) == ["receipt", "transfer", "count"]
    assert (guard_quantity(product, bins[0]), guard_quantity(product, bins[1])) == (6, 3)


def test_importing_the_same_file_again_posts_nothing_twice(csv_file, clerk, product, bins, capsys):
    path = csv_file("receipt,BOLT-M8,MAIN/A-01,,,10,,,PO-1")
    run(path, clerk)
    run(path, clerk)
    assert "1 already in the ledger" in capsys.readouterr().out
    assert Movement.objects.count() == 1


def test_every_bad_row_is_reported_and_nothing_is_imported(csv_file, clerk, product, bins, capsys):
    path = csv_file(
        "receipt,BOLT-M8,MAIN/A-01,,,10,,,ok",
        "receipt,NOPE,MAIN/A-01,,,10,,,unknown sku",
        "issue,BOLT-M8,MAIN/Z-99,,,1,,,unknown bin",
        "receipt,BOLT-M8,MAIN/A-01,,,-1,,,negative",
    )
    with pytest.raises(CommandError, match="3 bad row"):
        run(path, clerk)
    errors = capsys.readouterr().err
    assert "line 3: sku" in errors and "line 4: location" in errors and "line 5: quantity" in errors
    assert not Movement.objects.exists()


def test_a_shortage_names_its_line_and_rolls_back_the_file(csv_file, clerk, product, bins, capsys):
    path = csv_file("receipt,BOLT-M8,MAIN/A-01,,,2,,,ok", "issue,BOLT-M8,MAIN/A-01,,,5,,,too many")
    with pytest.raises(CommandError):
        run(path, clerk, "--batch-size", "1")
    assert "line 3: Only 2 on hand" in capsys.readouterr().err
    assert not Movement.objects.exists()


def test_commit_every_batch_keeps_what_was_posted_and_resumes(csv_file, clerk, product, bins, post):
    path = csv_file("receipt,BOLT-M8,MAIN/A-01,,,2,,,ok", "issue,BOLT-M8,MAIN/A-01,,,5,,,too many")
    with pytest.raises(CommandError):
        run(path, clerk, "--batch-size", "1", "--commit-every-batch")
    assert Movement.objects.count() == 1
    post(kind="receipt", product=product.pk, location=bins[0].pk, quantity="3")
    run(path, clerk, "--commit-every-batch")
    assert Movement.objects.count() == 3
    assert guard_quantity(product, bins[0]) == 0


def test_only_posting_users_may_import(csv_file, auditor, product, bins):
    with pytest.raises(CommandError, match="may not post"):
        run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,2,,,x"), auditor)


def test_unknown_columns_are_refused(tmp_path, clerk, db):
    path = tmp_path / "bad.csv"
    path.write_text("kind,sku,qty\nreceipt,X,1\n")
    with pytest.raises(CommandError):
        call_command("import_movements", str(path), "--user", clerk.username)
