"""The sandboxes serve the clients integrators use against real portals and 1C bases (issue 9).

Each client is a test-only dependency (README, "Dependencies"): b24pysdk (the official Bitrix24 SDK; it only
speaks https://<domain>/rest/, so its portal runs over TLS with a certificate made here), fast_bitrix24
(incoming webhooks, batches with its `__order` key), python-1c-odata (async, reads `$metadata`) and
PyOData1C (pydantic models, `$select` with tabular-section paths). What each one trips over on a sandbox
that answers differently is what these tests pin.
"""
from __future__ import annotations

import asyncio
import datetime
import ipaddress

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sandbox.bitrix24.server import start_portal
from sandbox.bitrix24.state import AppRegistration
from tests.conftest import ZUP_TODAY

USERS = 120


def _certificate(directory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1, trusted by `requests` through REQUESTS_CA_BUNDLE."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def _portal(*, tls=None):
    running = start_portal(app=AppRegistration(app_url="http://127.0.0.1:1/app/"), limits_enabled=False, tls=tls)
    running.state.app_present = True
    verify = tls[0] if tls else True
    requests.post(f"{running.url}/_sandbox/seed", json={"users": USERS, "departments": 3}, timeout=10,
                  verify=verify).raise_for_status()
    hook = requests.post(f"{running.url}/_sandbox/webhook", json={"user_id": 1}, timeout=10, verify=verify).json()
    return running, hook


@pytest.fixture
def tls_portal(tmp_path, monkeypatch):
    cert, key = _certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    running, hook = _portal(tls=(cert, key))
    yield running, hook
    running.shutdown()


@pytest.fixture
def plain_portal():
    running, hook = _portal()
    yield running, hook
    running.shutdown()


# -- b24pysdk -------------------------------------------------------------------------------------------
def _sdk_client(running, hook):
    from b24pysdk import BitrixWebhook, Client

    return Client(BitrixWebhook(domain=running.state.domain, webhook_token=f"{hook['user_id']}/{hook['key']}"))


def test_b24pysdk_reads_every_user_fast_and_by_pages(tls_portal):
    running, hook = tls_portal
    client = _sdk_client(running, hook)
    everyone = sorted(int(u["ID"]) for u in client.user.get().as_list_fast().result)
    assert everyone == sorted(running.state.users)  # upper-case SORT/ORDER sort, they filter nothing
    assert sorted(int(u["ID"]) for u in client.user.get().as_list().result) == everyone


def test_b24pysdk_department_get_sorts_and_pages(tls_portal):
    running, hook = tls_portal
    client = _sdk_client(running, hook)
    departments = list(client.department.get().as_list().result)
    assert sorted(int(d["ID"]) for d in departments) == sorted(running.state.departments)
    by_name = client.department.get(sort="NAME", order="DESC").result
    assert [d["NAME"] for d in by_name] == sorted((d["NAME"] for d in running.state.departments.values()), reverse=True)


def test_b24pysdk_batch_halts_at_the_first_error(tls_portal):
    running, hook = tls_portal
    client = _sdk_client(running, hook)
    answer = client.call_batch({"first": client.user.current(), "broken": client.department.update(bitrix_id=999999, name="x"),
                                "never": client.user.current()}, halt=True).result
    assert "first" in answer.result and "broken" in answer.result_error and "never" not in answer.result


def test_b24pysdk_oauth_token_and_app_info(tls_portal):
    from b24pysdk import BitrixApp, BitrixToken, Client

    running, _ = tls_portal
    tokens = running.state.issue_tokens(1)
    app = BitrixApp(client_id=running.state.app.client_id, client_secret=running.state.app.client_secret)
    client = Client(BitrixToken(domain=running.state.domain, auth_token=tokens["access_token"],
                                refresh_token=tokens["refresh_token"], bitrix_app=app))
    assert client.user.current().result["ID"] == "1"
    # `/rest/app.info/` with a trailing slash is the same method.
    info = requests.post(f"{running.state.client_endpoint}app.info/", json={"auth": tokens["access_token"]}, timeout=10)
    assert info.status_code == 200 and info.json()["result"]


# -- fast_bitrix24 --------------------------------------------------------------------------------------
def test_fast_bitrix24_over_an_incoming_webhook(plain_portal):
    from fast_bitrix24 import Bitrix

    running, hook = plain_portal
    bitrix = Bitrix(hook["url"], verbose=False)
    users = bitrix.get_all("user.get")
    assert sorted(int(u["ID"]) for u in users) == sorted(running.state.users)
    # A batched call: each item carries fast_bitrix24's `__order` key, which must not become a filter.
    some = sorted(running.state.users)[:3]
    answers = bitrix.call("user.get", [{"ID": user_id} for user_id in some])
    assert [int(found[0]["ID"]) if isinstance(found, list) else int(found["ID"]) for found in answers] == some
    assert len(bitrix.get_all("department.get")) == len(running.state.departments)


def test_a_webhook_acts_as_its_user_with_its_scopes(plain_portal):
    running, hook = plain_portal
    limited = requests.post(f"{running.url}/_sandbox/webhook", json={"user_id": 1, "scopes": ["user"]}, timeout=10).json()
    assert requests.post(f"{limited['url']}profile", timeout=10).json()["result"]["ID"] == "1"
    refused = requests.post(f"{limited['url']}department.get", timeout=10)
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    wrong = requests.post(f"{running.state.client_endpoint}1/not-the-key/profile", timeout=10)
    assert wrong.status_code == 401


# -- python-1c-odata ------------------------------------------------------------------------------------
def test_python_1c_odata_reads_metadata_keys_counts_and_writes(zup):
    from python_1c_odata import Catalog, Document, Infobase, InformationRegister, ODataError, F, substringof

    async def scenario():
        async with Infobase(zup.url, "zup", "odata", "secret") as base:
            sets = await base.entity_sets()
            assert "Catalog_ФизическиеЛица" in sets and "Document_ЗаявкаНаОтпуск" in sets
            person_type = await base.entity_type_for_set("Catalog_ФизическиеЛица")
            assert "Фамилия" in {p.name for p in person_type.properties}
            persons = Catalog(base, "ФизическиеЛица")
            page = await persons.query(top=5, select=["Ref_Key", "Фамилия"], inlinecount=True)
            assert len(page.value) == 5 and page.count == len(zup.state.infobase.rows("Catalog_ФизическиеЛица"))
            one = page.value[0]
            read = await persons.get(one["Ref_Key"], select=["Ref_Key", "Фамилия"])
            assert read["Фамилия"] == one["Фамилия"]
            found = await persons.query(odata_filter=substringof(one["Фамилия"], "Фамилия"), select=["Ref_Key"])
            assert one["Ref_Key"] in {row["Ref_Key"] for row in found.value}
            heads = InformationRegister(base, "ПодразделенияОрганизацииРуководители")
            head = zup.state.infobase.rows("InformationRegister_ПодразделенияОрганизацииРуководители")[0]
            record = await heads.get({"Period": f"datetime'{head['Period']}'", "Подразделение_Key": head["Подразделение_Key"]})
            assert record["Руководитель_Key"] == head["Руководитель_Key"]  # a register record by its key
            states = InformationRegister(base, "ДанныеСостоянийСотрудников", record_type=True)
            assert await states.count(odata_filter=F("Сторно") == True) >= 0  # noqa: E712  (an OData boolean)
            drafts = Document(base, "ЗаявкаНаОтпуск")
            made = await drafts.create({"Date": "2027-01-10T00:00:00", "ФизическоеЛицо_Key": one["Ref_Key"],
                                        "Комментарий": "проверка"})
            assert made["Posted"] is False
            await drafts.delete(made["Ref_Key"])
            with pytest.raises(ODataError) as refused:
                await drafts.create({"Date": "2027-01-10T00:00:00", "Организация_Key": one["Ref_Key"]})  # not an attribute of the document
            assert refused.value.status == 400 and "Организация_Key" in refused.value.message
            with pytest.raises(ODataError) as expand:
                await persons.query(top=1, expand="КонтактнаяИнформация")
            assert expand.value.status == 400  # refused with an odata.error, not silently ignored

    asyncio.run(scenario())


# -- PyOData1C ------------------------------------------------------------------------------------------
def test_pyodata1c_models_tabular_paths_and_keys(zup):
    from pydantic import BaseModel, Field
    from requests.auth import HTTPBasicAuth

    from PyOData1C.http import Connection
    from PyOData1C.models import ODataModel
    from PyOData1C.odata import OData

    class Contact(BaseModel):
        kind: str = Field(alias="Тип")

    class Person(ODataModel):
        ref: str = Field(alias="Ref_Key")
        last_name: str = Field(alias="Фамилия")
        contacts: list[Contact] = Field(alias="КонтактнаяИнформация")
        nested_models = {"contacts": Contact}

    class Persons(OData):
        database = "zup"
        entity_model = Person
        entity_name = "Catalog_ФизическиеЛица"

    host = zup.url.removeprefix("http://")
    with Connection(host, "http", HTTPBasicAuth("odata", "secret")) as connection:
        first = Persons.manager(connection).top(3).all()
        assert len(first) == 3 and all(isinstance(c.kind, str) for p in first for c in p.contacts)
        again = Persons.manager(connection).get(first[0].ref)
        assert again.last_name == first[0].last_name
        wanted = [p.ref for p in first[:2]]
        chosen = Persons.manager(connection).filter(ref__in__guid=wanted).all()
        assert sorted(p.ref for p in chosen) == sorted(wanted)


def test_the_sandbox_zup_refuses_what_1c_would(zup):
    url = f"{zup.odata_url}Catalog_ФизическиеЛица"
    auth = ("odata", "secret")
    unknown_option = requests.get(url, params={"$apply": "x"}, auth=auth, timeout=10)
    assert unknown_option.status_code == 400 and "odata.error" in unknown_option.json()
    unknown_field = requests.get(url, params={"$select": "НетТакогоПоля"}, auth=auth, timeout=10)
    assert unknown_field.status_code == 400
    deleting = requests.delete(f"{url}(guid'{zup.state.infobase.rows('Catalog_ФизическиеЛица')[0]['Ref_Key']}')",
                               auth=auth, timeout=10)
    assert deleting.status_code == 403 and "odata.error" in deleting.json()
    missing = requests.get(f"{url}(guid'00000000-0000-0000-0000-00000000beef')", auth=auth, timeout=10)
    assert missing.status_code == 404 and "odata.error" in missing.json()
    assert ZUP_TODAY  # the sandbox's company is the suite's
