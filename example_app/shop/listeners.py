"""Listeners of named events. django-eventx imports every installed app's
listeners.py at start-up (EVENTX_AUTODISCOVER), so nothing connects them by
hand. Events are triggered with trigger_event("user_registered", user=user).
"""

from django.core.mail import send_mail

from eventx_signals import event_listener


# The listener names just the argument it uses; it could also take
# (sender, **kwargs) like a signal receiver.
@event_listener("user_registered")
def send_welcome_email(user):
    """E-mail the new user (an SMTP round trip), off the request path."""
    send_mail(
        subject=f"Welcome to the shop, {user.username}!",
        message=(
            f"Hello {user.username},\n\nthanks for registering. Your first order ships for free.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )
