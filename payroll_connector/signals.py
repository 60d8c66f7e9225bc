"""Signals other parts of the product may listen to (payroll_connector imports none of them)."""
from django.dispatch import Signal

# Sent after a pushed package changed a portal's source state: args `connection`, `package`.
package_processed = Signal()

# Sent after 1C confirmed or refused an outbox item (mode B): arg `item`.
outbox_acknowledged = Signal()
