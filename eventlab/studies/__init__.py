"""Studies as data: the condition language a study spec states its event with (grammar, vocabulary,
vectorised evaluation), parsed and checked before anything runs and never evaluated as code."""
