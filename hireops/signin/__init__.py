"""Staff sign-in: with Feishu (OAuth web login, django-allauth's Feishu provider) beside the
password form, and a second factor (allauth.mfa: TOTP, recovery codes, security keys) for
whoever's permissions can move money or change roles. The admin keeps its own login page and
django-axes; allauth serves the Feishu round trip and the second-factor pages."""
