"""A sandbox 1C:ZUP 3.1 infobase: a generated company served over 1C's standard OData conventions,
which can also act as 1C in push mode (see README "The sandbox ZUP")."""
