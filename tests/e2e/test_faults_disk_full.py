#!/usr/bin/python3
"""test_faults_disk_full.py - issue 8: the SQLite database's disk full under a
live flowtally; the cases (disk_full, full_at_exit), their oracles and their
loss figures are described and defined in test_faults_sqlite.py.

Needs root (mount -t tmpfs): exit 77 with a message when mounting is not
permitted. Env: FLOWTALLY, FT_BUILD_DIR (flowgen).
Exit: 0 passed, 1 failed, 77 skipped. Usage: test_faults_disk_full.py [case...]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ftlib  # noqa: E402
import test_faults_sqlite as tfs  # noqa: E402

if __name__ == "__main__":
    try:
        sys.exit(tfs.main(sys.argv, tfs.DISK_CASES))
    finally:
        ftlib.cleanup()
