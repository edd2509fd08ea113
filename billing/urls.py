from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("plans/", views.plans, name="plans"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/done/", views.checkout_success, name="checkout_success"),
    path("portal/", views.portal, name="portal"),
    path("stripe/webhook/", views.webhook, name="webhook"),
]
