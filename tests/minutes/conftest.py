from tests.feedback.world import world  # noqa: F401 - the shared fixture
from tests.minutes.scenario import scenario  # noqa: F401 - the issue-11 scenario (canaries)
