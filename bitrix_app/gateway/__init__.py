"""The Bitrix24 gateway: the only place outside the REST client that spells a Bitrix24 method or field.

- `fields`: the field table, the core's names ↔ Bitrix24's, both ways, date formats included;
- `reads`: the portal's state in the core's terms (`read_portal_state`);
- `writes`: the plan's operations in, batch commands out, answers back as outcomes (`PortalWriter`);
- `calendar`: absences as calendar events;
- `workflows`: the workflow action, its calls and answers, notifications, time tracking, list elements.
"""
