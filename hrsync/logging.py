"""Log filter that masks OAuth tokens and passwords wherever they would be printed."""
import logging
import re

# auth=…, access_token=…, refresh_token=…, AUTH_ID=…, REFRESH_ID=…, client_secret=…, password=…,
# in query strings, form bodies, JSON ("key": "value") and reprs ('key': 'value').
_SECRET = re.compile(
    r"""(?P<key>\b(?:auth|access_token|refresh_token|AUTH_ID|REFRESH_ID|client_secret|password|application_token|APPLICATION_TOKEN)\b["']?\s*[=:]\s*["']?)(?P<value>[^&\s"',}]+)""",
)


def mask_secrets(text: str) -> str:
    return _SECRET.sub(lambda m: m.group("key") + "***", text)


class MaskSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = mask_secrets(str(record.msg))
        return True
