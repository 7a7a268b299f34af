import os

from hypothesis import HealthCheck, settings

# Shared machines are noisy: no deadlines; CI runs derandomised so a failure reproduces.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
