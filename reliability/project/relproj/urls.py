from django.urls import path
from relapp import views

urlpatterns = [
    path("save/<str:rid>/", views.save),
    path("fail/<str:rid>/", views.fail),
    path("health/", views.health),
    path("stats/", views.stats),
    path("asend/<str:rid>/", views.asend),
    path("noop/<str:rid>/", views.noop),
    path("lag/", views.lag),
    path("lag/reset/", views.lag_reset),
    path("astats/", views.astats),
]
