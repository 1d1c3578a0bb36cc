"""What other apps may react to without the vendor side naming them."""

from django.dispatch import Signal

# A binding's status or customer changed (matching, or a person's decision), inside the
# transaction that records it: sender=EcoAccountBinding, binding=the row as saved. Receivers
# queue any Feishu call on commit (the vendor orders follow their account's customer).
binding_changed = Signal()
