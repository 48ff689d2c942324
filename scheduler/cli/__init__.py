"""The admin's commands: each parses its options, calls one function below and prints."""
