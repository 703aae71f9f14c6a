"""The test suite is a regular package: ppi-python's wheel installs a top-level `tests`
package into site-packages, which would otherwise shadow this folder's `tests.*` helpers."""
