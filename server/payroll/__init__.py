"""Payroll: time to timesheets, pay runs, stubs, direct deposit and the payroll journal."""
