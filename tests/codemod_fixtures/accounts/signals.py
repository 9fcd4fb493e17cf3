from django import dispatch
from django.dispatch import Signal as DjangoSignal, receiver  # noqa: F401

# Fired once the user clicked the link in the confirmation e-mail.
email_confirmed = dispatch.Signal()

password_changed = DjangoSignal(
    # Cache the receivers per sender: this one is sent on every login.
    use_caching=True,
)  # see accounts.views.PasswordChangeView


@dispatch.receiver(email_confirmed)
def activate_account(sender, user, **kwargs):
    user.is_active = True
    user.save(update_fields=["is_active"])
