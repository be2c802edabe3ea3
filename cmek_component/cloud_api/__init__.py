"""The CockroachDB Cloud API: the client for the CMEK operations (``client``), its HTTP layer
(``transport``), the typed views of what it reads (``models``), the client-side rate limit
(``rate_limit``) and the base URL rules (``api_url``)."""
