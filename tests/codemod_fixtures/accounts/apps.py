from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    label = "user_accounts"
    verbose_name = "User accounts"
