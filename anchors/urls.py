from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("anchors", api.AnchorViewSet)

urlpatterns = router.urls
