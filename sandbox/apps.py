from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    label = "sandbox"
    verbose_name = "Feishu sandbox"

    def ready(self):
        from django.conf import settings

        from demo import feishu as demo_feishu

        from .state import DEMO_DIRECTORY, load_directory

        # The demo's seed mirrors the sandbox's directory (its referral accounts).
        demo_feishu.provide_directory(
            lambda: load_directory(settings.SANDBOX_DIRECTORY_FILE or DEMO_DIRECTORY)
        )
