"""Intermediate-data coder conformance tests (a package so that module names cannot clash with other folders)."""
