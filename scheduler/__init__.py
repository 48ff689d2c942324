"""The service and the glue: configuration, command line and jobs that call the rule engine."""
