"""What the scanning page reads: the codes a scanner may meet, and who may post."""
from catalog.models import Location, Product

POST_PERMISSION = "ledger.add_movement"


def location_code(location: Location) -> str:
    """What a location's label carries: its barcode, or WAREHOUSE/CODE when it has none."""
    return location.barcode or f"{location.warehouse.code}/{location.code}"


def product_code(product: Product) -> str:
    """What a product's label carries: its barcode, or its SKU when it has none."""
    return product.barcode or product.sku


def scan_codes() -> dict:
    """Every active location and product under each code a scanner may read for it (a location's
    barcode and WAREHOUSE/CODE; a product's barcode and SKU). The page keeps this in IndexedDB and
    resolves scans from it, so that scanning goes on without a network."""
    locations = [
        {"id": loc.pk, "label": str(loc), "codes": sorted({location_code(loc), f"{loc.warehouse.code}/{loc.code}"})}
        for loc in Location.objects.filter(is_active=True, warehouse__is_active=True).select_related("warehouse")
    ]
    products = [
        {"id": p.pk, "sku": p.sku, "name": p.name, "unit": p.unit, "codes": sorted({p.sku, *([p.barcode] if p.barcode else [])})}
        for p in Product.objects.filter(is_active=True).order_by("sku")
    ]
    return {"locations": locations, "products": products}


def label_rows() -> dict:
    """The labels to print: each active location and product with the code its label carries."""
    locations = Location.objects.filter(is_active=True, warehouse__is_active=True).select_related("warehouse")
    products = Product.objects.filter(is_active=True).order_by("sku")
    return {
        "locations": [(str(loc), loc.name, location_code(loc)) for loc in locations],
        "products": [(p.sku, p.name, product_code(p)) for p in products],
    }
