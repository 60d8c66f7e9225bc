"""The pure planner, with plain values (no database, no HTTP)."""
from datetime import date, timedelta

from hrsync.sync import operations as o
from hrsync.sync import plan as p
from hrsync.sync.model import Absence, Department, Employment, EmploymentKind, Organisation, PayrollSnapshot, Person, Position
from hrsync.sync.portal import Mappings, PortalDepartment, PortalState, PortalUser, WrittenAbsence, SyncSettings

TODAY = date(2026, 11, 25)
ROOT = PortalDepartment(1, "Компания", None, None)


def snapshot(persons=(), departments=None, absences=(), heads=()):
    org = Organisation("org", "ООО Тест")
    departments = departments or (Department("d1", "Бухгалтерия", None, "org"), Department("d2", "Расчёты", "d1", "org"))
    return PayrollSnapshot((org,), tuple(departments), (Position("pos", "Бухгалтер"),), tuple(persons), tuple(heads), tuple(absences))


def person(guid="p1", email="a@example.ru", hired=date(2020, 1, 1), terminated=None, dep="d2", employments=None):
    employments = employments or (Employment(f"e-{guid}", guid, "001", "org", dep, "pos", hired, terminated, EmploymentKind.MAIN),)
    return Person(guid, "Иванова", "Анна", "Петровна", date(1990, 5, 1), "F", email, ("+7 900 000-00-00",), employments)


def plan(snap, state=None, mappings=None, **settings):
    return p.plan_sync(snap, state or PortalState((ROOT,), ()), mappings or Mappings(), SyncSettings(today=TODAY, **settings))


def test_a_new_company_creates_parents_before_children_then_users():
    result = plan(snapshot([person()]))
    creates = result.of(o.CreateDepartment)
    assert [c.name for c in creates] == ["ООО Тест", "Бухгалтерия", "Расчёты"]
    assert creates[1].parent == o.NewRef("org") and creates[0].parent == 1
    user = result.of(o.CreateUser)[0]
    assert user.fields["payroll_id"] == "p1" and user.fields["position"] == "Бухгалтер"
    assert user.fields["birthday"] == "1990-05-01" and user.department_payroll_ids == ("d2",)


def test_future_hires_wait_for_their_lead_days():
    future = person(hired=TODAY + timedelta(days=5))
    assert plan(snapshot([future])).of(o.CreateUser) == []
    assert len(plan(snapshot([future]), future_hire_lead_days=5).of(o.CreateUser)) == 1


def test_a_termination_takes_effect_after_the_last_working_day():
    mapped = Mappings(departments={"org": 2, "d1": 3, "d2": 4}, persons={"p1": 10})
    departments = (ROOT, PortalDepartment(2, "ООО Тест", 1, None), PortalDepartment(3, "Бухгалтерия", 2, None),
                   PortalDepartment(4, "Расчёты", 3, None))
    user = PortalUser(10, True, "a@example.ru", "p1", {}, frozenset({4}))
    state = PortalState(departments, (user,))
    assert plan(snapshot([person(terminated=TODAY)]), state, mapped).of(o.DeactivateUser) == []
    dismissed = plan(snapshot([person(terminated=TODAY - timedelta(days=1))]), state, mapped).of(o.DeactivateUser)
    assert [d.user_id for d in dismissed] == [10]


def test_people_who_left_before_the_first_sync_are_not_created():
    assert plan(snapshot([person(terminated=date(2025, 1, 1))])).of(o.CreateUser) == []


def test_no_email_and_a_taken_email_are_reported_not_created():
    state = PortalState((ROOT,), (PortalUser(5, True, "a@example.ru", "", {}, frozenset({1})),))
    result = plan(snapshot([person(email=""), person("p2", email="a@example.ru")]), state)
    assert result.of(o.CreateUser) == []
    codes = {n.payroll_id: n.code for n in result.notices}
    assert codes == {"p1": "no_email", "p2": "email_match_proposed"}
    assert next(n for n in result.notices if n.payroll_id == "p2").proposal == {"user_id": 5}


def test_dismissal_guard_thresholds():
    departments = (ROOT, PortalDepartment(2, "ООО Тест", 1, None), PortalDepartment(3, "Бухгалтерия", 2, None),
                   PortalDepartment(4, "Расчёты", 3, None))
    people, users = [], []
    for i in range(30):
        people.append(person(f"p{i}", email=f"u{i}@x.ru", terminated=TODAY - timedelta(days=1) if i < 4 else None))
        users.append(PortalUser(100 + i, True, f"u{i}@x.ru", f"p{i}", {}, frozenset({4})))
    mapped = Mappings(departments={"org": 2, "d1": 3, "d2": 4}, persons={f"p{i}": 100 + i for i in range(30)})
    result = plan(snapshot(people), PortalState(departments, tuple(users)), mapped)
    assert result.dismissals == 4 and "more than the guard allows" in result.guard  # 4 > 10 % of 30
    assert plan(snapshot(people), PortalState(departments, tuple(users)), mapped, confirmed_dismissals=4).guard == ""


def test_a_reversed_absence_is_removed_and_a_new_one_added():
    departments = (ROOT, PortalDepartment(2, "ООО Тест", 1, None), PortalDepartment(3, "Бухгалтерия", 2, None),
                   PortalDepartment(4, "Расчёты", 3, None))
    mapped = Mappings(departments={"org": 2, "d1": 3, "d2": 4}, persons={"p1": 10})
    fields = p.user_fields(person(), person().employments[0], {"pos": "Бухгалтер"})
    state = PortalState(departments, (PortalUser(10, True, "a@example.ru", "p1", fields, frozenset({4})),),
                        (WrittenAbsence("a-old", 77, 10, "VACATION", "Отпуск", date(2026, 12, 1), date(2026, 12, 14)),))
    absences = (Absence("a-old", "doc1", "Document_Отпуск", "e-p1", "ОтпускОсновной", date(2026, 12, 1), date(2026, 12, 14), True),
                Absence("a-new", "doc2", "Document_Командировка", "e-p1", "Командировка", date(2026, 12, 20), date(2026, 12, 22)))
    result = plan(snapshot([person()], absences=absences), state, mapped)
    assert sorted(op.kind for op in result.operations) == ["AddAbsence", "RemoveAbsence"]
    added = result.of(o.AddAbsence)[0]
    assert (added.absence_type, added.name) == ("ASSIGNMENT", "Командировка")


def test_nothing_to_do_plans_nothing():
    departments = (ROOT, PortalDepartment(2, "ООО Тест", 1, None), PortalDepartment(3, "Бухгалтерия", 2, None),
                   PortalDepartment(4, "Расчёты", 3, None))
    mapped = Mappings(departments={"org": 2, "d1": 3, "d2": 4}, persons={"p1": 10})
    fields = p.user_fields(person(), person().employments[0], {"pos": "Бухгалтер"})
    state = PortalState(departments, (PortalUser(10, True, "a@example.ru", "p1", fields, frozenset({4})),))
    assert plan(snapshot([person()]), state, mapped).operations == ()


def test_excluded_subtrees_stay_out():
    result = plan(snapshot([person()]), mappings=Mappings(excluded_departments=frozenset({"d1"})))
    assert [c.name for c in result.of(o.CreateDepartment)] == ["ООО Тест"]
    assert result.of(o.CreateUser) == []


def test_a_disbanded_department_with_people_still_in_it_is_made_with_them_and_hr_is_told():
    gone = date(2026, 10, 1)
    departments = (Department("d1", "Бухгалтерия", None, "org"), Department("d2", "Расчёты", "d1", "org", disbanded=gone))
    result = plan(snapshot([person()], departments=departments))
    assert [c.name for c in result.of(o.CreateDepartment)] == ["ООО Тест", "Бухгалтерия", "Расчёты"]
    assert result.of(o.CreateUser)[0].department_payroll_ids == ("d2",)  # not "a mapping decision is pending"
    assert [n.code for n in result.notices] == ["disbanded_still_staffed"]
    empty = plan(snapshot([person(dep="d1")], departments=departments))
    assert [c.name for c in empty.of(o.CreateDepartment)] == ["ООО Тест", "Бухгалтерия"] and not empty.notices
