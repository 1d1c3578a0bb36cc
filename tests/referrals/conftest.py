from referrals.models import ReferralAccount

WITHDRAW = "/open-apis/hire/v1/referral_account/{}/withdraw"


def reload(account) -> ReferralAccount:
    return ReferralAccount.objects.get(pk=account.pk)
