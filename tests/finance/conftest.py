import pytest


@pytest.fixture(autouse=True)
def _ledger_checked_after_each_test(request):
    """Every finance test ends with check_ledger's audit of what it left (before the
    test's transaction is rolled back); a test that breaks the books on purpose says so."""
    yield
    if request.node.get_closest_marker("ledger_broken_on_purpose"):
        return
    if request.node.get_closest_marker("django_db") is None:
        return
    from finance.audit import ledger_audit

    audit = ledger_audit()
    assert audit.ok, audit.problems
