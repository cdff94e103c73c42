import re
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from ledger import csv_import
from ledger.models import Movement
from ledger.parsing import MAX_KEY
from ledger.services import movements_post

from .helpers import guard_quantity

pytestmark = pytest.mark.django_db

HEADER = "kind,sku,location,from_location,to_location,quantity,counted_quantity,unit_cost,reference\n"
NOTHING_IMPORTED = csv_import.ROWS_REFUSED.format(count=1)
FILE_REFUSED = csv_import.FILE_REFUSED


@pytest.fixture
def csv_file(tmp_path):
    def write(*rows, name="movements.csv", header=HEADER):
        path = tmp_path / name
        path.write_text(header + "".join(row + "\n" for row in rows))
        return str(path)

    return write


def run(path, user, *args):
    call_command("import_movements", path, "--user", user.username, *args)


def receipts(count, location="MAIN/A-01"):
    return [f"receipt,BOLT-M8,{location},,,1,,,PO-{n}" for n in range(count)]


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


def test_rerunning_an_unchanged_file_of_60_rows_posts_nothing(csv_file, clerk, product, bins, capsys):
    """60 rows take the bulk append path (COPY on PostgreSQL); its duplicate keys must still be
    answered from the ledger, not refused."""
    path = csv_file(*receipts(60))
    run(path, clerk)
    run(path, clerk)
    assert capsys.readouterr().out.splitlines()[-1] == "60 rows: 0 posted, 60 already in the ledger."
    assert Movement.objects.count() == 60
    assert guard_quantity(product, bins[0]) == 60


def test_a_corrected_file_resumes_where_the_failed_import_stopped(csv_file, clerk, product, bins, capsys):
    rows = [
        "receipt,BOLT-M8,MAIN/A-01,,,10,,,R-1",
        "receipt,BOLT-M8,MAIN/A-02,,,5,,,R-2",
        "issue,BOLT-M8,MAIN/A-01,,,3,,,I-3",
        "transfer,BOLT-M8,,MAIN/A-01,MAIN/A-02,2,,,T-4",
        "issue,BOLT-M8,MAIN/A-02,,,50,,,I-5",  # line 6: more than the 7 on hand
        "receipt,BOLT-M8,MAIN/A-01,,,4,,,R-6",
        "issue,BOLT-M8,MAIN/A-01,,,1,,,I-7",
    ]
    path = csv_file(*rows)
    with pytest.raises(CommandError) as refused:
        run(path, clerk, "--commit-every-batch", "--batch-size", "2")
    assert "the 4 rows before line 6 are in the ledger (4 posted now, 0 already there)" in str(refused.value)
    assert "line 6: Only 7 on hand of BOLT-M8 at MAIN/A-02; 50 requested." in capsys.readouterr().err
    assert Movement.objects.count() == 4

    rows[4] = "issue,BOLT-M8,MAIN/A-02,,,5,,,I-5"  # the clerk fixes row 5 in the same file
    csv_file(*rows)
    run(path, clerk, "--commit-every-batch", "--batch-size", "2")

    assert capsys.readouterr().out.splitlines()[-1] == "7 rows: 3 posted, 4 already in the ledger."
    assert sorted(Movement.objects.values_list("reference", flat=True)) == sorted(r.rsplit(",", 1)[1] for r in rows)
    assert (guard_quantity(product, bins[0]), guard_quantity(product, bins[1])) == (8, 2)


def test_a_row_keeps_its_key_however_its_values_are_written(csv_file, clerk, product, bins, capsys):
    header = HEADER.replace("reference", "occurred_at,reference")
    csv_file("receipt,BOLT-M8,MAIN/A-01,,,10,,,2026-01-05T09:00:00Z,PO-1", header=header)
    run(csv_file("receipt, BOLT-M8 ,MAIN/A-01,,,10.000,,,2026-01-05T11:00:00+02:00,PO-1 ", header=header), clerk)
    path = csv_file("receipt,BOLT-M8,MAIN/A-01,,,10,,,2026-01-05T09:00:00Z,PO-1", header=header)
    run(path, clerk)
    assert capsys.readouterr().out.splitlines()[-1] == "1 rows: 0 posted, 1 already in the ledger."
    assert Movement.objects.count() == 1


def test_identical_rows_are_two_movements(csv_file, clerk, product, bins, capsys):
    path = csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1", "receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1")
    run(path, clerk)
    run(path, clerk)
    assert capsys.readouterr().out.splitlines() == [
        "2 rows: 2 posted, 0 already in the ledger.",
        "2 rows: 0 posted, 2 already in the ledger.",
    ]
    assert guard_quantity(product, bins[0]) == 2


def test_two_files_with_the_same_rows_both_post(csv_file, clerk, product, bins):
    run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1", name="monday.csv"), clerk)
    run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1", name="tuesday.csv"), clerk)
    assert Movement.objects.count() == 2


def test_an_import_id_resumes_a_renamed_file_and_separates_equal_ones(csv_file, clerk, product, bins, capsys):
    run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1", name="monday.csv"), clerk)
    run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1", name="monday-fixed.csv"), clerk, "--import-id", "monday.csv")
    assert "1 already in the ledger" in capsys.readouterr().out
    run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1", name="monday.csv"), clerk, "--import-id", "second run")
    assert Movement.objects.count() == 2


def test_row_keys_are_printable_and_fit_the_key_column(csv_file, clerk, product, bins):
    run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1", name="é" * 50 + "x" * 150 + ".csv"), clerk)
    run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1"), clerk, "--import-id", "ERP export: " + "9" * 200)
    keys = list(Movement.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == 2
    assert all(key.startswith("csv:") and key.isprintable() and len(key) <= MAX_KEY for key in keys)


def test_an_import_id_must_be_printable(csv_file, clerk, product, bins):
    with pytest.raises(CommandError, match=re.escape(FILE_REFUSED)):
        run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1"), clerk, "--import-id", "a\tb")
    assert not Movement.objects.exists()


def test_an_idempotency_key_column_is_the_rows_key(csv_file, clerk, product, bins, capsys):
    header = HEADER.replace("reference", "reference,idempotency_key")
    run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1,ERP-7/10", "receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1,", header=header), clerk)
    run(csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1,ERP-7/10", name="other.csv", header=header), clerk)
    assert "1 rows: 0 posted, 1 already in the ledger." in capsys.readouterr().out
    assert Movement.objects.filter(idempotency_key="ERP-7/10").count() == 1
    assert Movement.objects.count() == 2


def test_a_key_used_twice_in_the_file_is_refused_with_both_lines(csv_file, clerk, product, bins, capsys):
    header = HEADER.replace("reference", "reference,idempotency_key")
    path = csv_file("receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1,K-1", "receipt,BOLT-M8,MAIN/A-01,,,2,,,PO-2,K-1", header=header)
    with pytest.raises(CommandError, match="1 bad row"):
        run(path, clerk)
    assert "line 3: idempotency_key: 'K-1' is already used on line 2." in capsys.readouterr().err
    assert not Movement.objects.exists()


def test_a_whole_file_is_posted_in_one_call_that_locks_the_head_only_to_append(csv_file, clerk, product, bins, capsys):
    """One posting for the whole file: the service checks and plans every row before it takes
    the head's lock; chunks inside an outer transaction would hold the head from the first."""
    with mock.patch.object(csv_import, "movements_post", wraps=movements_post) as spy:
        run(csv_file(*receipts(5)), clerk, "--batch-size", "2")
    [call] = spy.call_args_list
    assert len(call.kwargs["movements"]) == 5 and call.kwargs["max_batch"] is None
    assert "--batch-size is ignored without --commit-every-batch" in capsys.readouterr().err
    assert Movement.objects.count() == 5


def test_commit_every_batch_posts_each_batch_in_its_own_call(csv_file, clerk, product, bins):
    with mock.patch.object(csv_import, "movements_post", wraps=movements_post) as spy:
        run(csv_file(*receipts(5)), clerk, "--commit-every-batch", "--batch-size", "2")
    assert [len(call.kwargs["movements"]) for call in spy.call_args_list] == [2, 2, 1]


def test_every_bad_row_is_reported_and_nothing_is_imported(csv_file, clerk, product, bins, capsys):
    path = csv_file(
        "receipt,BOLT-M8,MAIN/A-01,,,10,,,ok",
        "receipt,NOPE,MAIN/A-01,,,10,,,unknown sku",
        "issue,BOLT-M8,MAIN/Z-99,,,1,,,unknown bin",
        "",
        "receipt,BOLT-M8,MAIN/A-01,,,-1,,,negative",
    )
    with pytest.raises(CommandError, match="3 bad row"):
        run(path, clerk)
    errors = capsys.readouterr().err
    assert "line 3: sku" in errors and "line 4: location" in errors and "line 6: quantity" in errors
    assert not Movement.objects.exists()


def test_a_shortage_names_its_line_and_rolls_back_the_file(csv_file, clerk, product, bins, capsys):
    path = csv_file("receipt,BOLT-M8,MAIN/A-01,,,2,,,ok", "issue,BOLT-M8,MAIN/A-01,,,5,,,too many")
    with pytest.raises(CommandError, match=re.escape(NOTHING_IMPORTED)):
        run(path, clerk)
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


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path, clerk, product, bins):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "receipt,BOLT-M8,MAIN/A-01,,,2,,,x\n").encode())
    run(str(path), clerk)
    assert Movement.objects.count() == 1


OK_ROW = b"receipt,BOLT-M8,MAIN/A-01,,,1,,,ok\n"
PREFIX = HEADER.encode() + OK_ROW
NOT_UTF8 = PREFIX + b"receipt,BOLT-M8,MAIN/A-01,,,1,,,caf\xe9\n"


@pytest.mark.parametrize(
    ("content", "error", "summary"),
    [
        pytest.param(
            NOT_UTF8, f"line 3: Not UTF-8 text: byte 0xE9 at byte offset {NOT_UTF8.index(0xE9)} cannot be decoded",
            FILE_REFUSED, id="not-utf8",
        ),
        pytest.param(
            "kind,sku,quantity\n".encode("utf-16"), "line 1: Not UTF-8 text: byte 0xFF at byte offset 0",
            FILE_REFUSED, id="utf16",
        ),
        pytest.param(
            PREFIX + b"receipt,BOLT-M8,MAIN/A-01,,,1,,,P\x00O\n", "line 3: A NUL character", FILE_REFUSED, id="nul",
        ),
        pytest.param(
            PREFIX + b'receipt,BOLT-M8,MAIN/A-01,,,1,,,"PO-1\n' + OK_ROW,
            "line 3: Malformed CSV: unexpected end of data (a quote opened here is never closed).",
            NOTHING_IMPORTED, id="unterminated-quote",
        ),
        pytest.param(
            PREFIX + b'receipt,BOLT-M8,MAIN/A-01,,,1,,,"PO"-1\n',
            "line 3: Malformed CSV: ',' expected after '\"'.", NOTHING_IMPORTED, id="stray-quote",
        ),
        pytest.param(
            PREFIX + b"receipt,BOLT-M8,MAIN/A-01,,,1,,,PO-1,2\n",
            "line 3: 10 values but the header has 9 columns (more than it names", NOTHING_IMPORTED, id="extra-values",
        ),
        pytest.param(
            PREFIX + b"receipt,BOLT-M8,MAIN/A-01,,,1\n",
            "line 3: 6 values but the header has 9 columns (fewer than it names", NOTHING_IMPORTED, id="missing-values",
        ),
        pytest.param(b"", "line 1: The file is empty", FILE_REFUSED, id="empty"),
        pytest.param(HEADER.encode(), "line 2: No movements", FILE_REFUSED, id="header-only"),
        pytest.param(b"\n" + OK_ROW, "line 1: No header", FILE_REFUSED, id="blank-header"),
        pytest.param(
            b"kind,sku,location,quantity,sku\n", "line 1: Bad header: column(s) named more than once: 'sku'.",
            FILE_REFUSED, id="repeated-column",
        ),
        pytest.param(b"kind,sku,qty\nreceipt,X,1\n", "line 1: Bad header: unknown column(s) 'qty'", FILE_REFUSED, id="unknown-column"),
        pytest.param(b"kind,sku,,quantity\n", "line 1: Bad header: column 3 has no name.", FILE_REFUSED, id="unnamed-column"),
    ],
)
def test_a_malformed_file_is_refused_with_its_line(tmp_path, clerk, product, bins, capsys, content, error, summary):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError) as refused:
        run(str(path), clerk)
    assert str(refused.value) == summary
    assert capsys.readouterr().err.startswith(error)
    assert not Movement.objects.exists()


def test_a_missing_file_is_refused(tmp_path, clerk, db, capsys):
    with pytest.raises(CommandError, match=re.escape(FILE_REFUSED)):
        run(str(tmp_path / "nope.csv"), clerk)
    assert capsys.readouterr().err == f"No file {str(tmp_path / 'nope.csv')!r}.\n"


def test_a_directory_is_refused(tmp_path, clerk, db, capsys):
    with pytest.raises(CommandError, match=re.escape(FILE_REFUSED)):
        run(str(tmp_path), clerk)
    assert capsys.readouterr().err == f"{str(tmp_path)!r} is a directory, not a CSV file.\n"


def test_an_import_carries_lots_and_their_expiry(csv_file, clerk, bins, capsys):
    from catalog.models import Lot, Tracking
    from tests.factories import ProductFactory

    ProductFactory(sku="MILK-1L", tracking=Tracking.LOT)
    header = "kind,sku,location,quantity,lot,expires_on,reference\n"
    path = csv_file(
        "receipt,MILK-1L,MAIN/A-01,5,L-1,2031-01-31,PO-1",
        "receipt,MILK-1L,MAIN/A-01,5,L-2,2030-06-30,PO-2",
        "issue,MILK-1L,MAIN/A-01,7,,,SO-1",
        header=header,
    )
    run(path, clerk)
    assert "3 rows: 3 posted" in capsys.readouterr().out
    assert Lot.objects.get(code="L-2").expires_on.isoformat() == "2030-06-30"
    issued = Movement.objects.filter(kind="issue").order_by("position")
    assert [(event.lot.code, event.quantity) for event in issued] == [("L-2", 5), ("L-1", 2)]
    run(path, clerk)  # a rerun posts nothing twice, the split issue included
    assert "3 rows: 0 posted" in capsys.readouterr().out and Movement.objects.count() == 4
