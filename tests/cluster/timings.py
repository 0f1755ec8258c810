"""Times measured by the cluster tests (fault to detection, to recovery).

Printed at the end of the pytest run (see conftest.py) so that CI logs
carry the figures doc/testing.md reports.
"""

RECORDED = []


def record(what, seconds):
    RECORDED.append((what, seconds))
