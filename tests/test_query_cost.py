"""Issue 15, part 1: the database is not what paces a run. A chunk's outcomes, journal rows and mappings are
written in bulk, one statement per table, in one transaction after the chunk (intents before it), so a run
costs at most one SQL statement per operation on average, counted with Django's query capture."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hrsync.models import OperationStatus, PersonMapping, SyncedAbsence
from hrsync.services import run_sync
from payroll_connector.services import connect_odata
from tests.conftest import ZUP_TODAY


def test_a_run_costs_at_most_one_sql_statement_per_operation(installed, zup):
    sandbox, portal = installed
    connect_odata(portal, url=zup.odata_url, username="odata", password="secret")
    with CaptureQueriesContext(connection) as queries:
        run = run_sync(portal, today=ZUP_TODAY)
    operations = run.operations.count()
    assert operations > 300 and run.outcome["failed"] == 0
    assert len(queries) <= operations, f"{len(queries)} statements for {operations} operations"
    # Everything is where it was before the bulk writes: outcomes, mappings, absences.
    assert run.operations.filter(status=OperationStatus.DONE).count() == run.outcome["done"] == operations
    assert PersonMapping.objects.filter(portal=portal).count() == run.planned["CreateUser"]
    assert SyncedAbsence.objects.filter(portal=portal).count() == run.planned["AddAbsence"]
    print(f"{len(queries)} SQL statements for {operations} operations")
