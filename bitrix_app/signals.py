"""Signals other parts of the product may listen to (bitrix_app imports none of them)."""
from django.dispatch import Signal

# Sent (after commit) when a portal was uninstalled with "clear application data": arg `portal_id`.
# The data goes once no sync or delivery of the portal runs (hrsync.tasks.delete_portal_data).
portal_data_deletion_requested = Signal()
