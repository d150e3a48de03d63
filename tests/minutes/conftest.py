from tests.feedback.world import world  # noqa: F401 - the shared fixture
