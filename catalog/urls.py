from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("categories", api.CategoryViewSet)
router.register("products", api.ProductViewSet)
router.register("warehouses", api.WarehouseViewSet)
router.register("locations", api.LocationViewSet)
router.register("lots", api.LotViewSet)

urlpatterns = router.urls
