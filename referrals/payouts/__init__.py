"""Payout runs: many full-cash withdrawals, prepared by one person, approved by another. The top
sub-package: it stands on the accounts, the withdrawals and the leavers. Its public side: ``services``
and ``models``.

The life of a run (``PayoutRun``):

1. **prepared** (``payout_prepare``, ``preparation``): one line per account with cash, each
   with its own ``external_order_id`` and the cash the account held then; a large run is
   prepared by a worker, *being prepared* meanwhile. Nothing moves; the approvers are told
   (``notices``).
2. **approved** or **rejected** (``approval``) by someone else holding
   ``referrals.approve_payoutrun``, with the second factor proved minutes ago (the admin's
   decision page). The decision page brings the lines to what the accounts hold at that moment
   (``payout_refresh``), and an approval of lines that changed since the page was shown is
   refused: a line records exactly what was there when the run was approved. A rejected run
   pays nothing: its lines are closed.
3. **paid**, line by line, by the outbound engine (``payment.PAY_LINE``), fed by the dispatcher
   (``dispatch``, every minute) with what one minute of each tenant's withdrawal quota
   allows. Before the first withdrawal of a line, Feishu's balance is read: a balance that is
   not the line's amount **holds** the line for a person (``payout_release``) instead of
   paying it blindly. The withdrawal carries the line's order id, Feishu's idempotency key,
   so a line retried after a lost answer or a killed worker is never paid twice.
4. **finished** when no line is left to pay.

Its progress, what was paid and the lines that need a person are ``reports``; its payroll file
is ``payroll``. A paid line also becomes a succeeded ``Withdrawal`` with the same order id, so
the account's page, the withdrawals list and the daily reconciliation
(``referrals.withdrawals.reconciliation``) all see it.
"""
