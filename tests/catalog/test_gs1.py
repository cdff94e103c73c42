"""GS1 element strings as scanned: both forms (FNC1 as GS, and parentheses), with and without the
symbology identifier, and every kind of malformed string refused naming what is wrong."""
from datetime import date
from decimal import Decimal

import pytest

from catalog.gs1 import GS1Invalid, GS1Scan, GTINAmbiguous, parse_gs1, product_for_gtin
from tests.factories import ProductFactory

GS = "\x1d"
GTIN = "09506000134352"  # GS1's own example; check digit 2
FULL = GS1Scan(gtin=GTIN, lot="ABC123", expires_on=date(2026, 11, 30), manufactured_on=date(2026, 5, 1), count=Decimal(12))


class TestForms:
    @pytest.mark.parametrize("identifier", ["", "]C1", "]d2", "]Q3", "]e0"])
    def test_fnc1_as_group_separator_with_or_without_symbology_identifier(self, identifier):
        scanned = f"{identifier}01{GTIN}17261130{GS}10ABC123{GS}112605013712"
        assert parse_gs1(scanned) == FULL

    def test_parentheses_form(self):
        assert parse_gs1(f"(01){GTIN}(17)261130(10)ABC123(11)260501(37)12") == FULL

    def test_parentheses_form_with_spaces_between_fields_as_printed(self):
        assert parse_gs1(f"(01){GTIN} (10)ABC123 (17)261130 (11)260501 (37)12") == FULL

    def test_fixed_length_fields_need_no_separator(self):
        # (01), (17) and (11) have fixed lengths: a variable one (10) may come last, unterminated.
        assert parse_gs1(f"01{GTIN}1726113011260501{GS}3712{GS}10ABC123") == FULL

    def test_fnc1_before_the_data_and_a_trailing_newline_are_ignored(self):
        assert parse_gs1(f"]C1{GS}01{GTIN}10LOT-7\n") == GS1Scan(gtin=GTIN, lot="LOT-7")

    def test_a_gtin_alone_has_nothing_else(self):
        assert parse_gs1(f"01{GTIN}") == GS1Scan(gtin=GTIN)

    def test_day_00_is_the_last_day_of_the_month(self):
        assert parse_gs1(f"01{GTIN}17280200").expires_on == date(2028, 2, 29)
        assert parse_gs1(f"(01){GTIN}(17)270200").expires_on == date(2027, 2, 28)

    def test_other_gs1_fields_are_checked_and_left_out(self):
        # (21) serial number and (15) best before: GS1 defines them, posting does not use them.
        assert parse_gs1(f"01{GTIN}15270101{GS}21SN-1{GS}10L1") == GS1Scan(gtin=GTIN, lot="L1")

    def test_the_same_field_twice_with_the_same_value_is_one(self):
        assert parse_gs1(f"(01){GTIN}(10)L1(10)L1").lot == "L1"


def refusal(scanned: str) -> str:
    with pytest.raises(GS1Invalid) as refused:
        parse_gs1(scanned)
    error = refused.value
    assert (error.status, error.code, error.extra["errors"]) == (400, "gs1_invalid", {"gs1": [error.detail]})
    return error.detail


class TestMalformed:
    def test_bad_check_digit(self):
        assert refusal("]C10109506000134353") == "AI (01) GTIN 09506000134353: bad check digit 3, expected 2."

    @pytest.mark.parametrize("scanned", [f"01{GTIN}2312", f"(01){GTIN}(23)12", f"(01){GTIN}(123)4"])
    def test_unknown_application_identifier(self, scanned):
        assert refusal(scanned).startswith("No GS1 Application Identifier at ")
        assert "character 17" in refusal(f"01{GTIN}2312")

    @pytest.mark.parametrize("value", ["261301", "260230", "260015", "251232"])
    def test_a_date_that_cannot_be(self, value):
        assert refusal(f"01{GTIN}17{value}") == f"AI (17) USE BY or EXPIRY: {value!r} is not a date that can be (YYMMDD)."
        assert refusal(f"(01){GTIN}(11){value}").startswith(f"AI (11) PROD DATE: {value!r} is not a date")

    def test_no_gtin(self):
        assert refusal("10ABC123") == GS1Invalid.NO_GTIN
        assert refusal("(17)261130(10)ABC") == GS1Invalid.NO_GTIN

    def test_a_field_that_does_not_match_its_format(self):
        assert refusal("(01)0950600013435") == "AI (01) GTIN: '0950600013435' does not match its format N2+N14."
        assert refusal(f"01{GTIN}37A") == "AI (37) COUNT: 'A' does not match its format N2+N..8."

    def test_one_field_with_two_values(self):
        assert refusal(f"01{GTIN}10A{GS}10B") == "AI (10) is given twice with different values ('A', 'B')."

    @pytest.mark.parametrize("scanned", [f"(01){GTIN}(10", "()12", f"(01){GTIN}()", f"(01){GTIN}(10)A)"])
    def test_malformed_parentheses(self, scanned):
        assert refusal(scanned) == GS1Invalid.PARENTHESES

    def test_a_field_without_parentheses_in_the_parentheses_form_is_part_of_the_one_before(self):
        assert refusal(f"(01){GTIN}10ABC").startswith(f"AI (01) GTIN: '{GTIN}10ABC' does not match")

    @pytest.mark.parametrize("scanned", [f"]E001{GTIN}", f"]X101{GTIN}", f"]J101{GTIN}", "]", "]C"])
    def test_a_symbology_without_gs1_element_strings(self, scanned):
        assert "is not a symbology that carries GS1 element strings" in refusal(scanned)

    @pytest.mark.parametrize("scanned", ["", "   ", "\n"])
    def test_empty(self, scanned):
        assert refusal(scanned) == GS1Invalid.EMPTY


@pytest.mark.django_db
class TestProductForGtin:
    @pytest.mark.parametrize("barcode", ["96385074", "00000096385074", "0000096385074", "000096385074"])
    def test_gtin_8_matches_whatever_length_the_barcode_is_written_at(self, barcode):
        product = ProductFactory(barcode=barcode)
        assert product_for_gtin("00000096385074") == product

    @pytest.mark.parametrize("barcode", ["036000291452", "0036000291452", "00036000291452"])
    def test_gtin_12(self, barcode):
        product = ProductFactory(barcode=barcode)
        assert product_for_gtin("00036000291452") == product

    def test_gtin_13_and_14(self):
        ean, itf = ProductFactory(barcode="4006381333931"), ProductFactory(barcode=GTIN)
        assert (product_for_gtin("04006381333931"), product_for_gtin(GTIN)) == (ean, itf)

    def test_a_shorter_form_is_only_read_where_the_digits_dropped_are_zeros(self):
        ProductFactory(barcode="6381333931")  # not a GTIN length: never compared
        ProductFactory(barcode="96385074")
        assert product_for_gtin("10000096385074") is None
        assert product_for_gtin("04006381333931") is None

    def test_one_gtin_on_two_products_is_ambiguous(self):
        ProductFactory(sku="A", barcode="036000291452")
        ProductFactory(sku="B", barcode="0036000291452")
        with pytest.raises(GTINAmbiguous) as refused:
            product_for_gtin("00036000291452")
        assert refused.value.status == 409 and "(A, B)" in refused.value.detail

    def test_the_scan_leads_to_the_product(self):
        product = ProductFactory(barcode="9506000134352")
        assert product_for_gtin(parse_gs1(f"]d201{GTIN}10L1").gtin) == product
