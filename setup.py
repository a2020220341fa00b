"""Compiles the discrete-event engine's hot path with mypyc; the metadata is in pyproject.toml.

The compiled modules are the same Python files, type-checked and turned into C, and run two to three
times as fast; where no C compiler is found the install goes on and the same files run as Python.
"""

from mypyc.build import mypycify
from setuptools import setup

# The build environment holds only setuptools and mypy: the project's mypy settings name plugins it
# lacks, and libraries it does not have are read as untyped.
HOT_PATH = ["simulator/engine/replica.py", "simulator/engine/fleet.py"]
extensions = mypycify(["--config-file=", "--ignore-missing-imports", *HOT_PATH], group_name="simulator_engine")
for extension in extensions:
    extension.optional = True

setup(ext_modules=extensions)
