"""`emprops doctor`: checks a configuration part by part and says what is wrong and what to do."""

from emprops.doctor.checks import CHECKS, Check, Finding, Verdict, run_checks

__all__ = ["CHECKS", "Check", "Finding", "Verdict", "run_checks"]
