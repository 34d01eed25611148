"""Request and response schemas, one family per resource."""
