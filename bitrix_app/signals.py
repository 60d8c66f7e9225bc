"""Signals other parts of the product may listen to (bitrix_app imports none of them)."""
from django.dispatch import Signal

# Sent (after commit) when a portal was uninstalled with "clear application data": arg `portal_id`.
# The data goes once no sync or delivery of the portal runs (hrsync.tasks.delete_portal_data).
portal_data_deletion_requested = Signal()

# Sent after a portal was installed (or reinstalled) and its events bound: arg `portal`. The sync side
# registers its workflow action then; a portal without the bizproc scope goes without it.
portal_installed = Signal()
