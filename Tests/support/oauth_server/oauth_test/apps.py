from django.apps import AppConfig


class OAuthTestConfig(AppConfig):
    name = "oauth_test"
    default_auto_field = "django.db.models.AutoField"
