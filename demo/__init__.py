"""./dev run's demo: the demo login, and what a vendor and an HR team have after a week, seeded
in the Feishu sandbox's demo company (``manage.py bootstrap_demo``).

An app of its own, installed with the Feishu emulator only (``FEISHU_SANDBOX=1``: ./dev run, the
tests) and left out of the production image, as the emulator is: nothing of the product imports
it (pyproject.toml's contracts). Like the composition root, it names every app: ``seeds`` holds
each app's part of the demo, ``feishu`` what the seeds know of the Feishu they run against.
"""
