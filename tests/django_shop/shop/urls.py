"""One URL: the inbound webhook."""

from django.urls import path

from . import views

urlpatterns = [path("inbound", views.inbound)]
