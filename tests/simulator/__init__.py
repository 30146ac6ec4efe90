"""Tests of the bundled VPS.org simulator, over plain HTTP."""
