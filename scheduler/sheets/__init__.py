"""Spreadsheets in and out (CSV and XLSX): tables, the roster sheet and its checks, and the
submissions sheet."""
