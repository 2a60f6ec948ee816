#!/usr/bin/env python3
"""Runs the integration tests: every tests/integration/test_*.py module.

Usage: run.py [PATTERN...]   (PATTERN selects test modules by substring)
The binary under test comes from $VIGIE (default build/vigie)."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    patterns = sys.argv[1:]
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        if patterns and not any(p in name for p in patterns):
            continue
        suite.addTests(loader.loadTestsFromName(name[:-3]))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
