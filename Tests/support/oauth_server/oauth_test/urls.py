from django.urls import include, path

from . import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    # Test controls: never part of a real server.
    path("test/expire/", views.expire),
    path("test/delay/", views.delay),
    path("test/introspections/", views.introspections),
    path("test/jwt/", views.mint_jwt),
]
