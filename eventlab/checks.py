"""What a check algorithm returns: the fields of an asset-check result (passed, metadata,
description, ...), built by plain functions and turned into Dagster results by the stages."""

CheckFields = dict[str, object]
