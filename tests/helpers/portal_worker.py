"""A separate process that calls a portal through the product's client (for concurrency tests).

usage: python -m tests.helpers.portal_worker PORTAL_ID START_AT CALLS METHOD
Waits until START_AT (unix time) so that several workers hit the portal together, then prints JSON.
"""
import json
import sys
import time

import django


def main() -> None:
    django.setup()
    from bitrix_app.client import BitrixClient, BitrixError
    from bitrix_app.models import Portal

    portal_id, start_at, calls, method = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    client = BitrixClient.for_portal(Portal.objects.get(pk=portal_id))
    time.sleep(max(0.0, start_at - time.time()))
    errors = []
    for _ in range(calls):
        try:
            client.call(method)
        except BitrixError as exc:
            errors.append(f"{type(exc).__name__}: {exc.message}")
    print(json.dumps({"http_calls": client.stats.http_calls, "retries": client.stats.retries,
                      "renewals": client.stats.token_renewals, "errors": errors}))


if __name__ == "__main__":
    main()
