"""The load driver and soak run of the resilience suite (T-NET-07); see driver.py."""
