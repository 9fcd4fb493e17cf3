from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("register/", views.register, name="register"),
    path("orders/", views.orders, name="orders"),
    path("warehouse/api/shipments/", views.fake_warehouse_api, name="fake-warehouse-api"),
]
