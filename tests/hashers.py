"""The suite's password hasher: Django's PBKDF2 at one iteration instead of a million.

Staff users are created and sign in by the hundred in the tests, and the production hasher's
deliberate cost (0.4 s a hash here) added minutes of CPU to a run for nothing a test checks.
It keeps PBKDF2's name and format, with the iteration count in the hash, so a server started
with the production settings (``admin_server``) still verifies these passwords (and upgrades
them, as it would any older hash, at the first sign-in).
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class OneIterationPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1
