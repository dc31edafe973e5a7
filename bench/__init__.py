"""How it is measured: runners, scenarios, measurement and the pytest plugin."""
