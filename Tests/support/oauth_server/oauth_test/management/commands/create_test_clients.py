"""Creates the two confidential client-credentials applications the tests use: the API client
that gets tokens, and the one authzd authenticates with to introspect them. Client ids and
secrets come from the command line (the test chooses them)."""
from django.core.management.base import BaseCommand
from oauth2_provider.models import get_application_model


class Command(BaseCommand):
    help = "create the test's OAuth clients"

    def add_arguments(self, parser):
        parser.add_argument("--client", nargs=2, action="append", metavar=("ID", "SECRET"), required=True)

    def handle(self, *args, **options):
        application = get_application_model()
        for client_id, secret in options["client"]:
            application.objects.update_or_create(
                client_id=client_id,
                defaults={
                    "name": client_id,
                    "client_secret": secret,
                    "client_type": application.CLIENT_CONFIDENTIAL,
                    "authorization_grant_type": application.GRANT_CLIENT_CREDENTIALS,
                    "algorithm": application.RS256_ALGORITHM,
                },
            )
